"""What every route the router returns must satisfy, checked against a fresh exact
re-simulation with the pool math (never against the router's own numbers)."""

from __future__ import annotations

import math

from routing.graph import TokenGraph
from routing.route import OrderKind, Route


def assert_route_is_exact(route: Route, g: TokenGraph, amount: int) -> None:
    """``route`` for an order of ``amount`` (``route.kind``): legs executed in their order
    spend only tokens already received, each pool once (two swaps through one snapshot
    would each see the untouched reserves), each leg paying exactly the pool's output;
    every intermediate token nets to zero; the reported totals, gas and gas cost are the
    re-simulated ones; the order's limit holds (a sell spends exactly ``amount``, a buy
    receives at least ``amount``)."""
    assert route.legs, "a route has legs"
    pools = [leg.pool for leg in route.legs]
    assert len(pools) == len(set(pools)), f"a pool is swapped through twice: {pools}"
    balance: dict[str, int] = {route.sell_token: 0}
    spent = received = 0
    for leg in route.legs:
        assert leg.amount_in > 0 and leg.amount_out > 0, leg
        assert leg.token_in != route.buy_token and leg.token_out != route.sell_token, leg
        exact = g.pools[leg.pool].amount_out(leg.token_in, leg.token_out, leg.amount_in)
        assert exact == leg.amount_out, (leg, exact)
        if leg.token_in == route.sell_token:
            spent += leg.amount_in
        else:
            have = balance.get(leg.token_in, 0)
            assert have >= leg.amount_in, f"leg spends {leg.token_in} before receiving it"
            balance[leg.token_in] = have - leg.amount_in
        if leg.token_out == route.buy_token:
            received += leg.amount_out
        else:
            balance[leg.token_out] = balance.get(leg.token_out, 0) + leg.amount_out
    balance.pop(route.sell_token)
    assert all(v == 0 for v in balance.values()), f"intermediate tokens left over: {balance}"
    assert (route.amount_in, route.amount_out) == (spent, received)
    gas = sum(g.pools[p].gas for p in set(pools))
    objective = route.buy_token if route.kind is OrderKind.SELL else route.sell_token
    assert route.gas == gas
    assert route.gas_cost == g.gas_cost(gas, objective)
    assert math.isfinite(route.price_impact_bp)
    if route.kind is OrderKind.SELL:
        assert route.amount_in == amount
    else:
        assert route.amount_out >= amount
