"""Durability: SIGKILL ``tributary serve`` in the middle of a stream of posts; after a
restart on the same SQLite file every order that was answered 201 is there, and nothing is
half-written (re-posting the rest gives 201 or DuplicatedOrder, never anything else)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from bench.intake import ServerProcess, presign_orders
from settlement.deployment import Deployment

ORDERS = 300
KILL_AFTER = 100  # 201s seen before the kill
CONNECTIONS = 16


async def _stream(url: str, bodies: list[bytes], server: ServerProcess) -> set[str]:
    """Post ``bodies`` over several connections; SIGKILL the server once ``KILL_AFTER``
    orders were accepted. Returns the UIDs answered 201."""
    accepted: set[str] = set()
    queue = list(enumerate(bodies))
    killed = asyncio.Event()

    async def client(http: aiohttp.ClientSession) -> None:
        while queue and not killed.is_set():
            _, body = queue.pop()
            try:
                async with http.post(
                    "/api/v1/orders", data=body, headers={"Content-Type": "application/json"}
                ) as response:
                    answer = await response.json()
            except (aiohttp.ClientError, ConnectionError):
                return  # the server is gone
            assert response.status == 201, answer
            accepted.add(answer)
            if len(accepted) >= KILL_AFTER and not killed.is_set():
                killed.set()
                server.kill()

    connector = aiohttp.TCPConnector(limit=CONNECTIONS)
    async with aiohttp.ClientSession(url, connector=connector) as http:
        await asyncio.gather(*(client(http) for _ in range(CONNECTIONS)))
    assert killed.is_set(), "the stream ended before the kill"
    return accepted


async def _post(http: aiohttp.ClientSession, body: bytes) -> str:
    """``created`` or the errorType."""
    async with http.post(
        "/api/v1/orders", data=body, headers={"Content-Type": "application/json"}
    ) as response:
        answer = await response.json()
        return "created" if response.status == 201 else str(answer["errorType"])


@pytest.mark.slow  # two server start-ups and ~600 posts: ~30 s on a busy 2-core machine
async def test_every_acknowledged_order_survives_sigkill(
    devnet: Deployment, tmp_path: Path
) -> None:
    deployment_file = tmp_path / "devnet.json"
    devnet.save(deployment_file)
    database = f"sqlite:///{tmp_path / 'orderbook.sqlite3'}"
    bodies = presign_orders(devnet, ORDERS, seed=7)

    first = ServerProcess(deployment_file, database, tmp_path / "server.log").start()
    try:
        accepted = await _stream(first.url, bodies, first)
    finally:
        first.kill()
    assert first.proc is not None and first.proc.returncode == -9
    assert KILL_AFTER <= len(accepted) < ORDERS

    with ServerProcess(deployment_file, database, tmp_path / "server.log") as second:
        async with aiohttp.ClientSession(second.url) as http:
            for uid in accepted:
                async with http.get(f"/api/v1/orders/{uid}") as response:
                    assert response.status == 200, uid
                    assert (await response.json())["status"] == "open"
            # Every order is now either stored whole or not at all: posting all of them
            # again answers 201 (was never stored) or DuplicatedOrder (was), nothing else.
            outcomes = set(await asyncio.gather(*(_post(http, body) for body in bodies)))
            assert outcomes == {"created", "DuplicatedOrder"}
            async with http.get("/metrics") as response:
                text = await response.text()
            assert 'tributary_orders_total{outcome="DuplicatedOrder"}' in text
