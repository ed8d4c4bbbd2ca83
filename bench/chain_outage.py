"""How fast the node fails, and recovers, when its chain node hangs.

A devnet with GPv2 and a node (``run_node``: the orderbook API with its chain breaker, no
auctioneer) in this process. Each trial stops anvil (SIGSTOP) and posts orders: the first
is in flight as the node hangs (it waits for the breaker's probe to give up), the rest are
refused at once; ``/healthz`` is asked; then anvil resumes (SIGCONT) and the time until
``/healthz`` is 200 again is taken. Every refusal must be ``503 ChainUnavailable``.

    python -m bench chain-outage [--trials 5] [--posts 6]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.intake import free_port
from devnet.anvil import Devnet
from devnet.gpv2 import deploy_gpv2
from intents.client import ApiError, TributaryClient
from intents.wire import OrderCreation
from settlement.deployment import Deployment
from solver.demo import limit_order, wallet_of
from solver.network import NetworkSettings
from solver.node import NodeConfig, run_node


@dataclass(frozen=True, slots=True)
class Trial:
    first: float
    """Seconds to the 503 of the order POST in flight as the chain hung."""
    others: list[float]
    """Seconds to each later POST's 503."""
    health: float
    """Seconds to ``/healthz``'s 503."""
    recovered: float
    """Seconds from SIGCONT to ``/healthz`` 200."""


def node_config(
    d: Deployment, database: str, rpc_url: str | None = None, network: NetworkSettings | None = None
) -> NodeConfig:
    """A node on a free port serving ``d``'s chain (through ``rpc_url``, default its own)."""
    return NodeConfig(
        host="127.0.0.1",
        port=free_port(),
        database=database,
        rpc_url=rpc_url or d.rpc_url,
        chain_id=d.chain_id,
        settlement=d.settlement,
        vault_relayer=d.vault_relayer,
        network=network,
        genesis_hash=d.genesis_hash,
    )


@asynccontextmanager
async def serving(config: NodeConfig) -> AsyncIterator[str]:
    """``run_node(config)`` in this process, healthy, until the context exits; its URL."""
    stop = asyncio.Event()
    node = asyncio.create_task(run_node(config, stop))
    url = f"http://127.0.0.1:{config.port}"
    async with aiohttp.ClientSession() as http:
        deadline = time.monotonic() + 20
        while True:
            if node.done():
                node.result()  # raises why it stopped
            if time.monotonic() > deadline:
                raise TimeoutError("the node did not become healthy")
            try:
                if await _healthz(http, url) == 200:
                    break
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    try:
        yield url
    finally:
        stop.set()
        await node


def _orders(d: Deployment, count: int) -> list[OrderCreation]:
    token = next(iter(d.tokens.values()))
    accounts = d.accounts
    return [
        wallet_of(d, accounts[i % len(accounts)]).sign_order(
            limit_order(accounts[i % len(accounts)].address, token, d.weth, 10**18 + i, 10**15)
        )
        for i in range(count)
    ]


async def _refused(node: TributaryClient, order: OrderCreation) -> float:
    """Seconds until ``order`` is refused ``503 ChainUnavailable`` (anything else raises)."""
    started = time.monotonic()
    try:
        uid = await node.post_order(order)
    except ApiError as error:
        if (error.status, error.error_type) != (503, "ChainUnavailable"):
            raise AssertionError(f"expected 503 ChainUnavailable, got {error}") from error
        return time.monotonic() - started
    raise AssertionError(f"expected 503 ChainUnavailable, the order was taken: {uid}")


async def _healthz(http: aiohttp.ClientSession, url: str) -> int:
    async with http.get(url + "/healthz") as response:
        return response.status


async def _trial(node: TributaryClient, pid: int, orders: list[OrderCreation]) -> Trial:
    http, url = node.session, node.base_url
    os.kill(pid, signal.SIGSTOP)
    try:
        times = [await _refused(node, order) for order in orders]
        started = time.monotonic()
        if await _healthz(http, url) != 503:
            raise AssertionError("/healthz is not 503 while the chain is stopped")
        health = time.monotonic() - started
    finally:
        os.kill(pid, signal.SIGCONT)
    started = time.monotonic()
    while await _healthz(http, url) != 200:  # noqa: ASYNC110 - polling another process
        await asyncio.sleep(0.02)
    return Trial(times[0], times[1:], health, time.monotonic() - started)


async def _run(trials: int, posts: int) -> list[Trial]:
    with Devnet() as devnet, tempfile.TemporaryDirectory() as tmp:
        d = deploy_gpv2(devnet, ("TKA",))
        assert devnet.pid is not None
        config = node_config(d, f"sqlite:///{Path(tmp) / 'book.sqlite3'}")
        orders = _orders(d, 1 + trials * posts)
        results = []
        async with serving(config) as url, TributaryClient(url) as node:
            await node.post_order(orders[0])  # the chain answers: taken
            for i in range(trials):
                chunk = orders[1 + i * posts : 1 + (i + 1) * posts]
                results.append(await _trial(node, devnet.pid, chunk))
                await asyncio.sleep(0.5)
    return results


def report(trials: Sequence[Trial]) -> str:
    firsts = [t.first for t in trials]
    others = [x for t in trials for x in t.others]
    recovered = [t.recovered for t in trials]
    lines = [
        f"{len(trials)} outages (SIGSTOP/SIGCONT of anvil)",
        "",
        "| what | median s | max s |",
        "| --- | --- | --- |",
        f"| POST in flight as the chain hangs -> 503 | {statistics.median(firsts):.3f} "
        f"| {max(firsts):.3f} |",
    ]
    if others:
        lines.append(
            f"| later POSTs -> 503 | {statistics.median(others):.3f} | {max(others):.3f} |"
        )
    health = [t.health for t in trials]
    lines.append(f"| /healthz -> 503 | {statistics.median(health):.3f} | {max(health):.3f} |")
    lines.append(
        f"| SIGCONT -> /healthz 200 | {statistics.median(recovered):.3f} | {max(recovered):.3f} |"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench chain-outage", description=__doc__)
    parser.add_argument("--trials", type=int, default=5, help="outages to cause")
    parser.add_argument("--posts", type=int, default=6, help="order POSTs per outage")
    args = parser.parse_args(argv)
    print(report(asyncio.run(_run(args.trials, max(args.posts, 1)))))
    return 0
