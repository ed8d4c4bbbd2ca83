"""Routing along given token paths, with exact pool math per hop: the candidate paths of an
order (its best few, or the baseline's over base tokens), the best of them for an amount,
one path with each hop split over parallel pools, the path carrying most of a route's
flow, and an upper bound on any route's rate (``BestRates``: no route, split or not, beats
the best product of marginal rates)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from routing.baseline import base_token_paths, best_gross_legs, make_route
from routing.graph import TokenGraph
from routing.paths import candidate_paths
from routing.pool import PoolMathError, TokenAddress
from routing.quotes import Quotes
from routing.route import Leg, NoRoute, OrderKind, Route

Path = tuple[TokenAddress, ...]

SEARCH_PATHS = 3
"""Token paths ``best_paths`` keeps (besides the direct pair)."""
SPLIT_POOLS = 3
SPLIT_CHUNKS = 16
"""``split_along`` splits each hop over this many pools in this many chunks."""


def best_paths(graph: TokenGraph, sell: TokenAddress, buy: TokenAddress, amount: int) -> list[Path]:
    """The ``SEARCH_PATHS`` best token paths for ``amount`` of ``sell``, and the direct
    pair."""
    found = candidate_paths(
        graph,
        sell,
        buy,
        max_paths=SEARCH_PATHS,
        level=graph.level(sell, amount),
        include=[(sell, buy)],
    )
    return [path.tokens for path in found]


def base_paths(graph: TokenGraph, sell: TokenAddress, buy: TokenAddress) -> list[Path]:
    """The baseline's paths that trade: direct, or through up to two base tokens; kept per
    graph and pair (``TokenGraph.memo``; one list, not to be changed)."""
    key = ("base_paths", sell, buy)
    found = graph.memo.get(key)
    if found is None:
        found = graph.memo[key] = [
            p
            for p in base_token_paths(sell, buy)
            if all(graph.edges(u, v) for u, v in itertools.pairwise(p))
        ]
    return found  # type: ignore[return-value]


def route_along(
    graph: TokenGraph,
    paths: Sequence[Path],
    sell: TokenAddress,
    buy: TokenAddress,
    amount: int,
    kind: OrderKind,
    quotes: Quotes | None = None,
) -> Route:
    """The best of ``paths`` for ``amount`` (gross), exact pool math per hop
    (``baseline.best_gross_legs``, sharing ``quotes``); raises ``NoRoute`` when none
    fills it."""
    legs = best_gross_legs(graph, paths, amount, kind, quotes)
    if legs is None:
        raise NoRoute(f"no search path fills {amount}")
    return make_route(graph, "path", kind, sell, buy, legs)


def split_along(
    graph: TokenGraph, path: Sequence[TokenAddress], amount: int
) -> tuple[tuple[Leg, ...], int] | None:
    """Swap ``amount`` along ``path``, each hop split over its best ``SPLIT_POOLS`` parallel
    pools: the hop's input goes in ``SPLIT_CHUNKS`` chunks, each to the pool whose next
    chunk pays most (greedy on concave curves, exact pool math throughout)."""
    legs: list[Leg] = []
    flowing = amount
    for u, v in itertools.pairwise(path):
        edges = graph.edges(u, v)[:SPLIT_POOLS]
        given = [0] * len(edges)
        paid = [0] * len(edges)
        chunk, rest = divmod(flowing, SPLIT_CHUNKS)
        for step in range(SPLIT_CHUNKS):
            size = chunk + (rest if step == SPLIT_CHUNKS - 1 else 0)
            if size <= 0:
                continue
            best: tuple[int, int] | None = None  # (gain, edge index)
            for i, edge in enumerate(edges):
                try:
                    out = edge.pool.amount_out(u, v, given[i] + size)
                except PoolMathError:
                    continue
                if best is None or out - paid[i] > best[0]:
                    best = (out - paid[i], i)
            if best is None:
                return None
            given[best[1]] += size
            paid[best[1]] += best[0]
        legs += [
            Leg(edges[i].pool.id, u, v, given[i], paid[i]) for i in range(len(edges)) if given[i]
        ]
        flowing = sum(paid)
        if flowing <= 0:
            return None
    return tuple(legs), flowing


def main_path(legs: Sequence[Leg], sell: TokenAddress, buy: TokenAddress) -> Path | None:
    """The token path carrying the most flow: from ``sell``, follow the largest leg."""
    path = [sell]
    token = sell
    while token != buy:
        out = [leg for leg in legs if leg.token_in == token and leg.token_out not in path]
        if not out:
            return None
        token = max(out, key=lambda leg: leg.amount_in).token_out
        path.append(token)
    return tuple(path)


_Reach = tuple[dict[TokenAddress, float], dict[TokenAddress, list[tuple[float, TokenAddress]]]]


class BestRates:
    """The best product of per-hop rates over simple paths of at most three hops, per
    (sell token, probe level), cached per sell token."""

    def __init__(self, graph: TokenGraph) -> None:
        self.graph = graph
        self._reach: dict[tuple[TokenAddress, int | None], _Reach] = {}
        self._into: dict[tuple[TokenAddress, int | None], list[tuple[TokenAddress, float]]] = {}
        self._rates: dict[tuple[TokenAddress, TokenAddress, int | None], float] = {}

    def rate(self, sell: TokenAddress, buy: TokenAddress, level: int | None = None) -> float:
        """At ``level`` (``None``: marginal rates after fee, which no route, split or not,
        can beat; otherwise realised rates of swaps worth ``PROBES[level]`` wei). Kept per
        pair and level (the orders of a pair ask the same)."""
        key = (sell, buy, level)
        found = self._rates.get(key)
        if found is None:
            found = self._rates[key] = self._rate(sell, buy, level)
        return found

    def _rate(self, sell: TokenAddress, buy: TokenAddress, level: int | None) -> float:
        reach = self._reach.get((sell, level))
        if reach is None:
            reach = self._reach[(sell, level)] = self._two_hops(sell, level)
        one, two = reach
        best = self.graph.successors(sell, level).get(buy, 0.0)
        for token, last in self._last_hops(buy, level):
            if token != sell:
                best = max(best, one.get(token, 0.0) * last)
            for value, via in two.get(token, ()):
                if via != buy:
                    best = max(best, value * last)
                    break
        return best

    def _last_hops(self, buy: TokenAddress, level: int | None) -> list[tuple[TokenAddress, float]]:
        """(token, best rate of its hop into ``buy``) over ``buy``'s predecessors, kept."""
        key = (buy, level)
        found = self._into.get(key)
        if found is None:
            tokens = self.graph.graph.predecessors(buy) if buy in self.graph else ()
            found = self._into[key] = [
                (t, self.graph.successors(t, level).get(buy, 0.0)) for t in tokens
            ]
        return found

    def _two_hops(self, sell: TokenAddress, level: int | None) -> _Reach:
        """One-hop rates from ``sell``, and per token the two best two-hop rates with
        distinct middle tokens (so one can always avoid the target)."""
        one = {t: r for t, r in self.graph.successors(sell, level).items() if t != sell}
        two: dict[TokenAddress, list[tuple[float, TokenAddress]]] = {}
        for middle, first in one.items():
            for token, rate in self.graph.successors(middle, level).items():
                if token == sell:
                    continue
                ranked = two.setdefault(token, [])
                ranked.append((first * rate, middle))
                if len(ranked) > 2:
                    ranked.sort(reverse=True)
                    del ranked[2:]
        for ranked in two.values():
            ranked.sort(reverse=True)
        return one, two
