"""The JSON-RPC client with its breaker against a node that hangs and comes back."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from settlement.breaker import Breaker, BreakerState
from settlement.jsonrpc import BatchingRpcClient, ChainDownError
from settlement.probe import probe_once


class HangingNode:
    """Answers ``eth_blockNumber`` batches; while ``hung`` it accepts and never answers."""

    def __init__(self) -> None:
        self.running = asyncio.Event()
        self.running.set()

    async def handle(self, request: web.Request) -> web.Response:
        batch = await request.json()
        await self.running.wait()
        replies = [{"jsonrpc": "2.0", "id": c["id"], "result": "0x10"} for c in batch]
        return web.json_response(replies)


@pytest.fixture
async def node() -> AsyncIterator[tuple[HangingNode, str]]:
    scripted = HangingNode()
    app = web.Application()
    app.router.add_post("/", scripted.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    sock = socket.create_server(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    yield scripted, f"http://127.0.0.1:{sock.getsockname()[1]}/"
    scripted.running.set()
    await runner.cleanup()


async def test_a_hung_node_fails_waiting_and_new_calls_until_a_probe_is_answered(
    node: tuple[HangingNode, str], caplog: pytest.LogCaptureFixture
) -> None:
    scripted, url = node
    breaker = Breaker(time.monotonic, slow_seconds=0.2, cooldown=0.05)
    caplog.set_level(logging.WARNING, "settlement.jsonrpc")
    async with BatchingRpcClient(url, timeout=60.0, breaker=breaker) as client:
        await client.probe()
        assert await client.call("eth_blockNumber", []) == "0x10"

        scripted.running.clear()
        waiting = asyncio.ensure_future(client.call("eth_blockNumber", []))
        await asyncio.sleep(0.05)
        await client.probe()  # no answer within 0.2 s: the breaker opens
        with pytest.raises(ChainDownError):
            await waiting  # failed now, not after the 60 s timeout
        with pytest.raises(ChainDownError, match="not answering"):
            await client.call("eth_chainId", [])
        with pytest.raises(ChainDownError):
            client.raise_if_down()
        for _ in range(3):  # the outage goes on: trial probes fail quietly
            await asyncio.sleep(0.06)
            await client.probe()
        assert breaker.state is BreakerState.OPEN

        scripted.running.set()
        await asyncio.sleep(0.06)
        await client.probe()
        assert breaker.state is BreakerState.CLOSED
        client.raise_if_down()
        assert await client.call("eth_blockNumber", []) == "0x10"
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 2, warnings  # one when it went down, one when it came back
    assert "is down" in warnings[0] and "is back" in warnings[1]


async def test_without_a_breaker_nothing_is_probed_or_refused(
    node: tuple[HangingNode, str],
) -> None:
    scripted, url = node
    async with BatchingRpcClient(url) as client:
        await client.probe()
        client.raise_if_down()
        scripted.running.clear()
        asyncio.get_running_loop().call_later(0.3, scripted.running.set)
        assert await client.call("eth_blockNumber", []) == "0x10"  # waited, not refused


async def test_a_refused_connection_opens_it_after_consecutive_failures() -> None:
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    breaker = Breaker(time.monotonic, failure_threshold=2)
    async with BatchingRpcClient(f"http://127.0.0.1:{port}/", breaker=breaker) as client:
        for _ in range(2):
            with pytest.raises(ConnectionError) as raised:
                await client.call("eth_chainId", [])
            assert not isinstance(raised.value, ChainDownError)  # it tried
        with pytest.raises(ChainDownError):
            await client.call("eth_chainId", [])
    assert json.dumps(breaker.state) == '"open"'


async def test_a_probe_reports_a_node_it_cannot_reach_or_that_does_not_answer(
    node: tuple[HangingNode, str],
) -> None:
    scripted, url = node
    sock = socket.create_server(("127.0.0.1", 0))
    closed = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    sock.close()
    refused = await asyncio.to_thread(probe_once, closed, 0.5, time.monotonic)
    assert refused.error is not None and "unreachable" in refused.error
    answered = await asyncio.to_thread(probe_once, url, 0.5, time.monotonic)
    assert answered.error is None and answered.ended >= answered.started
    scripted.running.clear()
    hung = await asyncio.to_thread(probe_once, url, 0.2, time.monotonic)
    assert hung.error == "no answer within 0.2 s"
