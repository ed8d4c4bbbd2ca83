"""Intake benchmark: signed orders posted over loopback to one ``tributary serve`` process.

Starts a devnet (anvil + GPv2Settlement + funded traders), one server process (SQLite
book; every check on: EIP-712 signature recovery, balance and allowance read from anvil),
pre-signs the orders, then a SEPARATE load process posts them over keep-alive HTTP/1.1
connections in two phases:

1. max rate: every connection sends its next order as soon as the last one is answered;
   reports sustained orders/s;
2. fixed rate (default 1,000/s): order i is due at ``start + i/rate``; its latency counts
   from when it was due (so a server that falls behind is charged the queueing too);
   reports p50/p99.

Afterwards the server is stopped and the book file opened: every order that got a 201 must
be in it ("lost" counts those that are not). Run: ``python -m bench.intake --help``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any, cast

import msgspec

from devnet.anvil import Devnet
from devnet.gpv2 import deploy_gpv2
from intents.book import open_book
from intents.eip712 import domain_separator, order_digest
from intents.order import Order, OrderKind, SigningScheme
from intents.signing import recover_signer, sign
from intents.types import OrderUid, TokenAddress
from intents.wire import OrderCreation, decode_order_creation, encode
from settlement.deployment import Deployment

log = logging.getLogger(__name__)


# -- the orders -----------------------------------------------------------------------------


def presign_orders(
    deployment: Deployment, count: int, *, seed: int = 0, valid_for: int = 3600
) -> list[bytes]:
    """``count`` distinct, valid ``OrderCreation`` bodies: fill-or-kill market sell orders
    (so the limit-order cap does not apply) from the funded traders, over every token pair,
    signed with EIP-712."""
    rng = random.Random(seed)
    separator = domain_separator(deployment.chain_id, deployment.settlement)
    tokens = sorted(deployment.tokens.values())
    pairs = [(a, b) for a in tokens for b in tokens if a != b]
    keys = [(acct.address, bytes.fromhex(acct.private_key[2:])) for acct in deployment.accounts]
    valid_to = int(time.time()) + valid_for
    bodies = []
    for i in range(count):
        owner, key = keys[i % len(keys)]
        sell, buy = pairs[(i // len(keys)) % len(pairs)]
        order = Order(
            sell_token=TokenAddress(sell),
            buy_token=TokenAddress(buy),
            receiver=owner,
            sell_amount=10**18 + rng.randrange(10**15),
            buy_amount=9 * 10**17 + i,  # distinct per order: distinct UIDs
            valid_to=valid_to,
            app_data=bytes(32),
            fee_amount=10**15,
            kind=OrderKind.SELL,
            partially_fillable=False,
        )
        signature = sign(SigningScheme.EIP712, order_digest(separator, order), key)
        creation = OrderCreation.from_order(
            order, signing_scheme=SigningScheme.EIP712, signature=signature, from_=owner
        )
        bodies.append(encode(creation))
    return bodies


# -- the server process ---------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    """``tributary serve`` as a child process against a running chain."""

    deployment_file: Path
    database: str
    log_file: Path
    port: int = field(default_factory=free_port)
    extra: Sequence[str] = ()
    proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> ServerProcess:
        deployment = Deployment.load(self.deployment_file)
        cmd = [
            sys.executable, "-m", "solver.cli", "--log-level", "WARNING", "serve",
            "--host", "127.0.0.1", "--port", str(self.port),
            "--database", self.database,
            "--rpc-url", deployment.rpc_url,
            "--chain-id", str(deployment.chain_id),
            "--settlement", deployment.settlement,
            "--deployment", str(self.deployment_file),
            "--no-auctioneer",  # intake only: no auction rounds re-reading the open orders
            "--no-rate-limit",  # the load comes from one address, at hundreds of orders/s
            *self.extra,
        ]  # fmt: skip
        with self.log_file.open("ab") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"server exited with {self.proc.returncode}: "
                    f"{self.log_file.read_text()[-2000:]}"
                )
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(self.url + "/healthz", timeout=1) as response,
            ):
                if response.status == 200:
                    return self
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"server not healthy after {timeout}s")

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait; the exit code."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> None:
        """SIGKILL: no chance to flush anything."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.stop()


