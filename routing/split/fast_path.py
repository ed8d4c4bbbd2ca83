"""The fast path: when the best single path is already optimal, no model is built.

It is when every other edge path's marginal rate, with the single path's own pools at their
post-trade marginal rates, is no better than the single path's marginal rate (the KKT
condition of the concave problem), or when the most any split could gain is below the
gas of one more pool.
"""

from __future__ import annotations

from routing.graph import TokenGraph
from routing.paths import CandidateNetwork
from routing.route import OrderKind, Route
from routing.split.curves import CurveCache, EdgeKey
from routing.split.model import best_products


def single_is_optimal(
    graph: TokenGraph,
    curves: CurveCache,
    single: Route,
    network: CandidateNetwork,
    amount: int,
    kind: OrderKind,
) -> str | None:
    """Why no split can beat ``single`` (a sentence), or ``None`` if one might."""
    marginal: dict[EdgeKey, float] = {}
    rate = 1.0
    for leg in single.legs:
        edge = next(
            (e for e in graph.edges(leg.token_in, leg.token_out) if e.pool.id == leg.pool),
            None,
        )
        if edge is None:
            return None
        step = max(leg.amount_in // 100_000, 1)
        lower = curves.curve(edge).out(leg.amount_in - step)
        if lower is None:
            return None
        m = (leg.amount_out - lower) / step
        marginal[edge.key] = m
        rate *= m
    # best marginal rate over edge paths of the network at the single route's state
    best_at = best_products(
        network, single.sell_token, lambda edge: marginal.get(edge.key, edge.rate)
    )
    used = {leg.pool for leg in single.legs}
    cheapest_gas = min((e.pool.gas for e in network.edges if e.pool.id not in used), default=None)
    best_rate = best_at.get(single.buy_token, 0.0)
    if best_rate <= rate * (1 + 1e-9):
        return (
            "single path is optimal: no other candidate path's marginal rate "
            f"({best_rate:.6g}) beats its marginal rate after the trade ({rate:.6g})"
        )
    if kind is OrderKind.SELL and cheapest_gas is not None:
        bound = (best_rate - rate) * amount
        gas = graph.gas_cost(cheapest_gas, single.buy_token)
        if gas > 0 and bound < gas:
            return (
                f"a split could gain at most {bound:.0f} of the buy token, less than the "
                f"gas of one more pool ({gas})"
            )
    return None
