"""POST /api/v1/quote: CoW's request and response shapes over an injected quoter."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from intents.book import OrderBook, open_book
from intents.chain import FakeChain
from intents.eip712 import domain_separator
from intents.errors import ErrorCode
from intents.http import ApiSettings, create_app
from intents.http.quote import (
    DEFAULT_VALID_FOR,
    QuoteError,
    QuoteQuery,
    Quoter,
    QuoteResult,
)
from intents.keccak import keccak256
from intents.order import OrderKind
from intents.quotes import StoredQuote
from intents.types import Address
from intents.validation import OrderValidator
from tests.intents.strategies import BUY, SELL

SETTLEMENT = Address("0x" + "5e" * 20)
OWNER = "0x" + "0E" * 20
FEE = 1234


@dataclass
class FakeQuoter:
    """Sells at 2 BUY per SELL, charges ``FEE``; refuses what ``refuse`` says."""

    queries: list[QuoteQuery] = field(default_factory=list)
    refuse: QuoteError | None = None
    verified: bool = False

    async def __call__(self, query: QuoteQuery) -> QuoteResult:
        self.queries.append(query)
        if self.refuse is not None:
            raise self.refuse
        if query.side == "buyAfterFee":
            return QuoteResult(-(-query.amount // 2), query.amount, FEE, self.verified)
        sell = query.amount - FEE if query.side == "sellBeforeFee" else query.amount
        return QuoteResult(sell, 2 * sell, FEE, self.verified)


@dataclass
class Api:
    client: TestClient[web.Request, web.Application]
    quoter: FakeQuoter
    book: OrderBook

    async def quote(self, **fields: Any) -> tuple[int, Any]:
        body = {"sellToken": SELL, "buyToken": BUY, "from": OWNER, "kind": "sell"} | fields
        async with self.client.post("/api/v1/quote", data=json.dumps(body)) as response:
            return response.status, await response.json()


async def _client(
    tmp_path: Path, quoter: Quoter | None
) -> AsyncIterator[tuple[TestClient[Any, Any], OrderBook]]:
    book = await open_book(f"sqlite:///{tmp_path / 'book.sqlite3'}")
    validator = OrderValidator(
        domain_separator=domain_separator(31337, SETTLEMENT), chain=FakeChain(), book=book
    )
    app = create_app(
        book=book, validator=validator, settings=ApiSettings(SETTLEMENT), quoter=quoter
    )
    async with TestClient(TestServer(app)) as client:
        yield client, book
    await book.close()


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    quoter = FakeQuoter()
    async for client, book in _client(tmp_path, quoter):
        yield Api(client, quoter, book)


async def test_a_sell_quote_before_fee_answers_signable_order_parameters(api: Api) -> None:
    before = int(time.time())
    status, body = await api.quote(sellAmountBeforeFee="100000", receiver=OWNER)
    after = int(time.time())
    assert status == 200
    assert api.quoter.queries == [
        QuoteQuery(SELL, BUY, "sellBeforeFee", 100000, owner=Address(OWNER.lower()))
    ]
    quote = body["quote"]
    assert quote["sellAmount"] == str(100000 - FEE)
    assert quote["buyAmount"] == str(2 * (100000 - FEE))
    assert quote["feeAmount"] == str(FEE)
    assert (quote["kind"], quote["partiallyFillable"]) == ("sell", False)
    assert (quote["sellToken"], quote["buyToken"]) == (SELL, BUY)
    assert quote["receiver"] == OWNER.lower() and body["from"] == OWNER.lower()
    assert quote["appData"] == "0x" + "00" * 32
    assert (quote["sellTokenBalance"], quote["buyTokenBalance"]) == ("erc20", "erc20")
    assert quote["signingScheme"] == "eip712"
    assert before + DEFAULT_VALID_FOR <= quote["validTo"] <= after + DEFAULT_VALID_FOR
    expiration = datetime.fromisoformat(body["expiration"].replace("Z", "+00:00")).timestamp()
    assert before + 60 <= expiration <= after + 60
    assert body["verified"] is False
    _, again = await api.quote(sellAmountAfterFee="5")
    assert again["id"] > body["id"]


async def test_every_quote_is_stored_as_answered(api: Api) -> None:
    api.quoter.verified = True
    _, body = await api.quote(sellAmountBeforeFee="100000")
    assert body["verified"] is True
    stored = await api.book.get_quote(body["id"])
    assert stored is not None
    expiration = datetime.fromisoformat(body["expiration"].replace("Z", "+00:00")).timestamp()
    assert stored == StoredQuote(
        id=body["id"],
        owner=Address(OWNER.lower()),
        sell_token=SELL,
        buy_token=BUY,
        kind=OrderKind.SELL,
        quoted_sell_amount=100000,  # priced before the fee: what the order signs
        quoted_buy_amount=2 * (100000 - FEE),
        fee_amount=FEE,
        verified=True,
        creation_time=stored.creation_time,
        expiration=stored.creation_time + 60,
    )
    assert int(stored.expiration) == int(expiration)
    _, after_fee = await api.quote(sellAmountAfterFee="5")
    stored = await api.book.get_quote(after_fee["id"])
    assert stored is not None and stored.quoted_sell_amount == 5
    assert await api.book.get_quote(after_fee["id"] + 1) is None


async def test_a_buy_quote_keeps_the_requested_validity_and_app_data(api: Api) -> None:
    document = '{"appCode":"tributary"}'
    status, body = await api.quote(
        kind="buy", buyAmountAfterFee="777", validTo=4_000_000_000, appData=document
    )
    assert status == 200
    assert api.quoter.queries == [
        QuoteQuery(SELL, BUY, "buyAfterFee", 777, owner=Address(OWNER.lower()))
    ]
    quote = body["quote"]
    assert (quote["sellAmount"], quote["buyAmount"]) == ("389", "777")
    assert quote["validTo"] == 4_000_000_000
    assert quote["appData"] == "0x" + keccak256(document.encode()).hex()
    assert quote["receiver"] is None


async def test_valid_for_sets_valid_to_from_now(api: Api) -> None:
    before = int(time.time())
    _, body = await api.quote(sellAmountAfterFee="10", validFor=120)
    assert before + 120 <= body["quote"]["validTo"] <= int(time.time()) + 120


@pytest.mark.parametrize(
    "fields",
    [
        {"buyAmountAfterFee": "1"},  # kind sell
        {"kind": "buy", "sellAmountAfterFee": "1"},
        {"sellAmountBeforeFee": "1", "sellAmountAfterFee": "1"},
        {},
    ],
)
async def test_exactly_the_amount_the_kind_allows(api: Api, fields: dict[str, Any]) -> None:
    status, body = await api.quote(**fields)
    assert status == 422
    assert body["errorType"] == "InvalidField"
    assert "exactly one of" in body["description"]
    assert api.quoter.queries == []


async def test_zero_amount_and_same_tokens_are_refused_before_pricing(api: Api) -> None:
    status, body = await api.quote(sellAmountAfterFee="0")
    assert (status, body["errorType"]) == (400, "ZeroAmount")
    status, body = await api.quote(
        buyToken=SELL.upper().replace("0X", "0x"), sellAmountAfterFee="1"
    )
    assert (status, body["errorType"]) == (400, "SameBuyAndSellToken")
    assert api.quoter.queries == []


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (ErrorCode.NO_LIQUIDITY, 404),
        (ErrorCode.UNSUPPORTED_TOKEN, 400),
        (ErrorCode.SELL_AMOUNT_DOES_NOT_COVER_FEE, 400),
    ],
)
async def test_the_quoters_refusals_keep_their_error_type(
    api: Api, code: ErrorCode, status: int
) -> None:
    api.quoter.refuse = QuoteError(code, "because")
    answer, body = await api.quote(sellAmountBeforeFee="10")
    assert (answer, body) == (status, {"errorType": code.value, "description": "because"})


async def test_malformed_and_mistyped_requests(api: Api) -> None:
    async with api.client.post("/api/v1/quote", data=b"{nope") as response:
        assert response.status == 400
        assert (await response.json())["errorType"] == "MalformedJson"
    status, body = await api.quote(sellAmountAfterFee=10)
    assert (status, body["errorType"]) == (422, "InvalidField")
    assert "sellAmountAfterFee" in body["description"]
    status, body = await api.quote(sellAmountAfterFee="1", surprise=True)
    assert (status, body["errorType"]) == (422, "InvalidField")


async def test_without_a_quoter_the_node_says_it_cannot_quote(tmp_path: Path) -> None:
    async for client, _ in _client(tmp_path, None):
        body = {"sellToken": SELL, "buyToken": BUY, "from": OWNER, "kind": "sell"}
        body["sellAmountAfterFee"] = "1"
        async with client.post("/api/v1/quote", data=json.dumps(body)) as response:
            assert response.status == 503
            assert (await response.json())["errorType"] == "ServiceUnavailable"


async def test_openapi_documents_the_quote(api: Api) -> None:
    async with api.client.get("/openapi.json") as response:
        document = await response.json()
    operation = document["paths"]["/api/v1/quote"]["post"]
    assert {"200", "400", "404", "422"} <= set(operation["responses"])
    request = document["components"]["schemas"]["OrderQuoteRequest"]
    assert {"sellAmountBeforeFee", "sellAmountAfterFee", "buyAmountAfterFee", "from"} <= set(
        request["properties"]
    )
    response = document["components"]["schemas"]["OrderQuoteResponse"]
    assert {"quote", "expiration", "id", "verified", "from"} <= set(response["properties"])
