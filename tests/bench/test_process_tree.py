"""``bench.process_tree``: a process tree's memory is summed, not just the biggest process's."""

from __future__ import annotations

import sys

import pytest

from bench.process_tree import run_measured, tree

MIB = 2**20
# touch every page of 120 MiB, print, hold it a while
HOLD = "b = bytearray(120 * 2**20); b[::4096] = b'x' * len(b[::4096]); import time; time.sleep(0.5)"
PARENT = (
    "import subprocess, sys; "
    f"child = subprocess.Popen([sys.executable, '-c', {HOLD!r}]); "
    f"{HOLD}; child.wait(); print('done')"
)


def test_parent_and_child_are_summed() -> None:
    run = run_measured([sys.executable, "-c", PARENT], interval=0.02)
    assert run.returncode == 0 and run.stdout.strip() == b"done"
    assert run.processes == 2
    # each holds >= 120 MiB at once; a per-process figure sees only one of them
    assert run.peak_tree_rss >= 240 * MIB
    assert 120 * MIB <= run.largest < 200 * MIB
    assert run.peak_bound >= run.peak_tree_rss
    assert run.wall >= 0.5 and run.samples >= 2


def test_the_measuring_process_is_not_counted() -> None:
    # the kernel's ru_maxrss would report this process's 300 MiB for the small child
    held = bytearray(300 * MIB)
    held[::4096] = b"x" * len(held[::4096])
    run = run_measured([sys.executable, "-c", "import time; time.sleep(0.3)"])
    assert run.processes == 1
    assert run.peak_bound < 100 * MIB and run.peak_tree_rss < 100 * MIB
    del held


def test_failure_is_reported() -> None:
    run = run_measured([sys.executable, "-c", "import sys; sys.exit(3)"])
    assert run.returncode == 3


def test_tree_holds_the_root() -> None:
    import os

    assert tree(os.getpid())[0] == os.getpid()


def test_the_measured_process_imports_our_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    import solver
    from bench.scale import same_code_env

    # without it a shared venv's editable install decides which checkout the child runs
    monkeypatch.delenv("PYTHONPATH", raising=False)
    probe = "import os; os.chdir('/'); import solver; print(solver.__file__)"
    run = run_measured([sys.executable, "-c", probe], env=same_code_env())
    assert run.stdout.decode().strip() == solver.__file__
