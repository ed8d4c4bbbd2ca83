"""``tributary serve`` on its built-in devnet (seeded pools, funded traders, auctioneer every
second) as a child process, and the transactions the end-to-end tests send to its chain as
a trader; they post and follow orders with ``intents.client``."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.intake import free_port
from settlement.deployment import Deployment
from settlement.jsonrpc import BatchingRpcClient
from solver import dto
from solver.network import pools_from_deployment


@dataclass(frozen=True)
class ServedNode:
    url: str
    deployment: Deployment
    log: Path
    pool: dto.ConstantProductPool
    """The deepest seeded WETH pair."""

    @property
    def token(self) -> str:
        """The pool's token besides WETH."""
        (token,) = [t for t in self.pool.tokens if t != self.deployment.weth]
        return token

    def reserves(self) -> tuple[int, int]:
        """(WETH, token) reserves when the node started."""
        weth = int(self.pool.tokens[self.deployment.weth].balance)
        return weth, int(self.pool.tokens[self.token].balance)


@contextmanager
def served_node(workdir: Path, *extra: str) -> Iterator[ServedNode]:
    port = free_port()
    deployment_file = workdir / "devnet.json"
    log = workdir / "serve.log"
    serve = [
        sys.executable, "-m", "solver.cli", "serve", "--port", str(port),
        "--database", f"sqlite:///{workdir / 'book.sqlite3'}",
        "--deployment", str(deployment_file), "--seed-tokens", "2", "--auction-interval", "1",
        "--no-rate-limit", *extra,
    ]  # fmt: skip
    with log.open("wb") as out:
        node = subprocess.Popen(serve, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert node.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "node not healthy"
            with suppress(OSError), urllib.request.urlopen(url + "/healthz", timeout=1) as r:
                if r.status == 200:
                    break
            time.sleep(0.2)
        deployment = Deployment.load(deployment_file)
        pool = asyncio.run(_deepest_weth_pair(deployment, deployment_file))
        yield ServedNode(url, deployment, log, pool)
    finally:
        node.terminate()
        node.wait(20)


async def _deepest_weth_pair(deployment: Deployment, path: Path) -> dto.ConstantProductPool:
    async with BatchingRpcClient(deployment.rpc_url) as rpc:
        pools = await pools_from_deployment(path, rpc).liquidity()
    pairs = [
        p for p in pools if isinstance(p, dto.ConstantProductPool) and deployment.weth in p.tokens
    ]
    return max(pairs, key=lambda p: int(p.tokens[deployment.weth].balance))


async def send_tx(
    rpc: BatchingRpcClient, sender: str, to: str | None, data: bytes, *, gas: int | None = None
) -> dict[str, Any]:
    """Send a transaction from an unlocked devnet account (``to`` None: a deployment;
    ``gas``: a fixed limit instead of the node's estimate); its successful receipt."""
    tx: dict[str, str] = {"from": sender, "data": "0x" + data.hex()}
    if to is not None:
        tx["to"] = to
    if gas is not None:
        tx["gas"] = hex(gas)
    tx_hash = await rpc.call("eth_sendTransaction", [tx])
    for _ in range(200):
        receipt = await rpc.call("eth_getTransactionReceipt", [tx_hash])
        if receipt is not None:
            assert int(receipt["status"], 16) == 1, receipt
            return dict(receipt)
        await asyncio.sleep(0.05)
    raise AssertionError(f"transaction {tx_hash} not mined")
