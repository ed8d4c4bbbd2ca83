"""What held connections cost the API server, and how its limits bound that (issue 13).

``python -m bench http-limits [--connections 3000] [--hold 15]``: starts a devnet and
``tributary serve`` twice — once with the limits lifted to what aiohttp alone gives (no
header timeout, 3,630 s keep-alive, no connection cap) and once with the defaults — and
opens ``--connections`` slow-loris connections to each (a request line and the start of a
header, then nothing). It reports how many the server accepted, how many it still held
after 2 s and after ``--hold`` seconds, and its resident memory and open descriptors at
those moments (``/proc/PID``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.intake import ServerProcess, _workdir
from devnet.anvil import Devnet
from devnet.gpv2 import deploy_gpv2

LIFTED = (
    "--header-timeout", "1000000", "--keepalive-timeout", "3630",
    "--max-connections", "1000000",
)  # fmt: skip
"""The server as aiohttp alone keeps connections (what ``main`` did before issue 13)."""
SLOW_HEAD = b"GET /healthz HTTP/1.1\r\nHost: bench\r\nX-Slow: "


def rss_and_fds(pid: int) -> tuple[int, int]:
    """Resident bytes and open descriptors of a process."""
    status = Path(f"/proc/{pid}/status").read_text()
    rss_kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
    return rss_kib * 1024, len(os.listdir(f"/proc/{pid}/fd"))


@dataclass
class Held:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    closed_at: float | None = None
    answer: bytes = b""


async def _watch(held: Held) -> None:
    with contextlib.suppress(ConnectionError):
        while chunk := await held.reader.read(4096):
            held.answer += chunk
    held.closed_at = time.monotonic()


async def _slow_loris(port: int, count: int, pid: int, hold: float) -> dict[str, Any]:
    idle_rss, idle_fds = rss_and_fds(pid)
    started = time.monotonic()
    connections: list[Held] = []
    failed = 0
    for _ in range(count):
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            failed += 1
            continue
        writer.write(SLOW_HEAD)
        connections.append(Held(reader, writer))
    watchers = [asyncio.create_task(_watch(c)) for c in connections]
    opened = time.monotonic() - started

    def open_now() -> int:
        return sum(c.closed_at is None for c in connections)

    await asyncio.sleep(2.0)
    early_rss, early_fds = rss_and_fds(pid)
    early_open = open_now()
    await asyncio.sleep(max(0.0, hold - 2.0))
    late_rss, late_fds = rss_and_fds(pid)
    late_open = open_now()
    refused = sum(c.answer.startswith(b"HTTP/1.1 503") for c in connections)
    timed_out = sum(c.answer.startswith(b"HTTP/1.1 408") for c in connections)
    reset = sum(c.closed_at is not None and not c.answer for c in connections)
    for c in connections:
        c.writer.close()
    for w in watchers:
        w.cancel()
    await asyncio.gather(*watchers, return_exceptions=True)
    mib = 1024 * 1024
    return {
        "connections": count,
        "connect_failed": failed,
        "opened_seconds": round(opened, 2),
        "refused_503": refused,
        "closed_408": timed_out,
        "closed_unanswered": reset,
        "held_after_2s": early_open,
        f"held_after_{hold:g}s": late_open,
        "idle_rss_mib": round(idle_rss / mib, 1),
        "rss_after_2s_mib": round(early_rss / mib, 1),
        f"rss_after_{hold:g}s_mib": round(late_rss / mib, 1),
        "idle_fds": idle_fds,
        "fds_after_2s": early_fds,
        f"fds_after_{hold:g}s": late_fds,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    report: dict[str, Any] = {}
    with _workdir(args.workdir) as workdir, Devnet() as devnet:
        deployment_file = workdir / "devnet.json"
        deploy_gpv2(devnet).save(deployment_file)
        for name, extra in (("lifted (aiohttp alone)", LIFTED), ("defaults", ())):
            database = f"sqlite:///{workdir / (name.split()[0] + '.sqlite3')}"
            log = workdir / f"{name.split()[0]}.log"
            with ServerProcess(deployment_file, database, log, extra=extra) as server:
                assert server.pid is not None
                report[name] = asyncio.run(
                    _slow_loris(server.port, args.connections, server.pid, args.hold)
                )
    return report


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bench http-limits", description=__doc__)
    parser.add_argument("--connections", type=int, default=3000, help="slow-loris connections")
    parser.add_argument(
        "--hold", type=float, default=15.0, help="seconds to hold them (past the 10 s timeout)"
    )
    parser.add_argument("--workdir", default=None, help="keep the logs and books here")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    print(json.dumps(run(args), indent=2))
    return 0
