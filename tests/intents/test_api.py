"""The orderbook HTTP API over a real SQLite book and a fake chain: status codes, error
bodies, nothing written on rejection, concurrency, cancellation, events, metrics, OpenAPI."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intents.book import OrderBook, open_book
from intents.chain import FakeChain
from intents.eip712 import cancellations_digest, domain_separator, order_digest, order_uid
from intents.http import ApiSettings, create_app
from intents.http.keys import VALIDATOR
from intents.keccak import keccak256
from intents.order import Order, OrderKind, SigningScheme
from intents.signing import address_of, sign
from intents.types import ZERO_ADDRESS, Address, OrderUid, TokenAddress
from intents.validation import OrderValidator, ValidationPolicy
from intents.wire import OrderCreation, encode
from tests.intents.strategies import BUY, SELL, SIGNED_FIELDS

CHAIN_ID = 31337
SETTLEMENT = Address("0x" + "5e" * 20)
SEPARATOR = domain_separator(CHAIN_ID, SETTLEMENT)
DENIED = TokenAddress("0x" + "dd" * 20)
KEY = (1234567).to_bytes(32, "big")
OWNER = address_of(KEY)
OTHER_KEY = (7654321).to_bytes(32, "big")
OTHER = address_of(OTHER_KEY)
POOR_KEY = (999).to_bytes(32, "big")  # holds SELL but has not approved the vault relayer
POOR = address_of(POOR_KEY)
LIMIT_CAP = 3


def order(**changes: Any) -> Order:
    """A fill-or-kill market sell order valid for an hour; override fields with ``changes``."""
    fields: dict[str, Any] = {
        "sell_token": SELL,
        "buy_token": BUY,
        "receiver": ZERO_ADDRESS,
        "sell_amount": 10**18,
        "buy_amount": 2000 * 10**6,
        "valid_to": int(time.time()) + 3600,
        "app_data": bytes(32),
        "fee_amount": 10**15,
        "kind": OrderKind.SELL,
        "partially_fillable": False,
    }
    fields.update(changes)
    return Order(**fields)


def body(o: Order, key: bytes = KEY, *, with_from: bool = True, **json_changes: Any) -> bytes:
    """The signed ``OrderCreation`` JSON for ``o``; ``json_changes`` edit it after signing."""
    signature = sign(SigningScheme.EIP712, order_digest(SEPARATOR, o), key)
    creation = OrderCreation.from_order(
        o,
        signing_scheme=SigningScheme.EIP712,
        signature=signature,
        from_=address_of(key) if with_from else None,
    )
    doc = json.loads(encode(creation))
    doc.update(json_changes)
    return json.dumps(doc).encode()


def uid_of(o: Order, key: bytes = KEY) -> OrderUid:
    return order_uid(order_digest(SEPARATOR, o), address_of(key), o.valid_to)


@dataclass
class World:
    client: TestClient[web.Request, web.Application]
    book: OrderBook
    chain: FakeChain

    async def post(self, data: bytes) -> tuple[int, Any]:
        async with self.client.post("/api/v1/orders", data=data) as response:
            return response.status, await response.json()


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    book = await open_book(f"sqlite:///{tmp_path / 'book.sqlite3'}")
    chain = FakeChain()
    for owner in (OWNER, OTHER):
        chain.balances[(owner, SELL)] = 10**24
        chain.allowances[(owner, SELL)] = 10**24
    chain.balances[(POOR, SELL)] = 10**24
    validator = OrderValidator(
        domain_separator=SEPARATOR,
        chain=chain,
        book=book,
        policy=ValidationPolicy(
            denied_tokens=frozenset({DENIED}), max_limit_orders_per_owner=LIMIT_CAP
        ),
    )
    app = create_app(
        book=book,
        validator=validator,
        settings=ApiSettings(settlement=SETTLEMENT, heartbeat_seconds=0.2),
    )
    async with TestClient(TestServer(app)) as client:
        yield World(client, book, chain)
    await book.close()


# -- creating orders -----------------------------------------------------------------------


async def test_post_answers_201_with_the_uid_and_get_returns_the_order(world: World) -> None:
    o = order(receiver=Address("0x" + "77" * 20))
    status, answer = await world.post(body(o))
    assert status == 201
    assert answer == "0x" + uid_of(o).hex()
    assert await world.book.count() == 1

    async with world.client.get(f"/api/v1/orders/{answer}") as response:
        assert response.status == 200
        got = await response.json()
    sent = json.loads(body(o))
    for field in SIGNED_FIELDS:
        assert got[field] == sent[field], field
    assert got["uid"] == answer
    assert got["owner"] == OWNER
    assert got["status"] == "open"
    assert got["class"] == "market"
    assert got["settlementContract"] == SETTLEMENT


def _huge() -> bytes:
    doc = json.loads(body(order()))
    doc["appData"] = json.dumps({"pad": "x" * 17_000})
    return json.dumps(doc).encode()


def _malformed_signature() -> bytes:
    doc = json.loads(body(order()))
    doc["signature"] = doc["signature"][:-2] + "1d"  # v = 29
    return json.dumps(doc).encode()


BAD_INPUTS: dict[str, tuple[Callable[[], bytes], int, str, str | None]] = {
    # name: (body, status, errorType, a fragment the description must contain)
    "malformed JSON": (lambda: b'{"sellToken": ', 400, "MalformedJson", None),
    "not JSON at all": (lambda: b"\xff\xfe", 400, "MalformedJson", None),
    "amount as a number": (
        lambda: body(order(), sellAmount=10**18),
        422,
        "InvalidField",
        "$.sellAmount",
    ),
    "amount not decimal": (
        lambda: body(order(), buyAmount="0x10"),
        422,
        "InvalidField",
        "$.buyAmount",
    ),
    "amount over uint256": (
        lambda: body(order(), feeAmount=str(2**256)),
        422,
        "InvalidField",
        "$.feeAmount",
    ),
    "validTo over uint32": (lambda: body(order(), validTo=2**32), 422, "InvalidField", "$.validTo"),
    "negative validTo": (lambda: body(order(), validTo=-1), 422, "InvalidField", "$.validTo"),
    "bad kind": (lambda: body(order(), kind="swap"), 422, "InvalidField", "$.kind"),
    "bad signing scheme": (
        lambda: body(order(), signingScheme="rsa"),
        422,
        "InvalidField",
        "$.signingScheme",
    ),
    "bad address": (lambda: body(order(), sellToken="0x12"), 422, "InvalidField", "$.sellToken"),
    "unknown field": (lambda: body(order(), extra=1), 422, "InvalidField", "extra"),
    "missing field": (
        lambda: json.dumps({"sellToken": SELL}).encode(),
        422,
        "InvalidField",
        None,
    ),
    "body over 16 KiB": (_huge, 413, "PayloadTooLarge", None),
    "invalid v": (_malformed_signature, 400, "InvalidSignature", None),
    "signature of another order": (
        lambda: body(order(), sellAmount=str(10**18 + 1)),
        400,
        "WrongOwner",
        None,
    ),
    "from is not the signer": (lambda: body(order(), **{"from": OTHER}), 400, "WrongOwner", None),
    "zero amount": (lambda: body(order(sell_amount=0)), 400, "ZeroAmount", None),
    "same tokens": (lambda: body(order(buy_token=SELL)), 400, "SameBuyAndSellToken", None),
    "validTo too soon": (
        lambda: body(order(valid_to=int(time.time()) + 10)),
        400,
        "InsufficientValidTo",
        None,
    ),
    "validTo too far for a market order": (
        lambda: body(order(valid_to=int(time.time()) + 5 * 3600)),
        400,
        "ExcessiveValidTo",
        None,
    ),
    "denied token": (lambda: body(order(buy_token=DENIED)), 400, "UnsupportedToken", None),
    "no balance": (
        lambda: body(order(sell_token=BUY, buy_token=SELL)),
        400,
        "InsufficientBalance",
        None,
    ),
    "no allowance": (lambda: body(order(), POOR_KEY), 400, "InsufficientAllowance", None),
    "partially fillable market order": (
        lambda: body(order(partially_fillable=True)),
        400,
        "UnsupportedOrderType",
        None,
    ),
    "app data not JSON": (
        lambda: body(order(app_data=keccak256(b"nope")), appData="nope"),
        400,
        "InvalidAppData",
        None,
    ),
    "app data hash mismatch": (
        lambda: body(order(), appData="{}", appDataHash="0x" + "ab" * 32),
        400,
        "AppDataHashMismatch",
        None,
    ),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
async def test_bad_input_is_refused_and_nothing_is_written(world: World, case: str) -> None:
    make, status, error_type, fragment = BAD_INPUTS[case]
    before = await world.book.count()
    answer_status, answer = await world.post(make())
    assert (answer_status, answer["errorType"]) == (status, error_type), answer
    assert isinstance(answer["description"], str) and answer["description"]
    if fragment is not None:
        assert fragment in answer["description"]
    assert await world.book.count() == before


async def test_duplicate_is_refused_and_nothing_more_is_written(world: World) -> None:
    data = body(order())
    assert (await world.post(data))[0] == 201
    status, answer = await world.post(data)
    assert (status, answer["errorType"]) == (400, "DuplicatedOrder")
    assert await world.book.count() == 1


async def test_limit_orders_per_owner_are_capped(world: World) -> None:
    for i in range(LIMIT_CAP):
        assert (await world.post(body(order(fee_amount=0, buy_amount=1 + i))))[0] == 201
    status, answer = await world.post(body(order(fee_amount=0, buy_amount=99)))
    assert (status, answer["errorType"]) == (400, "TooManyLimitOrders")
    assert await world.book.count() == LIMIT_CAP
    # market orders are not limit orders: still accepted
    assert (await world.post(body(order())))[0] == 201


async def test_fifty_concurrent_posts_of_one_order_store_it_once(world: World) -> None:
    data = body(order())
    answers = await asyncio.gather(*(world.post(data) for _ in range(50)))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [400] * 49
    assert {a["errorType"] for s, a in answers if s == 400} == {"DuplicatedOrder"}
    assert await world.book.count() == 1


# -- reading orders -----------------------------------------------------------------------


async def test_unknown_uid_is_404_and_malformed_uid_400(world: World) -> None:
    async with world.client.get("/api/v1/orders/0x" + "ab" * 56) as response:
        assert response.status == 404
        assert (await response.json())["errorType"] == "OrderNotFound"
    async with world.client.get("/api/v1/orders/0x1234/status") as response:
        assert response.status == 400
        assert (await response.json())["errorType"] == "InvalidField"


async def test_status_follows_the_order(world: World) -> None:
    o = order()
    _, uid = await world.post(body(o))
    async with world.client.get(f"/api/v1/orders/{uid}/status") as response:
        assert await response.json() == {"type": "open"}
    await world.book.cancel([uid_of(o)], OWNER)
    async with world.client.get(f"/api/v1/orders/{uid}/status") as response:
        assert await response.json() == {"type": "cancelled"}


async def test_account_orders_are_paged_newest_first(world: World) -> None:
    uids = [(await world.post(body(order(buy_amount=10 + i))))[1] for i in range(3)]
    assert (await world.post(body(order(), OTHER_KEY)))[0] == 201
    pages = []
    for offset in (0, 2):
        url = f"/api/v1/account/{OWNER}/orders?offset={offset}&limit=2"
        async with world.client.get(url) as response:
            assert response.status == 200
            pages.append([o["uid"] for o in await response.json()])
    assert pages == [[uids[2], uids[1]], [uids[0]]]
    async with world.client.get(f"/api/v1/account/{OWNER}/orders?limit=0") as response:
        assert response.status == 400
        assert "limit" in (await response.json())["description"]
    async with world.client.get("/api/v1/account/0xnope/orders") as response:
        assert response.status == 422
        assert "owner" in (await response.json())["description"]


@pytest.mark.parametrize(
    "query",
    [
        "limit=" + "9" * 4300,
        "offset=" + "1" * 5000,
        "offset=" + "0" * 5000 + "1",  # leading zeros: a small number after all
        "limit=1001",
        "offset=-1",
        "limit=%C2%B2",  # a Unicode digit (superscript two)
        "limit=1e3",
    ],
)
async def test_bad_query_integers_are_400_invalid_field(world: World, query: str) -> None:
    async with world.client.get(f"/api/v1/account/{OWNER}/orders?{query}") as response:
        status, answer = response.status, await response.json()
    if query.startswith("offset=000"):
        assert (status, answer) == (200, [])
        return
    assert (status, answer["errorType"]) == (400, "InvalidField"), answer
    assert query.split("=")[0] in answer["description"]


# -- cancelling ---------------------------------------------------------------------------


def cancellation(uids: list[OrderUid], key: bytes) -> bytes:
    signature = sign(SigningScheme.EIP712, cancellations_digest(SEPARATOR, uids), key)
    return json.dumps(
        {
            "orderUids": ["0x" + uid.hex() for uid in uids],
            "signature": "0x" + signature.hex(),
            "signingScheme": "eip712",
        }
    ).encode()


async def test_owner_cancels_others_cannot(world: World) -> None:
    o = order()
    await world.post(body(o))
    uid = uid_of(o)
    async with world.client.delete("/api/v1/orders", data=cancellation([uid], OTHER_KEY)) as r:
        assert r.status == 401
        assert (await r.json())["errorType"] == "WrongOwner"
    stored = await world.book.get(uid)
    assert stored is not None and stored.status == "open"

    async with world.client.delete("/api/v1/orders", data=cancellation([uid], KEY)) as r:
        assert r.status == 200
    stored = await world.book.get(uid)
    assert stored is not None and stored.status == "cancelled"


async def test_cancelling_an_unknown_order_is_404(world: World) -> None:
    uid = uid_of(order())
    async with world.client.delete("/api/v1/orders", data=cancellation([uid], KEY)) as r:
        assert r.status == 404
        assert (await r.json())["errorType"] == "OrderNotFound"


# -- events -------------------------------------------------------------------------------


async def _next_event(content: Any, deadline: float = 5.0) -> tuple[str, dict[str, Any]]:
    """The next ``event:``/``data:`` frame, skipping comment lines (heartbeats)."""
    name, data = "", ""
    async with asyncio.timeout(deadline):
        while True:
            line = (await content.readline()).decode().rstrip("\n")
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data = line.removeprefix("data: ")
            elif line == "" and name:
                return name, json.loads(data)


async def test_events_stream_status_changes_of_one_owner(world: World) -> None:
    mine, theirs = order(), order(buy_amount=5)
    async with world.client.get(f"/api/v1/events?owner={OWNER}") as stream:
        assert stream.status == 200
        assert stream.headers["Content-Type"] == "text/event-stream"
        assert await stream.content.readline() == b": subscribed\n"
        assert (await world.post(body(theirs, OTHER_KEY)))[0] == 201
        assert (await world.post(body(mine)))[0] == 201
        name, data = await _next_event(stream.content)
        assert name == "status"
        assert data["uid"] == "0x" + uid_of(mine).hex()
        assert (data["owner"], data["status"]) == (OWNER, "open")

        await world.client.delete("/api/v1/orders", data=cancellation([uid_of(mine)], KEY))
        name, data = await _next_event(stream.content)
        assert (name, data["status"]) == ("status", "cancelled")


async def test_idle_event_stream_gets_heartbeats(world: World) -> None:
    async with world.client.get("/api/v1/events") as stream:
        assert await stream.content.readline() == b": subscribed\n"
        assert await stream.content.readline() == b"\n"
        async with asyncio.timeout(2):
            assert await stream.content.readline() == b": heartbeat\n"


async def test_shutdown_ends_open_event_streams(world: World) -> None:
    async with world.client.get("/api/v1/events") as stream:
        await stream.content.readline()
        started = time.monotonic()
        await world.client.server.close()
        async with asyncio.timeout(5):
            while await stream.content.readline():
                pass
        assert time.monotonic() - started < 5


async def test_events_refuse_a_bad_owner(world: World) -> None:
    async with world.client.get("/api/v1/events?owner=0x12") as response:
        assert response.status == 422
        assert "owner" in (await response.json())["description"]


# -- operations ---------------------------------------------------------------------------


async def test_healthz_reports_each_dependency(world: World, tmp_path: Path) -> None:
    async with world.client.get("/healthz") as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok", "checks": {"database": "ok"}}

    async def broken() -> None:
        raise ConnectionRefusedError("chain down")

    app = create_app(
        book=world.book,
        validator=world.client.app[VALIDATOR],
        settings=ApiSettings(settlement=SETTLEMENT),
        health_checks={"database": world.book.count, "chain": broken},
    )
    async with TestClient(TestServer(app)) as client, client.get("/healthz") as response:
        assert response.status == 503
        report = await response.json()
        assert report["status"] == "unhealthy"
        assert report["checks"]["database"] == "ok"
        assert "chain down" in report["checks"]["chain"]


async def test_metrics_count_requests_and_order_outcomes(world: World) -> None:
    assert (await world.post(body(order())))[0] == 201
    assert (await world.post(body(order(sell_amount=0))))[0] == 400
    assert (await world.post(b"{"))[0] == 400
    async with world.client.get("/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = await response.text()
    assert 'tributary_orders_total{outcome="accepted"} 1.0' in text
    assert 'tributary_orders_total{outcome="ZeroAmount"} 1.0' in text
    assert 'tributary_orders_total{outcome="MalformedJson"} 1.0' in text
    assert (
        'tributary_http_requests_total{method="POST",route="/api/v1/orders",status="400"} 2.0'
        in text
    )
    assert (
        'tributary_http_request_duration_seconds_count{method="POST",route="/api/v1/orders"} 3.0'
        in text
    )


async def test_openapi_documents_every_route(world: World) -> None:
    async with world.client.get("/openapi.json") as response:
        assert response.status == 200
        document = await response.json()
    assert document["openapi"].startswith("3.")
    served = {
        (route.resource.canonical, route.method.lower())
        for route in world.client.app.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert served == documented
    schemas = document["components"]["schemas"]
    assert {"OrderCreation", "OrderResponse", "OrderCancellations", "ErrorBody"} <= set(schemas)
    assert "sellAmount" in schemas["OrderCreation"]["properties"]
    for path, ops in document["paths"].items():
        for method, operation in ops.items():
            refusals = operation["responses"]
            assert {"408", "429"} <= set(refusals), (path, method)
            assert "Retry-After" in refusals["429"]["headers"]


async def test_unknown_route_and_wrong_method_answer_json(world: World) -> None:
    async with world.client.get("/api/v1/nope") as response:
        assert response.status == 404
        assert (await response.json())["errorType"] == "NotFound"
    async with world.client.put("/api/v1/orders") as response:
        assert response.status == 405
        assert (await response.json())["errorType"] == "MethodNotAllowed"


# -- fuzzing: whatever the body, never a 500 and never a half-written order -----------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
FIELDS = list(json.loads(body(order())))


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    edits=st.dictionaries(st.sampled_from([*FIELDS, "extra"]), json_values, max_size=3),
    drop=st.sets(st.sampled_from(FIELDS), max_size=2),
)
async def test_any_field_edit_is_answered_with_a_client_error_body(
    world: World, edits: dict[str, Any], drop: set[str]
) -> None:
    doc = json.loads(body(order()))
    doc.update(edits)
    for name in drop:
        doc.pop(name, None)
    before = await world.book.count()
    status, answer = await world.post(json.dumps(doc).encode())
    if status == 201:  # the edits kept the order valid (e.g. the same value again)
        assert await world.book.count() == before + 1
        return
    assert status in (400, 401, 413, 422), answer
    assert set(answer) == {"errorType", "description"}
    assert await world.book.count() == before


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(raw=st.binary(max_size=300))
async def test_arbitrary_bytes_are_a_400_or_422(world: World, raw: bytes) -> None:
    status, answer = await world.post(raw)
    assert status in (400, 422), answer
    assert answer["errorType"] in ("MalformedJson", "InvalidField")
