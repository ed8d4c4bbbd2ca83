"""The endpoints over the book's records, on both backends: trades v1/v2, orders of a
transaction, total surplus, app data, solver competitions (v1, v2), order status within
cow-sdk's enum, executedFee, native price, version; and CORS."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from intents.book import OrderBook
from intents.chain import FakeChain
from intents.http import ApiSettings, create_app
from intents.http.market import NativePricer
from intents.keccak import keccak256
from intents.order import OrderKind
from intents.types import TokenAddress
from intents.validation import OrderValidator
from intents.wire import to_hex
from tests.intents.test_api import SEPARATOR, SETTLEMENT
from tests.intents.test_records import competition, tx
from tests.intents.test_store import ALICE, BOB, NOW, book, fill, make_order

__all__ = ["book"]  # the two-backend book fixture of test_store

PRICED = TokenAddress("0x" + "d0" * 20)


@dataclass
class Api:
    client: TestClient[web.Request, web.Application]
    book: OrderBook

    async def get(self, path: str, **headers: str) -> tuple[int, Any]:
        async with self.client.get(path, headers=headers) as response:
            body = await response.read()
            kind = response.content_type
            return response.status, json.loads(body) if kind == "application/json" else body


async def _serve(
    book: OrderBook, *, pricer: NativePricer | None = None, **settings: Any
) -> AsyncIterator[Api]:
    validator = OrderValidator(domain_separator=SEPARATOR, chain=FakeChain(), book=book)
    app = create_app(
        book=book,
        validator=validator,
        settings=ApiSettings(settlement=SETTLEMENT, **settings),
        native_pricer=pricer,
    )
    async with TestClient(TestServer(app)) as client:
        yield Api(client, book)


@pytest.fixture
async def api(book: OrderBook) -> AsyncIterator[Api]:
    async def pricer(token: TokenAddress) -> int | None:
        return 25 * 10**16 if token == PRICED else None

    async for served in _serve(book, pricer=pricer):
        yield served


async def test_trades_v2_pages_newest_first_with_the_tx_hash(api: Api) -> None:
    order = make_order(1)
    await api.book.insert(order)
    await fill(api.book, order, 10**20, 10**17, tx=1)
    await fill(api.book, order, 3 * 10**20, 4 * 10**17, tx=2, log_index=5)
    status, trades = await api.get(f"/api/v2/trades?owner={ALICE}")
    assert status == 200
    assert [t["txHash"] for t in trades] == [to_hex(tx(2)), to_hex(tx(1))]
    assert trades[0] == {
        "blockNumber": 102,
        "logIndex": 5,
        "orderUid": to_hex(order.uid),
        "owner": ALICE,
        "sellToken": order.order.sell_token,
        "buyToken": order.order.buy_token,
        "sellAmount": str(3 * 10**20 + 7),  # the signed fee included
        "sellAmountBeforeFees": str(3 * 10**20),
        "buyAmount": str(4 * 10**17),
        "txHash": to_hex(tx(2)),
        "executedProtocolFees": [],
    }
    _, page = await api.get(f"/api/v2/trades?orderUid={to_hex(order.uid)}&offset=1&limit=1")
    assert [t["txHash"] for t in page] == [to_hex(tx(1))]
    _, every = await api.get(f"/api/v1/trades?orderUid={to_hex(order.uid)}")
    assert every == trades
    assert await api.get(f"/api/v2/trades?owner={BOB}") == (200, [])


@pytest.mark.parametrize(
    ("query", "error_type"),
    [
        ("", "InvalidTradeFilter"),
        (f"owner={ALICE}&orderUid=0x" + "00" * 56, "InvalidTradeFilter"),
        (f"owner={ALICE}&limit=0", "InvalidLimit"),
        (f"owner={ALICE}&limit=1001", "InvalidLimit"),
    ],
)
async def test_trades_refusals(api: Api, query: str, error_type: str) -> None:
    status, body = await api.get(f"/api/v2/trades?{query}")
    assert (status, body["errorType"]) == (400, error_type)


async def test_orders_of_a_transaction_and_their_fees(api: Api) -> None:
    order, other = make_order(1), make_order(2)
    for o in (order, other):
        await api.book.insert(o)
    await api.book.record_competition(competition(1, tx(1), order.uid, fee=1000))
    await fill(api.book, order, 10**20, 10**17, tx=1)
    await fill(api.book, other, 10**20, 10**17, tx=2)
    status, orders = await api.get(f"/api/v1/transactions/{to_hex(tx(1))}/orders")
    assert status == 200
    assert [o["uid"] for o in orders] == [to_hex(order.uid)]
    assert (orders[0]["executedFee"], orders[0]["executedFeeToken"]) == (
        str(7 + 1000),  # the signed fee taken plus the solver's
        order.order.sell_token,
    )
    _, single = await api.get(f"/api/v1/orders/{to_hex(other.uid)}")
    assert single["executedFee"] == "7"
    assert await api.get(f"/api/v1/transactions/{to_hex(tx(9))}/orders") == (200, [])
    status, body = await api.get("/api/v1/transactions/0x1234/orders")
    assert (status, body["errorType"]) == (400, "InvalidField")


async def test_total_surplus_in_native_wei(api: Api) -> None:
    sell = make_order(1, sell_amount=10**21, buy_amount=10**18)  # limit 0.001 per unit
    await api.book.insert(sell)
    await api.book.record_competition(competition(1, tx(1), sell.uid, fee=0))
    await fill(api.book, sell, 10**20, 3 * 10**17, tx=1)  # 10**17 at the limit
    # surplus 2e17 of the buy token (reference price 2e18: 2 native wei per unit)
    assert await api.get(f"/api/v1/users/{ALICE}/total_surplus") == (
        200,
        {"totalSurplus": str(4 * 10**17)},
    )
    assert await api.get(f"/api/v1/users/{BOB}/total_surplus") == (200, {"totalSurplus": "0"})


async def test_total_surplus_of_a_buy_order() -> None:
    from intents.http.trades import surplus
    from intents.records import TradeRecord

    order = make_order(1, kind=OrderKind.BUY, sell_amount=300, buy_amount=100)
    trade = TradeRecord(
        uid=order.uid,
        owner=ALICE,
        sell_token=order.order.sell_token,
        buy_token=order.order.buy_token,
        block_number=1,
        log_index=0,
        tx_hash=tx(1),
        executed_sell=200,
        executed_buy=100,
        executed_fee=0,
    )
    assert surplus(order, trade) == 100  # could have paid 300, paid 200


async def test_app_data_put_get_and_refusals(api: Api) -> None:
    document = '{"appCode":"test","metadata":{},"version":"1.3.0"}'
    digest = to_hex(keccak256(document.encode()))
    body = {"fullAppData": document}
    async with api.client.put(f"/api/v1/app_data/{digest}", json=body) as response:
        assert (response.status, await response.json()) == (201, digest)
    async with api.client.put(f"/api/v1/app_data/{digest}", json=body) as response:
        assert (response.status, await response.json()) == (200, digest)
    assert await api.get(f"/api/v1/app_data/{digest}") == (200, {"fullAppData": document})
    other = '{"appCode":"other"}'
    async with api.client.put("/api/v1/app_data", json={"fullAppData": other}) as response:
        assert (response.status, await response.json()) == (
            201,
            to_hex(keccak256(other.encode())),
        )
    async with api.client.put(f"/api/v1/app_data/{digest}", json={"fullAppData": other}) as r:
        assert (r.status, (await r.json())["errorType"]) == (400, "AppDataHashMismatch")
    async with api.client.put("/api/v1/app_data", json={"fullAppData": "[1]"}) as r:
        assert (r.status, (await r.json())["errorType"]) == (400, "AppDataInvalid")
    async with api.client.put("/api/v1/app_data", json={"appData": "{}"}) as r:
        assert (r.status, (await r.json())["errorType"]) == (422, "InvalidField")
    status, missing = await api.get("/api/v1/app_data/0x" + "ab" * 32)
    assert (status, missing["errorType"]) == (404, "NotFound")


async def test_solver_competition_v2_and_v1(api: Api) -> None:
    uid = make_order(1).uid
    record = competition(7, tx(3), uid, fee=5)
    await api.book.record_competition(record)
    status, v2 = await api.get("/api/v2/solver_competition/7")
    assert status == 200
    assert v2["auctionId"] == 7
    assert (v2["auctionStartBlock"], v2["auctionDeadlineBlock"]) == (1007, 1010)
    assert v2["transactionHashes"] == [to_hex(tx(3))]
    assert v2["auction"] == {"orders": [to_hex(uid)], "prices": {PRICED: str(2 * 10**18)}}
    winner = v2["solutions"][0]
    assert winner["isWinner"] and winner["txHash"] == to_hex(tx(3))
    assert winner["orders"] == [
        {"id": to_hex(uid), "sellAmount": str(10**20), "buyAmount": str(3 * 10**17)}
    ]
    assert (winner["score"], winner["referenceScore"], winner["ranking"]) == ("123", "100", 1)
    assert await api.get(f"/api/v2/solver_competition/by_tx_hash/{to_hex(tx(3))}") == (200, v2)
    assert await api.get("/api/v2/solver_competition/latest") == (200, v2)
    _, v1 = await api.get("/api/v1/solver_competition/7")
    assert v1["competitionSimulationBlock"] == 1007
    assert [s["solver"] for s in v1["solutions"]] == ["baseline", "optimal"]
    assert "txHash" not in v1["solutions"][0]
    for path in ("/api/v2/solver_competition/8", f"/api/v1/solver_competition/{2**64}"):
        status, body = await api.get(path)
        assert (status, body["errorType"]) == (404, "NotFound"), path
    for path in ("/api/v2/solver_competition/-1", "/api/v2/solver_competition/by_tx_hash/0x1"):
        status, body = await api.get(path)
        assert (status, body["errorType"]) == (400, "InvalidField"), path


async def test_status_stays_within_the_sdk_enum(api: Api) -> None:
    traded, expired, cancelled = (
        make_order(1),
        make_order(2, valid_to=int(NOW) - 10),
        make_order(3),
    )
    for o in (traded, expired, cancelled):
        await api.book.insert(o)
    await api.book.cancel([cancelled.uid], ALICE)
    await api.book.record_competition(competition(1, tx(1), traded.uid, fee=0))
    await fill(api.book, traded, 10**20, 10**17, tx=1)
    _, status = await api.get(f"/api/v1/orders/{to_hex(traded.uid)}/status")
    assert status["type"] == "traded"
    # by score ascending, the winner last; the loser did not include the order
    assert status["value"] == [
        {"solver": "0x" + "5a" * 20},
        {
            "solver": "0x" + "5a" * 20,
            "executedAmounts": {"sell": str(10**20), "buy": str(3 * 10**17)},
        },
    ]
    assert await api.get(f"/api/v1/orders/{to_hex(expired.uid)}/status") == (
        200,
        {"type": "open"},
    )
    assert await api.get(f"/api/v1/orders/{to_hex(cancelled.uid)}/status") == (
        200,
        {"type": "cancelled"},
    )


async def test_native_price_and_version(api: Api) -> None:
    assert await api.get(f"/api/v1/token/{PRICED}/native_price") == (200, {"price": 0.25})
    status, body = await api.get("/api/v1/token/0x" + "99" * 20 + "/native_price")
    assert (status, body["errorType"]) == (404, "NoLiquidity")
    status, text = await api.get("/api/v1/version")
    assert status == 200 and text.startswith(b"tributary ")


async def test_native_price_without_a_market_is_503(book: OrderBook) -> None:
    async for api in _serve(book):
        status, body = await api.get(f"/api/v1/token/{PRICED}/native_price")
        assert (status, body["errorType"]) == (503, "NativePriceUnavailable")


PREFLIGHT = {
    "Origin": "https://dapp.example",
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type",
}


async def test_cors_preflight_and_post_from_any_origin(api: Api) -> None:
    async with api.client.options("/api/v1/orders", headers=PREFLIGHT) as response:
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
        allowed = response.headers["Access-Control-Allow-Headers"].lower()
        assert {"content-type", "authorization"} <= set(allowed.replace(" ", "").split(","))
    origin = {"Origin": "https://dapp.example", "Content-Type": "application/json"}
    async with api.client.post("/api/v1/orders", data=b"{}", headers=origin) as response:
        assert response.status == 422  # a refusal the page can read
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    async with api.client.get("/healthz", headers=origin) as response:
        assert "Access-Control-Allow-Origin" not in response.headers


async def test_cors_with_listed_origins(book: OrderBook) -> None:
    async for api in _serve(book, cors_origins=("https://dapp.example",)):
        async with api.client.options("/api/v2/trades", headers=PREFLIGHT) as response:
            assert response.status == 204
            assert response.headers["Access-Control-Allow-Origin"] == "https://dapp.example"
            assert "Origin" in response.headers.getall("Vary")
        stranger = {**PREFLIGHT, "Origin": "https://evil.example"}
        async with api.client.options("/api/v2/trades", headers=stranger) as response:
            assert response.status == 403
            assert (await response.json())["errorType"] == "OriginNotAllowed"
            assert "Access-Control-Allow-Origin" not in response.headers
        async with api.client.get(
            f"/api/v2/trades?owner={ALICE}", headers={"Origin": "https://evil.example"}
        ) as response:
            assert "Access-Control-Allow-Origin" not in response.headers


async def test_cors_off(book: OrderBook) -> None:
    async for api in _serve(book, cors_origins=()):
        async with api.client.options("/api/v1/orders", headers=PREFLIGHT) as response:
            assert response.status == 405
            assert "Access-Control-Allow-Origin" not in response.headers


def test_trade_wire_names_are_cows() -> None:
    from intents.http.openapi import openapi_document

    fields = set(openapi_document()["components"]["schemas"]["Trade"]["properties"])
    assert fields == {
        "blockNumber", "logIndex", "orderUid", "owner", "sellToken", "buyToken",
        "sellAmount", "sellAmountBeforeFees", "buyAmount", "txHash", "executedProtocolFees",
    }  # fmt: skip
