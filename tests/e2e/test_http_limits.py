"""The node's HTTP limits on a real socket (``run_node`` on the session's devnet): a
slow-loris client is closed within the header timeout, the connection cap refuses the one
too many, the server's own 400s come in the JSON error shape without a traceback, and a
client over its write rate gets 429 with ``Retry-After``."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest

from bench.intake import free_port
from intents.http.ratelimit import Rate, RateLimits
from intents.http.server import LINGER_SECONDS, HttpLimits
from settlement.deployment import Deployment
from solver.http_flags import HttpServing
from solver.node import NodeConfig, run_node

HEADER_TIMEOUT = 2.0
MAX_CONNECTIONS = 6
WRITE_BURST = 3


@dataclass(frozen=True)
class Node:
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", self.port)


@pytest.fixture(scope="module")
async def node(devnet: Deployment, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Node]:
    path = tmp_path_factory.mktemp("http_limits")
    config = NodeConfig(
        host="127.0.0.1",
        port=free_port(),
        database=f"sqlite:///{path / 'book.sqlite3'}",
        rpc_url=devnet.rpc_url,
        chain_id=devnet.chain_id,
        settlement=devnet.settlement,
        vault_relayer=devnet.vault_relayer,
        http=HttpServing(
            limits=HttpLimits(header_timeout=HEADER_TIMEOUT, max_connections=MAX_CONNECTIONS),
            body_timeout=HEADER_TIMEOUT,
            rate_limits=RateLimits(
                writes=Rate(per_second=0.2, burst=WRITE_BURST), trust_proxy=True
            ),
        ),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(run_node(config, stop))
    served = Node(config.port)
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            try:
                async with http.get(served.url + "/healthz") as response:
                    if response.status == 200:
                        break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)
        else:
            pytest.fail("node never answered /healthz")
    yield served
    stop.set()
    await asyncio.wait_for(task, 30)


def _split(raw: bytes) -> tuple[int, dict[str, str], object]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
    return status, headers, json.loads(body) if body else None


async def _answer_of(node: Node, request: bytes) -> tuple[int, dict[str, str], object]:
    reader, writer = await node.connect()
    try:
        writer.write(request)
        await writer.drain()
        return _split(await asyncio.wait_for(reader.read(), 10))  # until the server closes
    finally:
        writer.close()


@dataclass
class Trickled:
    answer: bytes
    answered_after: float | None
    closed_after: float | None


async def _trickle(node: Node, start: bytes, byte: bytes) -> Trickled:
    """Send ``start``, then ``byte`` every second while the server says nothing, for up
    to 30 s (far past the timeouts); what came back and when."""
    reader, writer = await node.connect()
    started = time.monotonic()
    writer.write(start)
    answer = b""
    answered = closed = None
    try:
        for _ in range(30):
            try:
                chunk = await asyncio.wait_for(reader.read(4096), 1.0)
            except TimeoutError:
                writer.write(byte)
                await writer.drain()
                continue
            if not chunk:
                closed = time.monotonic() - started
                break
            answer += chunk
            answered = answered or time.monotonic() - started
    except ConnectionError:
        closed = time.monotonic() - started
    finally:
        writer.close()
    return Trickled(answer, answered, closed)


async def test_a_slow_loris_is_closed_within_the_header_timeout(node: Node) -> None:
    got = await _trickle(node, b"GET /healthz HTTP/1.1\r\nHost: node\r\nX-Slow: ", b"a")
    assert got.closed_after is not None, "the trickling connection was kept open"
    assert got.closed_after < HEADER_TIMEOUT + 3.0
    status, _, body = _split(got.answer)
    assert status == 408
    assert isinstance(body, dict) and body["errorType"] == "RequestTimeout"


async def test_a_slow_loris_after_a_first_request_is_closed_too(node: Node) -> None:
    full = b"GET /healthz HTTP/1.1\r\nHost: node\r\n\r\n"
    got = await _trickle(node, full + b"GET /healthz HTTP/1.1\r\nX-Slow: ", b"a")
    assert got.closed_after is not None and got.closed_after < HEADER_TIMEOUT + 3.0
    first, _, second = got.answer.partition(b"HTTP/1.1 408")
    assert first.startswith(b"HTTP/1.1 200") and second  # answered, then timed out


async def test_a_trickled_body_is_cut_off_at_the_body_timeout(node: Node) -> None:
    head = b"DELETE /api/v1/orders HTTP/1.1\r\nHost: node\r\nContent-Length: 1000\r\n\r\n{"
    got = await _trickle(node, head, b" ")
    assert got.answered_after is not None and got.answered_after < HEADER_TIMEOUT + 3.0
    # the rest of the body is drained for LINGER_SECONDS, then the connection is closed
    assert got.closed_after is not None
    assert got.closed_after < HEADER_TIMEOUT + LINGER_SECONDS + 3.0
    status, headers, body = _split(got.answer)
    assert (status, headers.get("connection")) == (408, "close")
    assert isinstance(body, dict) and body["errorType"] == "RequestTimeout"


async def test_the_connection_over_the_cap_is_refused(node: Node) -> None:
    held = [await node.connect() for _ in range(MAX_CONNECTIONS)]
    try:
        await asyncio.sleep(0.2)  # all accepted before the next
        status, _, body = await _answer_of(node, b"")
        assert status == 503
        assert isinstance(body, dict) and body["errorType"] == "TooManyConnections"
    finally:
        for _, writer in held:
            writer.close()
    await asyncio.sleep(0.2)
    status, _, body = await _answer_of(
        node, b"GET /healthz HTTP/1.1\r\nHost: node\r\nConnection: close\r\n\r\n"
    )
    assert status == 200  # released connections free their places


_POST = b"POST /api/v1/orders HTTP/1.1\r\nHost: node\r\n"


@pytest.mark.parametrize(
    ("request_bytes", "error_type"),
    [
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: node\r\n\r\n", "LineTooLong"),
        (b"GET /healthz HTTP/1.1\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n", "LineTooLong"),
        (b"GET /healthz HTTP/1.1\r\nno colon here\r\n\r\n", "MalformedRequest"),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", "MalformedRequest"),
        (b"GET /healthz HTTP/9.x\r\n\r\n", "MalformedRequest"),
        (_POST + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", "MalformedRequest"),
        (_POST + b"Content-Encoding: gzip\r\nContent-Length: 5\r\n\r\nabcde", "MalformedRequest"),
        (_POST + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nabcde", "MalformedRequest"),
    ],
    ids=[
        "long request line",
        "long header",
        "bad header",
        "TLS hello",
        "bad version",
        "bad chunk size",
        "not gzip",
        "two lengths",
    ],
)
async def test_unparsable_requests_get_a_json_400_and_no_traceback(
    node: Node, request_bytes: bytes, error_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        status, headers, body = await _answer_of(node, request_bytes)
    assert status == 400
    assert headers["content-type"].startswith("application/json")
    assert isinstance(body, dict) and set(body) == {"errorType", "description"}
    assert body["errorType"] == error_type
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING]


async def test_a_client_hanging_up_mid_body_is_no_warning(
    node: Node, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        _, writer = await node.connect()
        writer.write(_POST + b"Transfer-Encoding: chunked\r\n\r\n50\r\n{")
        await writer.drain()
        await asyncio.sleep(0.3)
        writer.close()
        await asyncio.sleep(0.5)
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING]


async def test_a_client_over_its_write_rate_gets_429_with_retry_after(node: Node) -> None:
    statuses = []
    # behind the (trusted) proxy: the client is the address the proxy appended last
    client = {"X-Forwarded-For": "203.0.113.9, 198.51.100.7"}
    async with aiohttp.ClientSession(headers=client) as http:
        for _ in range(WRITE_BURST + 1):
            async with http.post(node.url + "/api/v1/orders", data=b"{") as response:
                statuses.append(response.status)
                answer = await response.json()
                retry_after = response.headers.get("Retry-After")
        async with http.get(node.url + "/healthz") as response:
            assert response.status == 200  # reads have their own bucket
    assert statuses == [400] * WRITE_BURST + [429]
    assert answer["errorType"] == "TooManyRequests"
    assert retry_after is not None and int(retry_after) >= 1
