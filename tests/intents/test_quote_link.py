"""Orders linked to quotes as CoW's orderbook links them (``intents.quotes``): the quote an
order names if it fits and is live, else a fresh one; ``quoteId`` in the order's answers;
quotes stored on both book backends."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from aiohttp.test_utils import TestClient, TestServer

from intents.book import OrderBook, open_book
from intents.errors import ErrorCode
from intents.http import ApiSettings, create_app
from intents.http.quote import QuoteError, fresh_quote
from intents.order import OrderKind
from intents.quotes import QuoteLinker, StoredQuote, matches
from intents.types import Address
from intents.validation import OrderValidator
from tests.intents.strategies import BUY, SELL
from tests.intents.test_api import OWNER, SEPARATOR, SETTLEMENT, World, body, funded_chain, order
from tests.intents.test_quote_api import FEE, FakeQuoter
from tests.intents.test_store import book

__all__ = ["book"]  # the two-backend fixture


class LinkWorld(World):
    quoter: FakeQuoter
    linker: QuoteLinker

    async def quote(self, **fields: Any) -> Any:
        request = {"sellToken": SELL, "buyToken": BUY, "from": OWNER, "kind": "sell"} | fields
        async with self.client.post("/api/v1/quote", data=json.dumps(request)) as response:
            assert response.status == 200
            return await response.json()

    async def quote_id_of(self, uid: str) -> Any:
        async with self.client.get(f"/api/v1/orders/{uid}") as response:
            return (await response.json())["quoteId"]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[LinkWorld]:
    store = await open_book(f"sqlite:///{tmp_path / 'book.sqlite3'}")
    quoter = FakeQuoter()
    linker = QuoteLinker(store, fresh_quote(quoter))
    validator = OrderValidator(
        domain_separator=SEPARATOR, chain=funded_chain(), book=store, quotes=linker
    )
    app = create_app(
        book=store, validator=validator, settings=ApiSettings(SETTLEMENT), quoter=quoter
    )
    async with TestClient(TestServer(app)) as client:
        world = LinkWorld(client, store, funded_chain())
        world.quoter, world.linker = quoter, linker
        yield world
    await store.close()


def quoted_order(quote: dict[str, Any], **changes: Any) -> Any:
    """The order cow-sdk signs from a sell quote: the fee folded into the sell amount."""
    q = quote["quote"]
    fields = {
        "sell_amount": int(q["sellAmount"]) + int(q["feeAmount"]),
        "buy_amount": int(q["buyAmount"]) * 995 // 1000,
        "fee_amount": 0,
    }
    return order(**(fields | changes))


async def test_an_order_gets_the_quote_it_names(world: LinkWorld) -> None:
    quote = await world.quote(sellAmountBeforeFee=str(10**18))
    status, uid = await world.post(body(quoted_order(quote), quoteId=quote["id"]))
    assert status == 201, uid
    assert await world.quote_id_of(uid) == quote["id"]
    assert len(world.quoter.queries) == 1  # no fresh quote was needed


async def test_an_order_naming_no_quote_gets_a_fresh_one(world: LinkWorld) -> None:
    o = order(fee_amount=0)
    status, uid = await world.post(body(o))
    assert status == 201, uid
    quote_id = await world.quote_id_of(uid)
    stored = await world.book.get_quote(quote_id)
    assert stored is not None and matches(stored, o)
    assert (stored.quoted_sell_amount, stored.owner) == (o.sell_amount, OWNER)
    [query] = world.quoter.queries
    assert (query.side, query.amount, query.verify) == ("sellAfterFee", o.sell_amount, False)


@pytest.mark.parametrize(
    "named",
    [
        "mismatch",  # another buy amount than quoted: not this quote
        "expired",
        "unknown",
        "negative",  # an i64, as CoW takes it: no such quote
    ],
)
async def test_a_quote_that_does_not_fit_is_replaced(world: LinkWorld, named: str) -> None:
    quote = await world.quote(sellAmountBeforeFee=str(10**18))
    o = quoted_order(quote)
    quote_id = {"unknown": quote["id"] + 100, "negative": -1}.get(named, quote["id"])
    if named == "mismatch":
        o = quoted_order(quote, sell_amount=10**18 - 1)
    if named == "expired":
        world.linker.clock = lambda: time.time() + 61
    status, uid = await world.post(body(o, quoteId=quote_id))
    assert status == 201, uid
    linked = await world.quote_id_of(uid)
    assert linked not in (quote["id"], quote_id, None)
    assert len(world.quoter.queries) == 2


async def test_a_quote_id_beyond_an_i64_is_refused(world: LinkWorld) -> None:
    status, answer = await world.post(body(order(fee_amount=0), quoteId=2**80))
    assert (status, answer["errorType"]) == (422, ErrorCode.INVALID_FIELD.value)
    assert "quoteId" in answer["description"]
    assert world.quoter.queries == []


async def test_an_order_that_cannot_be_quoted_is_placed_without_a_quote(
    world: LinkWorld,
) -> None:
    world.quoter.refuse = QuoteError(ErrorCode.NO_LIQUIDITY, "no pool")
    status, uid = await world.post(body(order(fee_amount=0)))
    assert status == 201, uid
    assert await world.quote_id_of(uid) is None


def test_matching_is_cows_rule() -> None:
    o = order(sell_amount=1000, fee_amount=10, buy_amount=50)
    quote = StoredQuote(
        owner=Address("0x" + "99" * 20),  # CoW does not compare the owner
        sell_token=SELL,
        buy_token=BUY,
        kind=OrderKind.SELL,
        quoted_sell_amount=1010,
        quoted_buy_amount=7,
        fee_amount=FEE,
        verified=False,
        creation_time=0,
        expiration=0,
    )
    assert matches(quote, o)  # sell amount + fee
    assert matches(msgspec.structs.replace(quote, quoted_sell_amount=1000), o)
    assert not matches(msgspec.structs.replace(quote, quoted_sell_amount=1001), o)
    assert not matches(msgspec.structs.replace(quote, buy_token=SELL), o)
    assert not matches(msgspec.structs.replace(quote, kind=OrderKind.BUY), o)
    buy = order(kind=OrderKind.BUY, buy_amount=7)
    assert matches(msgspec.structs.replace(quote, kind=OrderKind.BUY, quoted_sell_amount=1), buy)
    assert not matches(msgspec.structs.replace(quote, kind=OrderKind.BUY, quoted_buy_amount=8), buy)


async def test_quotes_are_stored_on_both_backends(book: OrderBook) -> None:
    quote = StoredQuote(
        owner=OWNER,
        sell_token=SELL,
        buy_token=BUY,
        kind=OrderKind.BUY,
        quoted_sell_amount=2**255 + 1,  # amounts are exact uint256 integers
        quoted_buy_amount=3,
        fee_amount=2**200,
        verified=True,
        creation_time=1_800_000_000.5,
        expiration=1_800_000_060.5,
    )
    first = await book.insert_quote(quote)
    second = await book.insert_quote(msgspec.structs.replace(quote, verified=False))
    assert 0 < first < second
    assert await book.get_quote(first) == msgspec.structs.replace(quote, id=first)
    got = await book.get_quote(second)
    assert got is not None and got.verified is False
    assert await book.get_quote(second + 1) is None
    assert await book.get_quote(-1) is None


async def test_openapi_documents_the_links_and_pending_pre_signatures(world: LinkWorld) -> None:
    async with world.client.get("/openapi.json") as response:
        document = await response.json()
    schemas = document["components"]["schemas"]
    assert "quoteId" in schemas["OrderResponse"]["properties"]
    assert "presignaturePending" in schemas["OrderResponse"]["properties"]["status"]["enum"]
    [quote_id, _] = schemas["OrderCreation"]["properties"]["quoteId"]["anyOf"]
    assert (quote_id["minimum"], quote_id["maximum"]) == (-(2**63), 2**63 - 1)
    description = document["paths"]["/api/v1/orders"]["post"]["description"]
    assert "presignaturePending" in description and "quoteId" in description
