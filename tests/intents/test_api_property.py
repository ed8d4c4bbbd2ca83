"""Property tests of the whole intake over a real socket (the node's ``LimitedAppRunner``
over a real SQLite book): documents drawn from the published ``OrderCreation`` schema
(many of them re-signed, so they reach the deep checks), and raw bytes as the body and as
the whole request. Whatever arrives: never a 5xx, and a refusal writes 0 rows."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from intents.appdata import resolve_app_data
from intents.book import OrderBook, open_book
from intents.chain import FakeChain
from intents.eip712 import order_digest
from intents.errors import OrderError
from intents.http import ApiSettings, create_app
from intents.http.openapi import openapi_document
from intents.http.server import HttpLimits, LimitedAppRunner
from intents.order import SigningScheme
from intents.signing import sign
from intents.validation import OrderValidator, ValidationPolicy
from intents.wire import decode_order_creation
from tests.intents.strategies import BUY, SELL
from tests.intents.test_api import KEY, OWNER, SEPARATOR, SETTLEMENT, body, order

TIMEOUT = 1.0
"""Header and body timeout of the server under test: an incomplete request costs this."""

_SCHEMAS = openapi_document()["components"]["schemas"]


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid under a JSON schema of the kinds our document uses."""
    if "$ref" in schema:
        return from_schema(_SCHEMAS[schema["$ref"].rsplit("/", 1)[-1]])
    if "anyOf" in schema:
        return st.one_of([from_schema(s) for s in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema["type"]
    if kind == "string" and "pattern" in schema:
        return st.from_regex(re.compile(schema["pattern"]), fullmatch=True)
    if kind == "string":
        return st.text(max_size=40) | st.sampled_from(
            ["{}", '{"version":"1.0.0"}', "0x" + "00" * 32]
        )
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    raise NotImplementedError(schema)


def _object(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    properties = schema["properties"]
    required = {name: from_schema(properties[name]) for name in schema["required"]}
    optional = {
        name: from_schema(prop) for name, prop in properties.items() if name not in required
    }
    return st.fixed_dictionaries(required, optional=optional)


# Valid under the schema; tokens and validity mostly ones the fake chain and clock can pass.
creations = _object(_SCHEMAS["OrderCreation"]).map(dict)
_LIKELY = {
    "sellToken": st.just(SELL),
    "buyToken": st.just(BUY),
    "validTo": st.integers(120, 30 * 86400).map(lambda s: int(time.time()) + s),
    "sellAmount": st.integers(1, 10**22).map(str),
    "buyAmount": st.integers(1, 10**22).map(str),
    "feeAmount": st.integers(0, 10**18).map(str),
    "appData": st.sampled_from(["{}", '{"version":"1.0.0"}', "0x" + "00" * 32]),
    "appDataHash": st.none(),
    "sellTokenBalance": st.just("erc20"),
    "buyTokenBalance": st.just("erc20"),
    "from": st.sampled_from([None, OWNER]),
}
likely = st.fixed_dictionaries(_LIKELY) | st.fixed_dictionaries({}, optional=_LIKELY)
wrong = st.none() | st.booleans() | st.integers() | st.text(max_size=12) | st.lists(st.none())


def _resigned(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` signed by ``KEY`` (eip712), if it decodes and its app data resolves."""
    try:
        creation = decode_order_creation(json.dumps(doc).encode())
        app_data = resolve_app_data(creation.app_data, creation.app_data_hash)
    except OrderError:
        return doc
    o = creation.to_order(app_data.hash)
    signature = sign(SigningScheme.EIP712, order_digest(SEPARATOR, o), KEY)
    return doc | {"signature": "0x" + signature.hex(), "signingScheme": "eip712"}


@dataclass
class Server:
    url: str
    port: int
    book: OrderBook


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    book = await open_book(f"sqlite:///{tmp_path / 'book.sqlite3'}")
    chain = FakeChain()
    chain.balances[(OWNER, SELL)] = chain.allowances[(OWNER, SELL)] = 10**24
    chain.balances[(OWNER, BUY)] = chain.allowances[(OWNER, BUY)] = 10**24
    validator = OrderValidator(
        domain_separator=SEPARATOR,
        chain=chain,
        book=book,
        policy=ValidationPolicy(max_limit_orders_per_owner=5),
    )
    app = create_app(
        book=book,
        validator=validator,
        settings=ApiSettings(settlement=SETTLEMENT, body_timeout_seconds=TIMEOUT),
    )
    runner = LimitedAppRunner(app, HttpLimits(header_timeout=TIMEOUT), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = int(runner.addresses[0][1])
    try:
        yield Server(f"http://127.0.0.1:{port}", port, book)
    finally:
        await runner.cleanup()
        await book.close()


async def _post(server: Server, data: bytes) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(server.url + "/api/v1/orders", data=data) as response,
    ):
        return response.status, await response.json(content_type=None)


async def _check(server: Server, data: bytes) -> str:
    """Post ``data``: accepted and stored, or a 4xx error body and nothing stored; the
    outcome (for ``--hypothesis-show-statistics``)."""
    before = await server.book.count()
    status, answer = await _post(server, data)
    if status == 201:
        assert await server.book.count() == before + 1
        return "201 accepted"
    assert 400 <= status < 500, answer
    assert set(answer) == {"errorType", "description"}
    assert await server.book.count() == before
    return f"{status} {answer['errorType']}"


FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(
    doc=creations,
    steer=likely,
    edits=st.just({})
    | st.dictionaries(
        st.sampled_from([*_SCHEMAS["OrderCreation"]["properties"], "x"]), wrong, max_size=2
    ),
    drop=st.sets(st.sampled_from(_SCHEMAS["OrderCreation"]["required"]), max_size=1),
    resign=st.sampled_from([True, True, True, False]),
)
async def test_schema_documents_never_5xx_and_refusals_write_nothing(
    server: Server,
    doc: dict[str, Any],
    steer: dict[str, Any],
    edits: dict[str, Any],
    drop: set[str],
    resign: bool,
) -> None:
    doc = doc | steer
    if resign:
        doc = _resigned(doc)
    doc |= edits
    for name in drop:
        doc.pop(name, None)
    event(await _check(server, json.dumps(doc).encode()))


async def test_the_schema_strategy_reaches_acceptance(server: Server) -> None:
    """The generator's documents can pass: a signed one built the same way is accepted
    (else the property above would only ever see refusals)."""
    doc = json.loads(body(order())) | {"from": None}
    assert await _check(server, json.dumps(_resigned(doc)).encode()) == "201 accepted"
    assert await server.book.count() == 1


@FUZZ
@given(raw=st.binary(max_size=400))
async def test_raw_bodies_never_5xx_and_write_nothing(server: Server, raw: bytes) -> None:
    event(await _check(server, raw))


_METHODS = st.sampled_from(["GET", "POST", "DELETE", "PUT", "HEAD", "OPTIONS", "PATCH"])
_PATHS = st.sampled_from(
    ["/api/v1/orders", "/api/v1/orders/0x12", "/api/v1/account/0x1/orders?limit=99999999999",
     "/api/v1/events", "/healthz", "/metrics", "/openapi.json", "/api/v1/quote", "*", "/%"]
) | st.text(max_size=30).map(lambda s: "/" + s)  # fmt: skip
_FRAMING = st.sampled_from(
    [(b"Transfer-Encoding", b"chunked"), (b"Content-Encoding", b"gzip"),
     (b"Content-Encoding", b"deflate"), (b"Content-Encoding", b"br"),
     (b"Expect", b"100-continue"), (b"Connection", b"upgrade"), (b"Upgrade", b"websocket")]
)  # fmt: skip
_HEADER = _FRAMING | st.tuples(
    st.binary(min_size=1, max_size=20).filter(lambda b: b":" not in b and b"\r\n" not in b),
    st.binary(max_size=40).filter(lambda b: b"\r" not in b and b"\n" not in b),
)


@st.composite
def requests(draw: st.DrawFn) -> bytes:
    """A whole request: arbitrary bytes, or an HTTP/1.1-shaped one with arbitrary parts."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=300)) + b"\r\n\r\n"
    payload = draw(st.binary(max_size=200) | st.just(body(order())))
    head = [f"{draw(_METHODS)} {draw(_PATHS)} HTTP/1.1".encode("utf-8", "surrogateescape")]
    if draw(st.integers(0, 9)):  # HTTP/1.1 wants a Host: without one, a 400 at once
        head.append(b"Host: node")
    head += [name + b": " + value for name, value in draw(st.lists(_HEADER, max_size=4))]
    head.append(b"Content-Length: %d" % len(payload))
    return b"\r\n".join(head) + b"\r\n\r\n" + payload


async def _exchange(server: Server, request: bytes) -> bytes:
    """What the server sends back: until it closes, or falls silent after answering (a
    kept-alive connection, an event stream), or the header timeout's 408."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    answer = b""
    try:
        writer.write(request)
        while True:
            chunk = await asyncio.wait_for(reader.read(65536), 0.3 if answer else TIMEOUT + 5)
            if not chunk:
                break
            answer += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    finally:
        writer.close()
    return answer


_STATUS = re.compile(rb"HTTP/1\.[01] (\d{3}) ")


@FUZZ
@given(request=requests())
async def test_raw_requests_never_5xx_and_write_nothing(server: Server, request: bytes) -> None:
    before = await server.book.count()
    answer = await _exchange(server, request)
    statuses = [int(m.group(1)) for m in _STATUS.finditer(answer)]
    if request.lstrip(b"\r\n"):  # (empty lines before a request line are ignored)
        assert statuses, answer[:300]  # every request is answered, none just dropped
    assert all(s < 500 for s in statuses), answer[:500]
    created = statuses.count(201)
    assert await server.book.count() == before + created
