"""A limit order or a quote whose sell token has no reference price is charged its gas at
the price of a native-token swap, as CoW's baseline does; with no route to the native token
the fee is waived (issue 11, item 2)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from intents.http.quote import QuoteQuery
from intents.order import OrderClass
from intents.types import TokenAddress as QuoteToken
from routing.baseline import WETH
from routing.graph import TokenGraph
from routing.optimizer import Router
from routing.pool import TokenAddress
from routing.uniswap_v2 import ConstantProductPool
from solver.engines import make_engine
from solver.fee_price import NATIVE_PRICE_PROBE, WAIVED, fee_price
from solver.model import SETTLEMENT_OVERHEAD_GAS, Auction, Order, now
from solver.quoter import price
from tests.solver.engine_fixtures import GAS_PRICE, B, model_auction, order, pool

E18 = 10**18
X = TokenAddress("0x" + "f6" * 20)
"""A token without a reference price."""
XB = pool("xb", X, B, 3000 * E18, 1000 * E18)
XW = pool("xw", X, WETH, 1000 * E18, 1000 * E18)
PRICED: dict[TokenAddress, int] = {}
"""As in CoW's quote requests (``limit_order_quoting``): no token of the auction is priced,
so no price can be derived through the pools either."""


def _auction(pools: list[ConstantProductPool], *orders: Order) -> Auction:
    return model_auction(
        orders,
        pools,
        PRICED,
        GAS_PRICE,
        now() + timedelta(seconds=60),
    )


def _probe_input() -> int:
    """X paid for ``NATIVE_PRICE_PROBE`` wei of WETH through the X/WETH pool (pool math)."""
    return XW.amount_in(X, WETH, NATIVE_PRICE_PROBE)


def _covers_gas(fee: int, gas: int) -> None:
    """``fee`` is ``gas`` at the auction's gas price, converted at the probe's rate (rounded
    down for the user)."""
    owed = gas * GAS_PRICE * _probe_input()  # X wei times NATIVE_PRICE_PROBE
    assert fee * NATIVE_PRICE_PROBE <= owed < (fee + 2) * NATIVE_PRICE_PROBE
    assert fee > 0


@pytest.mark.parametrize("engine", ["baseline", "optimal"])
def test_a_limit_order_on_an_unpriced_sell_token_pays_gas_priced_by_a_native_swap(
    engine: str,
) -> None:
    o = order(X, B, 30 * E18, 9 * E18, order_class=OrderClass.LIMIT)
    (solution,) = make_engine(engine).solve(_auction([XB, XW], o))
    (trade,) = solution.trades
    assert [leg.pool for leg in solution.legs] == ["xb"]
    _covers_gas(trade.fee, solution.gas)
    assert trade.executed + trade.fee == o.remaining


@pytest.mark.parametrize("engine", ["baseline", "optimal"])
def test_without_a_route_to_the_native_token_the_fee_is_waived(engine: str) -> None:
    o = order(X, B, 30 * E18, 9 * E18, order_class=OrderClass.LIMIT)
    (solution,) = make_engine(engine).solve(_auction([XB], o))
    (trade,) = solution.trades
    assert trade.fee == 0
    assert trade.executed == o.remaining


def _router(pools: list[ConstantProductPool]) -> Router:
    return Router(TokenGraph(pools, dict(PRICED), gas_price=GAS_PRICE))


def test_a_quote_on_an_unpriced_sell_token_pays_gas_priced_by_a_native_swap() -> None:
    query = QuoteQuery(QuoteToken(X), QuoteToken(B), "sellAfterFee", 30 * E18)
    result = price(_router([XB, XW]), GAS_PRICE, query)
    _covers_gas(result.fee_amount, SETTLEMENT_OVERHEAD_GAS + XB.gas)
    assert result.buy_amount == XB.amount_out(X, B, 30 * E18)


def test_a_quote_without_a_route_to_the_native_token_has_no_fee() -> None:
    query = QuoteQuery(QuoteToken(X), QuoteToken(B), "sellAfterFee", 30 * E18)
    assert price(_router([XB]), GAS_PRICE, query).fee_amount == 0


def test_fee_price_prefers_the_reference_price_and_knows_the_native_token() -> None:
    graph = TokenGraph([XB, XW], {B: 5 * E18}, gas_price=GAS_PRICE)
    assert fee_price(graph, B) == 5 * E18
    assert fee_price(graph, X, reference=123) == 123
    bare = TokenGraph([XW], {}, gas_price=GAS_PRICE)
    assert fee_price(bare, WETH) == E18
    assert fee_price(TokenGraph([XB], {}, gas_price=GAS_PRICE), X) == WAIVED


def test_a_native_swap_the_pools_cannot_fill_waives_the_fee() -> None:
    shallow = pool("xw", X, WETH, 10**30, 10**3)  # holds less than the probe's 0.1 WETH
    assert fee_price(TokenGraph([shallow], {}, gas_price=GAS_PRICE), X) == WAIVED
