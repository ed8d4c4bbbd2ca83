"""Single-path strategies: the references the optimizer must beat.

* ``baseline_route`` — the CoW Protocol baseline solver's algorithm (cowprotocol/services,
  ``shared::baseline_solver``): candidate paths are the direct pair and every path through
  one or two distinct base tokens (WETH, USDC, USDT, DAI, WBTC); along a path each hop takes
  the single pool with the best amount (most out for sell orders, least in for buy orders);
  the path with the best gross amount wins.
* ``best_single_pool_route`` — the best one pool that trades the pair directly.
* ``best_path_route`` — the best of given token paths net of gas (the optimizer's fallback).

Everything is exact integer pool math; ``execute_path`` turns a path into conserving legs.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Iterable, Sequence
from functools import partial

from routing.covering import covering_input
from routing.graph import Edge, TokenGraph
from routing.paths import path_rate
from routing.pool import PoolId, PoolMathError, TokenAddress
from routing.quotes import SPOT_SLACK, Quotes, own_in_bound, own_out_bound
from routing.route import Leg, NoRoute, OrderKind, Route

WETH = TokenAddress("0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2")
USDC = TokenAddress("0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48")
USDT = TokenAddress("0xdac17f958d2ee523a2206206994597c13d831ec7")
DAI = TokenAddress("0x6b175474e89094c44da98b954eedeac495271d0f")
WBTC = TokenAddress("0x2260fac5e5542a773aa44fbcfedf7c193bc2c599")
BASE_TOKENS: tuple[TokenAddress, ...] = (WETH, USDC, USDT, DAI, WBTC)
MAX_BASE_HOPS = 2
"""Intermediate base tokens on a baseline path (CoW's ``DEFAULT_MAX_HOPS``)."""


def base_token_paths(
    sell: TokenAddress,
    buy: TokenAddress,
    base_tokens: Iterable[TokenAddress] = BASE_TOKENS,
    max_intermediate: int = MAX_BASE_HOPS,
) -> list[tuple[TokenAddress, ...]]:
    """The direct pair plus every path through up to ``max_intermediate`` distinct base
    tokens (never the buy token, never a token already on the path)."""
    if sell == buy:
        return []
    bases = sorted(set(base_tokens))
    paths: list[tuple[TokenAddress, ...]] = []
    prefixes: list[tuple[TokenAddress, ...]] = [(sell,)]
    for _ in range(max_intermediate + 1):
        paths.extend((*prefix, buy) for prefix in prefixes)
        prefixes = [(*p, b) for p in prefixes for b in bases if b != buy and b not in p]
    return paths


def _best_out(
    edges: Sequence[Edge],
    amount_in: int,
    used: Collection[PoolId] = (),
    quotes: Quotes | None = None,
    floor: float | None = None,
) -> tuple[Edge, int] | None:
    """The pool paying most for ``amount_in`` among ``edges`` (best spot rate first; ties:
    the first): no pool pays more than ``amount_in`` at its spot rate (curves are
    concave), so the exact math stops at the first pool whose spot bound cannot beat the
    best exact output, and skips one whose own bound (``routing.quotes.own_out_bound``)
    cannot. ``floor``: outputs below it are of no use to the caller; pools that cannot
    reach it are not computed (the pick is then one below it, or ``None``)."""
    quotes = quotes or Quotes()
    best = _best_edge(
        edges,
        used,
        lambda edge: amount_in * edge.rate * (1 + SPOT_SLACK),
        lambda edge: own_out_bound(edge, amount_in),
        lambda edge: quotes.out(edge, amount_in),
        floor,
    )
    return None if best is None else (best[1], best[0])


def _best_in(
    edges: Sequence[Edge],
    amount_out: int,
    used: Collection[PoolId] = (),
    quotes: Quotes | None = None,
    ceiling: float | None = None,
) -> tuple[Edge, int] | None:
    """The pool asking least to cover ``amount_out`` among ``edges`` (best spot rate
    first; ties: the first); stops at the first pool whose spot bound (no pool asks less
    than ``amount_out`` at its spot rate) cannot beat the best exact input, and skips one
    whose own bound (``routing.quotes.own_in_bound``) cannot. ``ceiling``: inputs above it
    are of no use to the caller; pools that cannot ask less are not computed."""
    quotes = quotes or Quotes()

    def needed(edge: Edge) -> int | None:
        quoted = quotes.quoted_in(edge, amount_out)
        if quoted is None:
            return None
        # None: this pool cannot pay it exactly; the next candidate may
        covering = covering_input(partial(quotes.out, edge), quoted, amount_out)
        return None if covering is None else -covering

    def own(edge: Edge) -> float | None:
        bound = own_in_bound(edge, amount_out)
        return None if bound is None else -bound

    best = _best_edge(
        edges,
        used,
        lambda edge: -amount_out / (edge.rate * (1 + SPOT_SLACK)),
        own,
        needed,
        None if ceiling is None else -ceiling,
    )
    return None if best is None else (best[1], -best[0])


def _best_edge(
    edges: Sequence[Edge],
    used: Collection[PoolId],
    spot: Callable[[Edge], float],
    own: Callable[[Edge], float | None],
    score: Callable[[Edge], int | None],
    floor: float | None = None,
) -> tuple[int, Edge] | None:
    """(score, edge) of the edge with the highest exact ``score`` (``None``: the edge
    cannot serve; ties: the earlier edge), pools in ``used`` left out. ``spot`` bounds the
    score and falls along ``edges``: the search stops at the first edge whose bound
    cannot beat the best score. ``own`` is a tighter bound where an edge has one (else
    ``None``): those edges are scored last, best bound first, once the others have set a
    best score that the bound may rule them out against. ``floor``: scores below it are
    of no use to the caller, so the search also stops at the first bound below it (the
    result is then below it too, or ``None``; at or above it, the same)."""
    best: tuple[int, int, Edge] | None = None  # (score, index, edge)
    waiting: list[tuple[float, int, Edge]] = []
    for index, edge in enumerate(edges):
        bound_here = spot(edge)
        if (best is not None and bound_here < best[0]) or (
            floor is not None and bound_here < floor
        ):
            break
        if edge.pool.id in used:
            continue
        bound = own(edge)
        if bound is not None:
            waiting.append((-bound, index, edge))
            continue
        best = _better(best, score(edge), index, edge)
    for negative_bound, index, edge in sorted(waiting):
        if (best is not None and -negative_bound < best[0]) or (
            floor is not None and -negative_bound < floor
        ):
            break
        best = _better(best, score(edge), index, edge)
    return None if best is None else (best[0], best[2])


def _better(
    best: tuple[int, int, Edge] | None, score: int | None, index: int, edge: Edge
) -> tuple[int, int, Edge] | None:
    """The better of ``best`` and the edge's ``score`` (ties: the earlier index)."""
    if score is not None and (
        best is None or score > best[0] or (score == best[0] and index < best[1])
    ):
        return (score, index, edge)
    return best


def _out(edge: Edge, amount_in: int) -> int | None:
    try:
        return edge.pool.amount_out(edge.token_in, edge.token_out, amount_in)
    except PoolMathError:
        return None


def _path_out(edges: Sequence[Edge], quotes: Quotes, amount_in: int) -> int | None:
    legs = replay(edges, amount_in, quotes)
    return None if legs is None else legs[-1].amount_out


def execute_path(
    graph: TokenGraph,
    tokens: Sequence[TokenAddress],
    amount: int,
    kind: OrderKind,
    quotes: Quotes | None = None,
    beat: int | None = None,
) -> tuple[Leg, ...] | None:
    """Legs along ``tokens`` with the best pool per hop, or ``None`` if a hop cannot fill.

    Sell orders go forward from ``amount`` in. Buy orders pick pools backward from
    ``amount`` out (per hop the pool with the least input whose exact output covers the
    hop's need, ``routing.covering``; a pool that cannot cover it leaves the hop to the
    next), then replay forward from the resulting input so every leg passes on its whole
    exact output (the final output is at least ``amount``, bumped if ever short).
    A pool serves one hop of the path at most: a multi-token pool swapped through twice
    would see its untouched reserves the second time, so the amounts would not be the ones
    executed (and rounding on a dust hop through it can be exploited). ``quotes``: exact
    pool answers already computed (shared by the paths of one order).

    ``beat``: an amount the caller already has along another path (sell: out; buy: in);
    ``None`` as soon as this path provably cannot do strictly better: its hops routed so
    far, with the spot bounds of the hops left (as ``best_gross_legs`` bounds a path),
    cannot get past it (a pool that could not is not computed either).
    """
    hops = list(itertools.pairwise(tokens))
    if not hops or amount <= 0:
        return None
    quotes = quotes or Quotes()
    bounds = None if beat is None else _hop_bounds(graph, hops)
    if bounds is not None and not all(bounds):  # a hop without a pool that pays
        return None
    chosen: list[Edge] = []
    if kind is OrderKind.BUY:
        needed = amount
        for i in reversed(range(len(hops))):
            u, v = hops[i]
            # the hops before this one ask at least its input over their spot bounds
            ceiling = None if bounds is None or beat is None else beat * _product(bounds[:i])
            used = {e.pool.id for e in chosen}
            pick = _best_in(graph.edges(u, v), needed, used, quotes, ceiling)
            if pick is None or (ceiling is not None and pick[1] > ceiling):
                return None
            chosen.append(pick[0])
            needed = pick[1]
        chosen.reverse()
        replayed = replay(chosen, needed, quotes)
        if replayed is not None and replayed[-1].amount_out < amount:  # a hop came up short
            covering = covering_input(partial(_path_out, chosen, quotes), needed, amount)
            replayed = None if covering is None else replay(chosen, covering, quotes)
        return replayed
    legs: list[Leg] = []
    flowing = amount
    for i, (u, v) in enumerate(hops):
        # the hops after this one pay at most its output times their spot bounds
        floor = None if bounds is None or beat is None else beat / _product(bounds[i + 1 :])
        best = _best_out(graph.edges(u, v), flowing, [leg.pool for leg in legs], quotes, floor)
        if best is None or best[1] <= 0 or (floor is not None and best[1] < floor):
            return None
        legs.append(Leg(best[0].pool.id, u, v, flowing, best[1]))
        flowing = best[1]
    return tuple(legs)


def _hop_bounds(
    graph: TokenGraph, hops: Sequence[tuple[TokenAddress, TokenAddress]]
) -> list[float]:
    """Per hop, the best spot rate of its pools within ``SPOT_SLACK``: no pool of the hop
    pays more per unit (0.0: no pool)."""
    return [graph.successors(u).get(v, 0.0) * (1 + SPOT_SLACK) for u, v in hops]


def _product(rates: Sequence[float]) -> float:
    total = 1.0
    for rate in rates:
        total *= rate
    return total


def replay(
    edges: Sequence[Edge], amount_in: int, quotes: Quotes | None = None
) -> tuple[Leg, ...] | None:
    """Swap ``amount_in`` through ``edges`` in sequence, each leg taking the previous output."""
    quotes = quotes or Quotes()
    legs: list[Leg] = []
    flowing = amount_in
    for edge in edges:
        out = quotes.out(edge, flowing)
        if out is None or out <= 0:
            return None
        legs.append(Leg(edge.pool.id, edge.token_in, edge.token_out, flowing, out))
        flowing = out
    return tuple(legs)


def make_route(
    graph: TokenGraph,
    strategy: str,
    kind: OrderKind,
    sell: TokenAddress,
    buy: TokenAddress,
    legs: Sequence[Leg],
    explanation: Sequence[str] = (),
) -> Route:
    """A ``Route`` from conserving legs: totals, gas of the distinct pools, and price impact
    against the best spot rate along the legs' own pools."""
    amount_in, amount_out = leg_totals(legs, sell, buy)
    gas = sum(graph.pools[p].gas for p in dict.fromkeys(leg.pool for leg in legs))
    objective = buy if kind is OrderKind.SELL else sell
    reach: dict[TokenAddress, float] = {sell: 1.0}
    for leg in legs:
        spot = graph.pools[leg.pool].spot_price(leg.token_in, leg.token_out)
        reach[leg.token_out] = max(reach.get(leg.token_out, 0.0), reach[leg.token_in] * spot)
    spot_rate = reach.get(buy, 0.0)
    impact = (1.0 - amount_out / (amount_in * spot_rate)) * 1e4 if spot_rate > 0 else 0.0
    return Route(
        strategy=strategy,
        kind=kind,
        sell_token=sell,
        buy_token=buy,
        legs=tuple(legs),
        amount_in=amount_in,
        amount_out=amount_out,
        gas=gas,
        gas_cost=graph.gas_cost(gas, objective),
        price_impact_bp=impact,
        explanation=tuple(explanation),
    )


def _path_text(legs: Sequence[Leg]) -> str:
    return " -> ".join([legs[0].token_in, *(f"[{leg.pool}] {leg.token_out}" for leg in legs)])


def _best_route(
    graph: TokenGraph,
    strategy: str,
    paths: Iterable[Sequence[TokenAddress]],
    sell: TokenAddress,
    buy: TokenAddress,
    amount: int,
    kind: OrderKind,
    *,
    net_of_gas: bool,
) -> Route | None:
    if not net_of_gas:
        legs = best_gross_legs(graph, paths, amount, kind)
        if legs is None:
            return None
        return make_route(
            graph, strategy, kind, sell, buy, legs, (f"single path {_path_text(legs)}",)
        )
    best: Route | None = None
    for tokens in paths:
        legs = execute_path(graph, tokens, amount, kind)
        if legs is None:
            continue
        why = (f"single path {_path_text(legs)}",)
        route = make_route(graph, strategy, kind, sell, buy, legs, why)
        if kind is OrderKind.BUY and route.amount_out < amount:
            continue
        if route.better_than(best):
            best = route
    return best


def best_gross_legs(
    graph: TokenGraph,
    paths: Iterable[Sequence[TokenAddress]],
    amount: int,
    kind: OrderKind,
    quotes: Quotes | None = None,
) -> tuple[Leg, ...] | None:
    """The legs along the path of ``paths`` with the best gross amount (sell: most out;
    buy: least in, covering ``amount``; ties: the earlier path), or ``None``.

    Branch and bound, exact all the same: no pool pays more than its spot rate (within
    ``SPOT_SLACK``), so no path returns more than ``amount`` times the product of its hops'
    best spot rates (a buy needs at least ``amount`` over it). Paths are routed best bound
    first, and once a bound cannot beat the best exact amount found, neither can the
    paths after it: they are not routed. ``quotes``: exact pool answers shared by the
    paths (and, when the caller passes them, by all of one order's routing). The path
    that won the last routing sharing ``quotes`` (``Quotes.last_path``: an order's routes
    at nearby amounts mostly take one path) is routed first, so the bound stops sooner;
    the winner is the same (the best amount, ties the earlier path, whatever the order).
    """
    quotes = quotes or Quotes()
    ranked = sorted(
        (-rate * (1 + SPOT_SLACK) ** (len(tokens) - 1), index, tokens)
        for index, tokens in enumerate(paths)
        if (rate := path_rate(graph, tokens)) is not None and len(tokens) > 1
    )
    # the last winner first; the others stay in bound order, so the stop below holds
    first = next((i for i, item in enumerate(ranked) if item[2] == quotes.last_path), None)
    if first:
        ranked.insert(0, ranked.pop(first))
    best: tuple[int, int, tuple[Leg, ...]] | None = None  # (amount, path index, legs)
    for negative_bound, index, tokens in ranked:
        bound = -negative_bound
        if best is not None and (
            amount * bound < best[0] if kind is OrderKind.SELL else amount > best[0] * bound
        ):
            break
        legs = execute_path(graph, tokens, amount, kind, quotes, None if best is None else best[0])
        if legs is None:
            continue
        amount_in, amount_out = leg_totals(legs, tokens[0], tokens[-1])
        if kind is OrderKind.SELL:
            key = amount_out
            better = best is None or key > best[0]
        else:
            if amount_out < amount:
                continue
            key = amount_in
            better = best is None or key < best[0]
        if better or (best is not None and key == best[0] and index < best[1]):
            best = (key, index, legs)
    if best is None:
        return None
    quotes.last_path = (*(leg.token_in for leg in best[2]), best[2][-1].token_out)
    return best[2]


def leg_totals(legs: Sequence[Leg], sell: TokenAddress, buy: TokenAddress) -> tuple[int, int]:
    """(sell token in, buy token out) of conserving legs: a route's totals."""
    amount_in = sum(leg.amount_in for leg in legs if leg.token_in == sell)
    amount_out = sum(leg.amount_out for leg in legs if leg.token_out == buy)
    return amount_in, amount_out


def best_path_route(
    graph: TokenGraph,
    paths: Iterable[Sequence[TokenAddress]],
    sell: TokenAddress,
    buy: TokenAddress,
    amount: int,
    kind: OrderKind,
) -> Route | None:
    """The best single path among ``paths``, net of gas (best pool per hop)."""
    return _best_route(graph, "single-path", paths, sell, buy, amount, kind, net_of_gas=True)


def baseline_route(
    graph: TokenGraph,
    sell: TokenAddress,
    buy: TokenAddress,
    amount: int,
    kind: OrderKind = OrderKind.SELL,
    base_tokens: Iterable[TokenAddress] = BASE_TOKENS,
) -> Route:
    """The CoW baseline solver's route (best gross amount over base-token paths)."""
    paths = base_token_paths(sell, buy, base_tokens)
    route = _best_route(graph, "baseline", paths, sell, buy, amount, kind, net_of_gas=False)
    if route is None:
        raise NoRoute(f"no base-token path from {sell} to {buy} fills {amount}")
    return route


def best_single_pool_route(
    graph: TokenGraph,
    sell: TokenAddress,
    buy: TokenAddress,
    amount: int,
    kind: OrderKind = OrderKind.SELL,
) -> Route:
    """The best single pool trading ``sell -> buy`` directly (best gross amount)."""
    route = _best_route(
        graph, "single-pool", [(sell, buy)], sell, buy, amount, kind, net_of_gas=False
    )
    if route is None:
        raise NoRoute(f"no pool trades {sell} -> {buy} for {amount}")
    return route
