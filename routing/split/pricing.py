"""Column generation: the pools outside an order's model that would pay at its LP route.

Token values in buy-token units: 1 for the buy token; for a token the route uses, the best
marginal rate of its legs times the next token's value, taken both from the right (what
one more unit earns: ``lo``) and from the left (what the last unit earned: ``hi``; the
LP's dual lies between them); for a token it does not use, the best spot rate on to a
valued token (every piece of a concave curve lies below its spot line, so no flow through
it earns more). An edge ``u -> v`` pays when its spot rate times ``hi[v]`` beats
``lo[u]``; into an unused token, its edges join in turn when they pay at the path's
break-even value. An edge whose gain is bounded (``gain_bound``) below its pool's gas or
``PRICING_MARGIN`` of the output stays out.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass, field

from routing.graph import Edge, TokenGraph
from routing.paths import CandidateNetwork
from routing.pool import TokenAddress
from routing.route import Leg, Route
from routing.split.curves import Curve, CurveCache, EdgeKey

PRICING_MARGIN = 1e-6
"""A priced pool joins the LP when it beats the route's marginal value by this much."""
EXACT = 10**6
"""Inputs and outputs at least this large (base units) give average rates that integer
rounding moves by less than ``PRICING_MARGIN``."""


def price(
    graph: TokenGraph,
    curves: CurveCache,
    route: Route,
    present: Collection[EdgeKey],
    wide: CandidateNetwork,
    *,
    gas_aware: bool,
) -> list[Edge]:
    """The pool edges of ``wide`` outside the model (``present``) that would pay at the
    route's state (positive reduced cost), with the edges that lead on from them."""
    legs_from: dict[TokenAddress, list[Leg]] = {}
    for leg in route.legs:
        legs_from.setdefault(leg.token_in, []).append(leg)
    out_edges: dict[TokenAddress, list[Edge]] = {}
    for edge in wide.edges:
        out_edges.setdefault(edge.token_in, []).append(edge)
    lo, hi = _token_values(curves, route.buy_token, legs_from, out_edges, wide)
    search = _Search(graph, curves, route, present, out_edges, hi, legs_from, gas_aware)
    for token, value in lo.items():
        if token != route.buy_token and token in legs_from:
            search.extend(token, value, sum(leg.amount_in for leg in legs_from[token]))
    return list(search.added.values())


def _token_values(
    curves: CurveCache,
    buy: TokenAddress,
    legs_from: dict[TokenAddress, list[Leg]],
    out_edges: dict[TokenAddress, list[Edge]],
    wide: CandidateNetwork,
) -> tuple[dict[TokenAddress, float], dict[TokenAddress, float]]:
    """``lo`` and ``hi``: each token's value in buy-token units at the route's state."""
    by_key = {e.key: e for e in wide.edges}
    lo: dict[TokenAddress, float] = {buy: 1.0}
    hi: dict[TokenAddress, float] = {buy: 1.0}
    for token in reversed(wide.order):
        if token == buy:
            continue
        legs = legs_from.get(token)
        if legs:
            for leg in legs:
                edge = by_key[(leg.pool, leg.token_in, leg.token_out)]
                right, left = slopes(curves.curve(edge), edge, leg)
                v_lo = right * lo.get(leg.token_out, 0.0)
                v_hi = left * hi.get(leg.token_out, 0.0)
                lo[token] = max(lo.get(token, 0.0), v_lo)
                hi[token] = max(hi.get(token, 0.0), v_hi)
            continue
        for edge in out_edges.get(token, ()):
            value = edge.rate * hi.get(edge.token_out, 0.0)
            hi[token] = max(hi.get(token, 0.0), value)
    return lo, hi


@dataclass(slots=True)
class _Search:
    """The edges found to pay so far, and the lowest break-even value explored per
    unused token."""

    graph: TokenGraph
    curves: CurveCache
    route: Route
    present: Collection[EdgeKey]
    out_edges: dict[TokenAddress, list[Edge]]
    hi: dict[TokenAddress, float]
    legs_from: dict[TokenAddress, list[Leg]]
    gas_aware: bool
    added: dict[EdgeKey, Edge] = field(default_factory=dict)
    cheapest: dict[TokenAddress, float] = field(default_factory=dict)

    def extend(self, token: TokenAddress, value: float, flow: int) -> None:
        """Add the edges out of ``token`` that pay at ``value`` a unit, and on through
        unused tokens at the break-even value of the path so far."""
        buy = self.route.buy_token
        for edge in self.out_edges.get(token, ()):
            target = self.hi.get(edge.token_out, 0.0)
            if edge.rate * target <= value * (1 + PRICING_MARGIN):
                continue
            if edge.key not in self.present:
                gas = self.graph.gas_cost(edge.pool.gas, buy) if self.gas_aware else 0
                floor = max(self.route.amount_out * PRICING_MARGIN, gas)
                if gain_bound(self.curves.curve(edge), flow, value, target) < floor:
                    continue
                self.added[edge.key] = edge
            nxt = edge.token_out
            need = value / edge.rate
            if nxt != buy and nxt not in self.legs_from and need < self.cheapest.get(nxt, math.inf):
                self.cheapest[nxt] = need
                self.extend(nxt, need, int(flow * edge.rate))


def gain_bound(curve: Curve, flow: int, value: float, target: float) -> float:
    """At most how much (buy-token units) the curve's edge can add to a route sending
    ``flow`` into its input token worth ``value`` a unit, its output worth ``target``: past
    the smallest probe input ``x`` whose average rate no longer beats ``value / target``
    its (concave) curve's slope does not either, so the gain is below ``x`` times the spot
    advantage."""
    edge = curve.edge
    advantage = edge.rate * target - value
    for shift in range(20, 1, -2):
        x = 1 << max(flow.bit_length() - shift, 0)  # powers of two: cached across calls
        if x < EXACT or x * edge.rate < EXACT:
            continue  # integer rounding would dominate the average rate
        out = curve.out(x)
        if out is None or out * target <= x * value:
            return x * advantage
    return 2 * flow * advantage


def slopes(curve: Curve, edge: Edge, leg: Leg) -> tuple[float, float]:
    """Exact secant rates of ``edge`` over 1/256 of the leg's input above and below it
    (0.0 above when the pool takes no more): by concavity at most the marginal rate
    above and at least the one below, so pricing errs towards adding pools, and wide
    enough that integer rounding does not swamp them."""
    step = max(leg.amount_in >> 8, 1)
    above = curve.out(leg.amount_in + step)
    below = curve.out(leg.amount_in - step) if leg.amount_in > step else 0
    right = 0.0 if above is None else (above - leg.amount_out) / step
    left = edge.rate if below is None else (leg.amount_out - below) / min(step, leg.amount_in)
    return right, left
