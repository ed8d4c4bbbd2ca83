"""Run a command and measure it as a whole process tree: wall time and peak memory.

Worker processes are coming to the solver, so the memory of one process is not the figure:
a sampler thread walks ``/proc`` every ``interval`` seconds, finds the command's process and
all its descendants (by the parent pid in ``/proc/<pid>/stat``: this kernel has no
``/proc/<pid>/task/<tid>/children``) and sums their resident set sizes (``statm``). Two
figures come out of it, bracketing the truth:

* ``peak_tree_rss``: the largest sampled sum — what the tree held at once, but a peak
  shorter than ``interval`` can fall between samples, and pages a forked worker shares
  copy-on-write with its parent count once per process (so it errs high for forks);
* ``peak_bound``: the sum over every process seen of its own high-water mark (``VmHWM``, kept
  by the kernel for the process's memory since its ``exec``, read at each sample) — an upper
  bound, as the processes need not peak at once; only growth in the last ``interval`` before
  a process exits is missed.

Sampling starts when ``Popen`` returns, i.e. after the command's ``exec`` succeeded, so the
forked copy of this process is never counted. The kernel's ``ru_maxrss`` (``wait4``,
``RUSAGE_CHILDREN``) is deliberately not used: Linux carries the forking process's peak across
``exec`` into it, so a child of a 300 MiB bench reports >= 300 MiB however small it is.
No cgroup is needed and nothing outside the tree is counted.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")
PROC = Path("/proc")


@dataclass(frozen=True, slots=True)
class ProcessRun:
    """One measured run. Memory figures are bytes."""

    returncode: int
    wall: float
    stdout: bytes
    stderr: bytes
    peak_tree_rss: int
    peak_bound: int
    largest: int
    """The largest single process's high-water mark."""
    processes: int
    """How many distinct processes the tree had (the command included)."""
    samples: int


def _parents() -> dict[int, int]:
    """pid -> parent pid of every process visible in ``/proc``."""
    parents = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        # the command name (field 2) is in parentheses and may hold spaces
        fields = stat[stat.rfind(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
    return parents


def tree(root: int) -> list[int]:
    """``root`` and every live descendant of it."""
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def _rss(pid: int) -> int:
    """Resident bytes of ``pid`` (0 when it is gone or a zombie)."""
    try:
        return int((PROC / str(pid) / "statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _hwm(pid: int) -> int:
    """The kernel's peak resident bytes of ``pid`` (``VmHWM``; 0 when gone)."""
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return 0


class _Sampler(threading.Thread):
    def __init__(self, root: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.stop = threading.Event()
        self.peak = self.samples = 0
        self.hwm: dict[int, int] = {}

    def sample(self) -> None:
        total = 0
        for pid in tree(self.root):
            total += _rss(pid)
            self.hwm[pid] = max(self.hwm.get(pid, 0), _hwm(pid))
        self.peak = max(self.peak, total)
        self.samples += 1

    def run(self) -> None:
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(self.interval)


def run_measured(
    command: Sequence[str], interval: float = 0.05, env: Mapping[str, str] | None = None
) -> ProcessRun:
    """Run ``command`` to its end (output captured, environment ``env`` or ours), sampling
    its tree's memory."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env)
        sampler = _Sampler(process.pid, interval)
        sampler.start()
        process.wait()
        wall = time.perf_counter() - started
        sampler.stop.set()
        sampler.join()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    return ProcessRun(
        returncode=process.returncode,
        wall=wall,
        stdout=stdout,
        stderr=stderr,
        peak_tree_rss=sampler.peak,
        peak_bound=sum(sampler.hwm.values()),
        largest=max(sampler.hwm.values(), default=0),
        processes=len(sampler.hwm),
        samples=sampler.samples,
    )
