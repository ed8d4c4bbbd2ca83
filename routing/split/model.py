"""One order's split model: the edges of its LP, per-token scales and breakpoints.

Each edge's output is a concave piecewise-linear function of its input whose breakpoints
are the exact pool math (``curves``) at a geometric grid of inputs; the grid is refined
around the LP's flows round by round. Token flows are scaled by each token's *potential*
(the best spot product from the sell token, held to ``VALUE_SLACK`` times the order's
worth at reference prices) so the LP's coefficients are of order one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from routing.graph import Edge, TokenGraph
from routing.paths import CandidateNetwork
from routing.pool import TokenAddress
from routing.route import OrderKind, Route
from routing.split.curves import CurveCache

VALUE_SLACK = 16.0
"""A token's flow is modelled up to this many times the order's value in it (reference
prices); refinement extends a pool's breakpoints past that if the LP fills it."""
MIP_SPAN = 4.0
_SHALLOW_POINTS = 4

Breakpoints = list[tuple[int, int]]


class Order(NamedTuple):
    """The order being routed."""

    sell: TokenAddress
    buy: TokenAddress
    amount: int
    kind: OrderKind


@dataclass(slots=True)
class SplitModel:
    """The edges of one order's LP with their breakpoints and per-token scales."""

    network: CandidateNetwork
    kind: OrderKind
    sell: TokenAddress
    buy: TokenAddress
    amount: int
    scale: dict[TokenAddress, float]
    breakpoints: list[Breakpoints]
    gas_cost: list[float]
    """Per edge, the pool's gas in the objective token, in that token's scaled units."""


@dataclass(slots=True)
class Solution:
    flow_in: list[float]
    flow_out: list[float]
    objective: float
    """Model output (sell) or input (buy) in base units, gas excluded."""


@dataclass(frozen=True, slots=True)
class Sampling:
    """What building breakpoints needs: the graph (gas prices), the shared curves and the
    grid's span (``RouterConfig.grid_span_bits``)."""

    graph: TokenGraph
    curves: CurveCache
    span_bits: int


def best_products(
    network: CandidateNetwork, source: TokenAddress, rate: Callable[[Edge], float]
) -> dict[TokenAddress, float]:
    """Per token reachable from ``source``, the best product of ``rate`` over the edge
    paths leading to it (the network is a DAG: one pass in topological order)."""
    by_source: dict[TokenAddress, list[Edge]] = {}
    for edge in network.edges:
        by_source.setdefault(edge.token_in, []).append(edge)
    best: dict[TokenAddress, float] = {source: 1.0}
    for token in network.order:
        here = best.get(token)
        if here is None:
            continue
        for edge in by_source.get(token, ()):
            r = here * rate(edge)
            # a product that underflows to 0.0 still marks the token reachable
            if edge.token_out not in best or r > best[edge.token_out]:
                best[edge.token_out] = r
    return best


def _potential(
    graph: TokenGraph, wide: CandidateNetwork, sell: TokenAddress
) -> dict[TokenAddress, float]:
    """Best spot product from the sell token over the pricing network (flow at a token is
    at most sell input x potential, since every curve lies below its spot line); the scales
    then hold while priced pools join the model. A chain of stale pools can make that bound
    absurd (order 15 of the mainnet auction: 0.01 WETH "worth" 5.9e11 DAI through three
    mispriced shallow pools), which scales the rows so far that the LP's coefficients
    vanish; so a token's potential is also held to VALUE_SLACK times the sell token's worth
    of it at reference prices."""
    potential = best_products(wide, sell, lambda edge: edge.rate)
    sell_price = graph.prices.get(sell)
    if sell_price:
        for token, bound in potential.items():
            price = graph.prices.get(token)
            if price:
                potential[token] = min(bound, VALUE_SLACK * sell_price / price)
    return potential


def build_model(
    sampling: Sampling,
    network: CandidateNetwork,
    wide: CandidateNetwork,
    order: Order,
    single: Route | None,
) -> SplitModel | None:
    """The model of ``order`` over ``network``, scaled by the potentials over ``wide``
    (``single``, the best single path, sets a buy order's scale); ``None`` if the buy token
    is out of reach."""
    sell, buy, amount, kind = order
    potential = _potential(sampling.graph, wide, sell)
    if buy not in potential:
        return None
    # edges out of tokens the sell token cannot reach carry nothing: leave them out;
    # the single path's pools are in where the pricing network reaches them, so the LP
    # starts no worse than it (a hop of it through a multi-token pool that the network
    # gave to another pair leaves the tokens after it unreached: those edges stay out)
    edges = [e for e in network.edges if e.token_in in potential]
    if single is not None:
        legs = {(leg.pool, leg.token_in, leg.token_out) for leg in single.legs}
        present = {e.key for e in edges}
        edges += [
            e
            for e in wide.edges
            if e.key in legs and e.key not in present and e.token_in in potential
        ]
    network = CandidateNetwork(
        network.paths, tuple(edges), tuple(t for t in network.order if t in potential)
    )
    if kind is OrderKind.SELL:
        sell_input = float(amount)
    elif single is not None:
        sell_input = float(single.amount_in)
    else:
        sell_input = amount / potential[buy] * 64
    scale = {t: max(sell_input * p, 1.0) for t, p in potential.items()}
    model = SplitModel(network, kind, sell, buy, amount, scale, [], [])
    model.network = CandidateNetwork(network.paths, (), network.order)
    add_edges(sampling, model, network.edges)
    return model


