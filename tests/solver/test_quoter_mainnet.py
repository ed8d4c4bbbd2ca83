"""The node's quote endpoint priced over the real mainnet auction's liquidity (solver-engine
format, as the auctioneer builds it): the answer is the router's exact route, never worse
than CoW's baseline route, and the fee is the route's gas in the sell token."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from intents.book import open_book
from intents.chain import FakeChain
from intents.eip712 import domain_separator
from intents.http import ApiSettings, create_app
from intents.types import Address
from intents.validation import OrderValidator
from routing.baseline import baseline_route
from routing.pool import TokenAddress
from routing.route import OrderKind
from solver import dto
from solver.dto_convert import auction_from_dto
from solver.model import Auction
from solver.quoter import AttachedMarket, RoutingQuoter, route_fee
from tests.solver.mainnet import solver_bytes

WETH = TokenAddress("0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2")
USDC = TokenAddress("0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48")
SETTLEMENT = Address("0x9008d19f58aabd9ed0d60971565aa8510560ab41")


@pytest.fixture(scope="module")
def wire_auction() -> dto.Auction:
    return dto.decode_auction(solver_bytes())


@pytest.fixture
async def client(
    wire_auction: dto.Auction, tmp_path: Path
) -> AsyncIterator[tuple[TestClient[web.Request, web.Application], RoutingQuoter]]:
    market_auction = auction_from_dto(wire_auction)

    async def build() -> Auction:
        return market_auction

    market = AttachedMarket()
    market.attach(build)
    quoter = RoutingQuoter(market, max_age_seconds=60)
    book = await open_book(f"sqlite:///{tmp_path / 'book.sqlite3'}")
    validator = OrderValidator(
        domain_separator=domain_separator(1, SETTLEMENT), chain=FakeChain(), book=book
    )
    app = create_app(
        book=book, validator=validator, settings=ApiSettings(SETTLEMENT), quoter=quoter
    )
    async with TestClient(TestServer(app)) as test_client:
        yield test_client, quoter
    await book.close()


async def test_a_weth_to_usdc_quote_is_the_exact_optimal_route(
    client: tuple[TestClient[web.Request, web.Application], RoutingQuoter],
) -> None:
    http, quoter = client
    request = {
        "sellToken": WETH,
        "buyToken": USDC,
        "from": "0x" + "11" * 20,
        "kind": "sell",
        "sellAmountAfterFee": str(10 * 10**18),
    }
    async with http.post("/api/v1/quote", data=json.dumps(request)) as response:
        assert response.status == 200, await response.text()
        quote = (await response.json())["quote"]
    auction, router = await quoter._current()
    route = router.route(WETH, USDC, 10 * 10**18, OrderKind.SELL)
    assert int(quote["sellAmount"]) == 10 * 10**18
    assert int(quote["buyAmount"]) == route.amount_out
    assert int(quote["feeAmount"]) == route_fee(router, route, auction.gas_price) > 0
    baseline = baseline_route(router.graph, WETH, USDC, 10 * 10**18)
    assert route.net >= baseline.net  # output after gas


async def test_an_unknown_token_is_unsupported_over_mainnet_liquidity(
    client: tuple[TestClient[web.Request, web.Application], RoutingQuoter],
) -> None:
    http, _ = client
    request = {
        "sellToken": WETH,
        "buyToken": "0x" + "ee" * 20,
        "from": "0x" + "11" * 20,
        "kind": "buy",
        "buyAmountAfterFee": "1000",
    }
    async with http.post("/api/v1/quote", data=json.dumps(request)) as response:
        assert response.status == 400
        assert (await response.json())["errorType"] == "UnsupportedToken"
