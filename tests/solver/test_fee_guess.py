"""A limit sell order's fee starts at the least gas of its paths and is raised only while
the limit holds at the lower fee: the fill found is never worse for the user than the
fee iteration from a zero-gas guess that always raises the fee to its route's gas."""

from __future__ import annotations

from functools import partial

from hypothesis import given, settings
from hypothesis import strategies as st

from intents.order import OrderClass
from routing.path_routing import route_along
from routing.route import NoRoute, OrderKind
from solver.engines.base import Deadline, token_graph
from solver.engines.single_order import OrderFiller, RoutedFill
from solver.model import Order, Trade
from tests.solver.engine_fixtures import A, B, C, auction, order, pool

E18 = 10**18


def _reference(filler: OrderFiller, o: Order, amount: int) -> RoutedFill | None:
    """The fee iteration from a zero-gas guess, raising the fee to the route's gas until
    it covers it, then judged once."""
    route = partial(route_along, filler.graph, filler.best_paths(o))
    fee = filler.fee(o, 0)
    for _ in range(3):
        assert fee is not None
        if amount - fee <= 0:
            return None
        try:
            found = route(o.sell_token, o.buy_token, amount - fee, OrderKind.SELL)
        except NoRoute:
            return None
        needed = filler.fee(o, found.gas)
        assert needed is not None
        if needed <= fee:
            return filler._judge(RoutedFill(o, Trade(o.uid, amount - fee, fee), found)).fill
        fee = needed
    return None


@settings(max_examples=150, deadline=None)
@given(
    st.integers(min_value=10**15, max_value=50 * E18),
    st.integers(min_value=E18, max_value=200 * E18),
    st.integers(min_value=90, max_value=220),
    st.integers(min_value=10, max_value=500),
)
def test_fee_guess_fills_at_least_as_well(amount: int, depth: int, rate: int, side: int) -> None:
    pools = [
        pool("ab", A, B, depth, depth * 2),
        pool("ac", A, C, side * E18, side * E18 // 2),
        pool("cb", C, B, side * E18, side * E18 * 4),
    ]
    o = order(A, B, amount, amount * rate // 100, partial=True, order_class=OrderClass.LIMIT)
    market = auction([o], pools)
    graph = token_graph(market)
    no_router = partial(route_along, graph, [])  # only the paths are routed along here
    filler = OrderFiller(market, graph, no_router, Deadline(market))
    reference = _reference(filler, o, amount)
    fresh = OrderFiller(market, graph, no_router, Deadline(market))
    paths = fresh.best_paths(o)
    fresh._gas_hint[o.uid] = fresh._least_gas(paths)
    found = fresh.attempt(o, amount, partial(route_along, fresh.graph, paths)).fill
    if reference is not None:
        assert found is not None
        assert found.trade.fee <= reference.trade.fee
        assert found.route.amount_out >= reference.route.amount_out