def add_edges(sampling: Sampling, model: SplitModel, edges: Sequence[Edge]) -> None:
    """Append ``edges`` to the model with their breakpoint grids and gas."""
    objective_token = model.buy if model.kind is OrderKind.SELL else model.sell
    for edge in edges:
        cap = model.scale.get(edge.token_in)
        model.breakpoints.append([] if cap is None else grid(sampling, edge, cap, ()))
        gas = sampling.graph.gas_cost(edge.pool.gas, objective_token)
        model.gas_cost.append(gas / model.scale[objective_token])
    net = model.network
    model.network = CandidateNetwork(net.paths, (*net.edges, *edges), net.order)


def grid(sampling: Sampling, edge: Edge, cap: float, extra: Sequence[int]) -> Breakpoints:
    """Breakpoints ``(amount_in, amount_out)`` from 0 to the power of two above ``cap``
    (or the pool's limit), plus ``extra`` inputs; exact outputs, concave slopes."""
    curve = sampling.curves.curve(edge)
    top_bits = max(int(cap).bit_length(), 1)
    low_bits = max(top_bits - sampling.span_bits, 0)
    xs = sorted({*(1 << b for b in range(low_bits, top_bits + 1)), *extra})
    points: Breakpoints = [(0, 0)]
    for x in xs:
        if x <= points[-1][0]:
            continue
        out = curve.out(x)
        if out is None:
            limit = curve.last_feasible(points[-1][0], x)
            out = curve.out(limit) if limit > points[-1][0] else None
            if out is not None and out > points[-1][1]:
                points.append((limit, out))
            break
        if out > points[-1][1]:
            points.append((x, out))
    top = points[-1][0]
    if len(points) <= _SHALLOW_POINTS and top > 1 and top >> _SHALLOW_POINTS not in extra:
        # a shallow pool ends within the grid's first steps: its useful range gets
        # breakpoints of its own, else the LP sees one chord far below its spot rate
        return grid(sampling, edge, cap, sorted({*extra, *(top >> k for k in range(1, 8))}))
    return points


def refine(
    sampling: Sampling,
    model: SplitModel,
    solution: Solution,
    extra: list[set[int]],
    delta: float,
) -> None:
    """Breakpoints added at the solution's flows and ``delta`` either side of them."""
    for i, x in enumerate(solution.flow_in):  # edges added since have no flow yet
        edge = model.network.edges[i]
        if x <= 0:
            continue
        # earlier rounds' points outside the new spacing only grow the LP: drop them
        near = {p for p in extra[i] if x * (1 - delta) <= p <= x * (1 + delta)}
        extra[i] = near | {max(int(p), 1) for p in (x, x * (1 - delta), x * (1 + delta))}
        cap = model.scale[edge.token_in]
        model.breakpoints[i] = grid(sampling, edge, cap, sorted(extra[i]))


def sub_model(model: SplitModel, keep: Sequence[int], breakpoints: list[Breakpoints]) -> SplitModel:
    """``model`` over its edges ``keep`` only, with their ``breakpoints``."""
    net = model.network
    return SplitModel(
        CandidateNetwork(net.paths, tuple(net.edges[i] for i in keep), net.order),
        model.kind,
        model.sell,
        model.buy,
        model.amount,
        model.scale,
        breakpoints,
        [model.gas_cost[i] for i in keep],
    )


def near(points: Breakpoints, flow: float) -> Breakpoints:
    """The origin and the breakpoints within a factor ``MIP_SPAN`` of ``flow``: enough for
    the MIP to keep a pool near its LP flow, absorb a dropped neighbour's share, or drop
    it, in a model a fraction of the LP's size."""
    if flow <= 0:
        return points
    close = [p for p in points[1:] if flow / MIP_SPAN <= p[0] <= flow * MIP_SPAN]
    return [points[0], *close] if close else points


def restrict(model: SplitModel, solution: Solution, single: Route | None) -> SplitModel:
    """The model over the edges the LP used and those of the single path: the MIP then
    decides which of them are worth their gas."""
    keep_pools = set(single.pools) if single is not None else set()
    keep = [
        i
        for i, edge in enumerate(model.network.edges)
        if solution.flow_in[i] > 0 or edge.pool.id in keep_pools
    ]
    return sub_model(model, keep, [near(model.breakpoints[i], solution.flow_in[i]) for i in keep])


def padded(solution: Solution, n_edges: int) -> Solution:
    """``solution`` with no flow on the edges the model gained after it was solved."""
    pad = [0.0] * (n_edges - len(solution.flow_in))
    return Solution(solution.flow_in + pad, solution.flow_out + pad, solution.objective)
