"""The batching JSON-RPC client against a scripted HTTP server (no chain needed)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web

from settlement.jsonrpc import BatchingRpcClient, ChainReadError

Handler = Callable[[list[dict[str, Any]]], tuple[int, bytes]]


class ScriptedNode:
    """Answers each POSTed batch with ``handler(batch)``; records what it received."""

    def __init__(self) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.handler: Handler = self.echo

    @staticmethod
    def echo(batch: list[dict[str, Any]]) -> tuple[int, bytes]:
        replies = [{"jsonrpc": "2.0", "id": c["id"], "result": c["params"]} for c in batch]
        return 200, json.dumps(replies[::-1]).encode()  # any order is allowed

    async def handle(self, request: web.Request) -> web.Response:
        batch = await request.json()
        self.batches.append(batch)
        status, body = self.handler(batch)
        return web.Response(status=status, body=body, content_type="application/json")


@pytest.fixture
async def node() -> AsyncIterator[tuple[ScriptedNode, str]]:
    scripted = ScriptedNode()
    app = web.Application()
    app.router.add_post("/", scripted.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    sock = socket.create_server(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    yield scripted, f"http://127.0.0.1:{sock.getsockname()[1]}/"
    await runner.cleanup()


async def test_calls_within_the_window_share_one_batch_and_replies_match_by_id(
    node: tuple[ScriptedNode, str],
) -> None:
    scripted, url = node
    async with BatchingRpcClient(url, window=0.25) as client:
        results = await asyncio.gather(*(client.call("m", [i]) for i in range(20)))
    assert results == [[i] for i in range(20)]
    assert len(scripted.batches) == 1 and len(scripted.batches[0]) == 20


async def test_a_full_batch_goes_out_without_waiting_for_the_window(
    node: tuple[ScriptedNode, str],
) -> None:
    scripted, url = node
    async with BatchingRpcClient(url, window=60, max_batch=5) as client:
        results = await asyncio.wait_for(
            asyncio.gather(*(client.call("m", [i]) for i in range(10))), timeout=5
        )
    assert results == [[i] for i in range(10)]
    assert [len(b) for b in scripted.batches] == [5, 5]


async def test_a_cancelled_caller_does_not_disturb_one_sharing_its_call(
    node: tuple[ScriptedNode, str],
) -> None:
    _, url = node
    async with BatchingRpcClient(url, window=0.1) as client:
        first = asyncio.create_task(client.call("m", [1]))
        second = asyncio.create_task(client.call("m", [1]))
        await asyncio.sleep(0.01)
        first.cancel()
        assert await second == [1]
        with pytest.raises(asyncio.CancelledError):
            await first


async def test_call_errors_are_per_call(node: tuple[ScriptedNode, str]) -> None:
    scripted, url = node

    def one_fails(batch: list[dict[str, Any]]) -> tuple[int, bytes]:
        replies: list[dict[str, Any]] = []
        for c in batch:
            if c["params"] == ["bad"]:
                error = {"code": 3, "message": "execution reverted", "data": "0x"}
                replies.append({"jsonrpc": "2.0", "id": c["id"], "error": error})
            else:
                replies.append({"jsonrpc": "2.0", "id": c["id"], "result": "ok"})
        return 200, json.dumps(replies).encode()

    scripted.handler = one_fails
    async with BatchingRpcClient(url, window=0.05) as client:
        good, bad = await asyncio.gather(
            client.request("m", ["good"]), client.request("m", ["bad"])
        )
        assert good.result == "ok" and good.error is None
        assert bad.error is not None and bad.error.is_revert
        with pytest.raises(ChainReadError, match="execution reverted"):
            await client.call("m", ["bad"])


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (500, b"oops", "HTTP 500"),
        (200, b"not json", "malformed"),
        (
            200,
            b'{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"too big"}}',
            "refused the batch: too big",
        ),
        (200, b"[]", "no reply"),
    ],
)
async def test_a_failed_batch_fails_every_caller_in_it(
    node: tuple[ScriptedNode, str], status: int, body: bytes, message: str
) -> None:
    scripted, url = node
    scripted.handler = lambda _batch: (status, body)
    async with BatchingRpcClient(url, window=0.05) as client:
        outcomes = await asyncio.gather(
            client.call("m", [1]), client.call("m", [2]), return_exceptions=True
        )
    assert all(isinstance(o, ChainReadError) and message in str(o) for o in outcomes)
