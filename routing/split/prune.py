"""Pruning after exact re-simulation: drop pools whose gain is below their gas.

The model's breakpoints can leave a tiny split whose gain is below its pool's gas. A
pool is dropped when its removal improves the exact net of gas, its flow re-routed
through the remaining pools in proportion to their flows and re-simulated exactly (for a
buy order both backward from the amount and forward from the least input that buys it),
until no removal improves it.
"""

from __future__ import annotations

from routing.baseline import make_route
from routing.graph import TokenGraph
from routing.route import Leg, OrderKind, Route
from routing.split.curves import CurveCache
from routing.split.explain import drop_note, explain, relabel
from routing.split.model import Solution, SplitModel
from routing.split.resimulate import least_input, resimulate


def prune(graph: TokenGraph, curves: CurveCache, model: SplitModel, route: Route) -> Route:
    """``route`` without the pools not worth their gas. Pools are tried smallest share
    first and the first improvement is taken (a wide split has dozens of slivers; trying
    every pool before each drop cost a re-simulation per pool per drop)."""
    notes: list[str] = []
    improved = True
    while improved and len(route.pools) > 1:
        improved = False
        share: dict[str, float] = {}
        for leg in route.legs:
            value = leg.amount_out / model.scale.get(leg.token_out, 1.0)
            share[leg.pool] = share.get(leg.pool, 0.0) + value
        for pool in sorted(route.pools, key=lambda p: share.get(p, 0.0)):
            pruned = _without(graph, curves, model, route, pool)
            if pruned is not None and pruned.better_than(route):
                notes.append(drop_note(route, pruned, "pruning after exact re-simulation"))
                route = pruned
                improved = True
                break
    if not notes:
        return route
    return relabel(route, (*explain(model, route.legs), *notes))


def _without(
    graph: TokenGraph, curves: CurveCache, model: SplitModel, route: Route, pool: str
) -> Route | None:
    """The best exact re-simulation of ``route`` with ``pool``'s flow left out."""
    index = {(e.pool.id, e.token_in): i for i, e in enumerate(model.network.edges)}
    flow_in = [0.0] * len(index)
    flow_out = [0.0] * len(index)
    for leg in route.legs:
        if leg.pool != pool:
            i = index[(leg.pool, leg.token_in)]
            flow_in[i] = float(leg.amount_in)
            flow_out[i] = float(leg.amount_out)
    solution = Solution(flow_in, flow_out, 0.0)
    tries: list[tuple[Leg, ...] | None] = [resimulate(curves, model, solution)]
    if route.kind is OrderKind.BUY:
        # backward, each token's need is split over the edges into it, so the
        # flow of a pool before the last hop only moves to its parallel pools;
        # forward (as for a sell order) it spreads over every remaining path
        tries.append(least_input(curves, model, solution, route.amount_in))
    best = None
    for legs in tries:
        if legs is None:
            continue
        candidate = make_route(
            graph, "optimal", route.kind, route.sell_token, route.buy_token, legs
        )
        if candidate.better_than(best):
            best = candidate
    return best