# -- the load process -----------------------------------------------------------------------


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; one request in flight at a time. Minimal
    response parsing (status line + Content-Length) so the client costs little CPU."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0 or self.waiter is None:
            return
        head = bytes(self.buffer[:end]).lower()
        at = head.find(b"content-length:")
        length = 0
        if at >= 0:
            line_end = head.find(b"\r\n", at)
            length = int(head[at + 15 : line_end if line_end >= 0 else len(head)])
        if len(self.buffer) < end + 4 + length:
            return
        body = bytes(self.buffer[end + 4 : end + 4 + length])
        del self.buffer[: end + 4 + length]
        waiter, self.waiter = self.waiter, None
        waiter.set_result((int(head[9:12]), body))

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(f"connection lost: {exc}"))

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return await self.waiter


class LoadResult(msgspec.Struct):
    statuses: list[int]
    latencies: list[float]  # seconds, per answered request
    accepted: list[str]  # UIDs of 201s
    elapsed: float
    errors: int
    cpu: float = 0.0  # the load process's own CPU seconds


def _request(body: bytes) -> bytes:
    return (
        b"POST /api/v1/orders HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    ) + body


async def _load(port: int, bodies: list[bytes], connections: int, rate: float | None) -> LoadResult:
    loop = asyncio.get_running_loop()
    raws = [_request(b) for b in bodies]
    result = LoadResult([], [], [], 0.0, 0)
    next_index = 0
    conns = [
        (await loop.create_connection(_Connection, "127.0.0.1", port))[1]
        for _ in range(connections)
    ]
    started, cpu_started = time.perf_counter(), time.process_time()

    async def worker(conn: _Connection) -> None:
        nonlocal next_index
        while next_index < len(raws):
            i = next_index
            next_index += 1
            due = started + i / rate if rate else time.perf_counter()
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                status, body = await conn.request(raws[i])
            except ConnectionError:
                result.errors += 1
                return
            result.latencies.append(time.perf_counter() - due)
            result.statuses.append(status)
            if status == 201:
                result.accepted.append(json.loads(body))

    await asyncio.gather(*(worker(c) for c in conns))
    result.elapsed = time.perf_counter() - started
    result.cpu = time.process_time() - cpu_started
    for conn in conns:
        if conn.transport is not None:
            conn.transport.close()
    return result


def run_load(port: int, bodies_file: str, connections: int, rate: float | None) -> bytes:
    """The load process's entry point (msgpack-encoded ``LoadResult``)."""
    import uvloop

    bodies = msgspec.msgpack.decode(Path(bodies_file).read_bytes(), type=list[bytes])
    return msgspec.msgpack.encode(uvloop.run(_load(port, bodies, connections, rate)))


def load_in_subprocess(
    port: int, bodies: list[bytes], connections: int, rate: float | None, workdir: Path
) -> LoadResult:
    path = workdir / f"bodies-{time.monotonic_ns()}.msgpack"
    path.write_bytes(msgspec.msgpack.encode(bodies))
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        raw = pool.submit(run_load, port, str(path), connections, rate).result()
    return msgspec.msgpack.decode(raw, type=LoadResult)


# -- the report -----------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in [0, 100])."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), -(-len(ordered) * q // 100)))
    return ordered[int(rank) - 1]


async def missing_from_book(database: str, uids: Sequence[str]) -> list[str]:
    """Which of ``uids`` the book does not hold."""
    book = await open_book(database)
    try:
        found = await asyncio.gather(*(book.get(OrderUid(bytes.fromhex(uid[2:]))) for uid in uids))
    finally:
        await book.close()
    return [uid for uid, stored in zip(uids, found, strict=True) if stored is None]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def recoveries_per_cpu_second(bodies: Sequence[bytes], separator: bytes) -> float:
    """How fast this machine recovers signers right now (hash + ECDSA recovery, per CPU
    second): a yardstick to scale the CPU figures of a run on a shared machine."""
    creations = [decode_order_creation(body) for body in bodies]
    started = time.process_time()
    for creation in creations:
        digest = order_digest(separator, creation.to_order(bytes(32)))
        recover_signer(SigningScheme.EIP712, digest, creation.signature_bytes)
    return len(creations) / (time.process_time() - started)


def _summary(name: str, result: LoadResult, sent: int, cpu: dict[str, float]) -> dict[str, Any]:
    statuses: dict[int, int] = {}
    for status in result.statuses:
        statuses[status] = statuses.get(status, 0) + 1
    return {
        "phase": name,
        "sent": sent,
        "answered": len(result.statuses),
        "statuses": statuses,
        "connection_errors": result.errors,
        "seconds": round(result.elapsed, 3),
        "orders_per_second": round(len(result.accepted) / result.elapsed, 1),
        "p50_ms": round(percentile(result.latencies, 50) * 1000, 2),
        "p99_ms": round(percentile(result.latencies, 99) * 1000, 2),
        "max_ms": round(max(result.latencies, default=float("nan")) * 1000, 2),
        # CPU per answered order: what the figures would be with a core to itself.
        **{
            f"{who}_cpu_us_per_order": round(seconds / max(1, len(result.statuses)) * 1e6)
            for who, seconds in cpu.items()
        },
    }


@contextlib.contextmanager
def _workdir(keep: str | None) -> Iterator[Path]:
    if keep:
        path = Path(keep)
        path.mkdir(parents=True, exist_ok=True)
        yield path
    else:
        with tempfile.TemporaryDirectory(prefix="tributary-intake-") as tmp:
            yield Path(tmp)


def intake(args: argparse.Namespace) -> dict[str, Any]:
    with _workdir(args.workdir) as workdir, Devnet() as devnet:
        deployment = deploy_gpv2(devnet)
        deployment_file = workdir / "devnet.json"
        deployment.save(deployment_file)
        database = f"sqlite:///{workdir / 'orderbook.sqlite3'}"
        fixed_count = int(args.rate * args.fixed_seconds)
        started = time.perf_counter()
        bodies = presign_orders(deployment, args.orders + fixed_count, seed=args.seed)
        log.info("signed %d orders in %.1fs", len(bodies), time.perf_counter() - started)
        server = ServerProcess(deployment_file, database, workdir / "server.log")
        with server:
            # Warm-up: connections, the reader threads and the chain client's session.
            warmup = min(200, args.orders // 4)
            warm = load_in_subprocess(server.port, bodies[:warmup], 8, None, workdir)
            accepted = list(warm.accepted)
            rest = bodies[warmup:]
            phases = []
            for name, chunk, rate in (
                ("max rate", rest[: args.orders - warmup], None),
                (f"fixed {args.rate:g}/s", rest[args.orders - warmup :], args.rate),
            ):
                pids = {"server": server.pid, "anvil": devnet.pid}
                before = {who: cpu_seconds(pid) for who, pid in pids.items() if pid}
                result = load_in_subprocess(server.port, chunk, args.connections, rate, workdir)
                used = {who: cpu_seconds(pid) - before[who] for who, pid in pids.items() if pid}
                used["client"] = result.cpu
                phases.append(_summary(name, result, len(chunk), used))
                accepted += result.accepted
                log.info("%s", phases[-1])
            exit_code = server.stop()
        lost = asyncio.run(missing_from_book(database, accepted))
        separator = domain_separator(deployment.chain_id, deployment.settlement)
        return {
            "command": "python -m bench.intake " + " ".join(args.argv),
            "cpus": os.cpu_count(),
            "recoveries_per_cpu_second": round(recoveries_per_cpu_second(bodies[:2000], separator)),
            "load_average_1m": round(os.getloadavg()[0], 2),
            "phases": phases,
            "accepted_total": len(accepted),
            "lost": len(lost),
            "server_exit_code": exit_code,
        }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bench intake", description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=20_000, help="orders in the max-rate phase")
    parser.add_argument("--rate", type=float, default=1000.0, help="fixed-rate phase, orders/s")
    parser.add_argument("--fixed-seconds", type=float, default=10.0, help="fixed-rate duration")
    parser.add_argument("--connections", type=int, default=64, help="keep-alive connections")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", default=None, help="keep the book and logs here")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    report = intake(args)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"intake benchmark ({report['cpus']} CPUs, load {report['load_average_1m']}, "
            f"{report['recoveries_per_cpu_second']} signature recoveries per CPU second)"
        )
        for phase in report["phases"]:
            print(
                f"  {phase['phase']:>14}: {phase['orders_per_second']:>8} orders/s accepted, "
                f"p50 {phase['p50_ms']} ms, p99 {phase['p99_ms']} ms, "
                f"statuses {phase['statuses']}; CPU per order: "
                f"server {phase['server_cpu_us_per_order']} us, "
                f"anvil {phase['anvil_cpu_us_per_order']} us, "
                f"client {phase['client_cpu_us_per_order']} us"
            )
        print(f"  accepted {report['accepted_total']}, lost {report['lost']}")
    ok = report["lost"] == 0 and all(set(p["statuses"]) == {201} for p in report["phases"])
    return 0 if ok else 1


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    raise SystemExit(main())
