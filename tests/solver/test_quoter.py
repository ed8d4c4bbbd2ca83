"""The routing quoter: exact amounts, the gas fee in the sell token, coded refusals."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intents.http.quote import QuoteError, QuoteQuery, QuoteResult, QuoteSide
from intents.types import TokenAddress
from routing.graph import TokenGraph
from routing.optimizer import Router
from routing.pool import TokenAddress as RoutingToken
from solver.model import SETTLEMENT_OVERHEAD_GAS, Auction, gas_fee
from solver.quoter import AttachedMarket, RoutingQuoter, price
from tests.solver.engine_fixtures import GAS_PRICE, PRICES, A, B, C, auction, pool

D = RoutingToken("0x" + "d4" * 20)
E = RoutingToken("0x" + "e5" * 20)
AB = pool("ab", A, B, 10**24, 2 * 10**24)
DE = pool("de", D, E, 10**21, 10**21)  # no reference price reaches D or E
MARKET = auction([], [AB, DE])
_FEE = gas_fee(SETTLEMENT_OVERHEAD_GAS + AB.gas, GAS_PRICE, PRICES[A])
assert _FEE is not None
FEE_A: int = _FEE


def _router(market: Auction = MARKET) -> Router:
    prices = {token: info.reference_price for token, info in market.tokens.items()}
    return Router(TokenGraph(market.liquidity.pools, prices, gas_price=market.gas_price))


ROUTER = _router()


def query(side: QuoteSide, amount: int, sell: str = A, buy: str = B) -> QuoteQuery:
    return QuoteQuery(TokenAddress(sell), TokenAddress(buy), side, amount)


def test_a_sell_quote_is_the_pools_exact_output_and_the_fee_is_gas_in_the_sell_token() -> None:
    result = price(ROUTER, GAS_PRICE, query("sellAfterFee", 10**21))
    assert result == QuoteResult(10**21, AB.amount_out(A, B, 10**21), FEE_A)
    assert FEE_A > 0


def test_a_buy_quote_pays_the_pools_exact_input() -> None:
    result = price(ROUTER, GAS_PRICE, query("buyAfterFee", 3 * 10**21))
    assert result == QuoteResult(AB.amount_in(A, B, 3 * 10**21), 3 * 10**21, FEE_A)


@settings(max_examples=40, deadline=None)
@given(total=st.integers(min_value=10**16, max_value=10**23))
def test_a_quote_before_fee_spends_exactly_the_total(total: int) -> None:
    result = price(ROUTER, GAS_PRICE, query("sellBeforeFee", total))
    assert result.sell_amount + result.fee_amount == total
    assert result.fee_amount >= FEE_A
    assert result.buy_amount == AB.amount_out(A, B, result.sell_amount)


def test_an_amount_smaller_than_the_gas_is_refused() -> None:
    with pytest.raises(QuoteError) as caught:
        price(ROUTER, GAS_PRICE, query("sellBeforeFee", FEE_A))
    assert caught.value.code == "SellAmountDoesNotCoverFee"
    assert caught.value.http_status == 400


@pytest.mark.parametrize(
    ("sell", "buy", "code", "status"),
    [
        (A, D, "NoLiquidity", 404),  # both traded, never connected
        (A, C, "UnsupportedToken", 400),  # C is in no pool
    ],
)
def test_refusals_carry_cows_error_types(sell: str, buy: str, code: str, status: int) -> None:
    with pytest.raises(QuoteError) as caught:
        price(ROUTER, GAS_PRICE, query("sellAfterFee", 10**18, sell, buy))
    assert (caught.value.code, caught.value.http_status) == (code, status)
    assert caught.value.description


async def test_the_quoter_reuses_a_fresh_market_and_rereads_a_stale_one() -> None:
    reads: list[float] = []
    now = [0.0]

    async def market() -> Auction:
        reads.append(now[0])
        return MARKET

    quoter = RoutingQuoter(market, max_age_seconds=2.0, clock=lambda: now[0])
    first = await quoter(query("sellAfterFee", 10**20))
    now[0] = 1.0
    assert await quoter(query("sellAfterFee", 10**20)) == first
    assert reads == [0.0]
    now[0] = 3.5
    await quoter(query("buyAfterFee", 10**20))
    assert reads == [0.0, 3.5]


async def test_the_quoter_prices_over_the_new_snapshot_when_liquidity_changes() -> None:
    deeper = auction([], [pool("ab", A, B, 10**25, 2 * 10**25)])
    markets = iter([MARKET, deeper])

    async def market() -> Auction:
        return next(markets)

    quoter = RoutingQuoter(market, max_age_seconds=0.0)
    shallow = await quoter(query("sellAfterFee", 10**23))
    deep = await quoter(query("sellAfterFee", 10**23))
    assert deep.buy_amount > shallow.buy_amount


async def test_before_the_auctioneer_runs_there_is_no_liquidity_to_quote() -> None:
    quoter = RoutingQuoter(AttachedMarket())
    with pytest.raises(QuoteError) as caught:
        await quoter(query("sellAfterFee", 10**18))
    assert (caught.value.code, caught.value.http_status) == ("NoLiquidity", 404)


def test_a_sell_token_no_route_prices_is_quoted_without_a_fee() -> None:
    """No reference price reaches D and no route reaches the native token: CoW's baseline
    waives the fee (``tests/solver/test_fee_price.py``) rather than refusing the quote."""
    result = price(ROUTER, GAS_PRICE, query("sellAfterFee", 10**18, D, E))
    assert result.fee_amount == 0
    assert result.buy_amount == DE.amount_out(D, E, 10**18)
