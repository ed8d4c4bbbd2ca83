"""The token graph: one directed edge per pool and direction, weighted by ``-log`` of the
marginal exchange rate after fee, so the best marginal path is the shortest one.

Built once per liquidity snapshot. Each edge also carries its *depth*: the realised rate of
swaps worth 0.0001 to 1000 native tokens (exact pool math), so candidate paths can be ranked
for the size of the order at hand, not only at the margin where a shallow, stale pool looks
best. Edges whose pool cannot trade (empty reserve, zero spot price) or is dust (a swap worth
0.0001 native tokens loses more than half of the spot rate) are left out and listed in
``pruned`` with the reason. Tokens without a reference price get one derived through the graph
(from priced neighbours, over the deepest pool), so gas can be charged in any token.
"""

from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import networkx as nx

from routing.pool import Pool, PoolId, PoolMathError, TokenAddress

logger = logging.getLogger(__name__)

PRICE_UNIT = 10**18
"""Reference prices are CoW's ``referencePrice``: native wei for ``10**18`` base units."""

PROBES: tuple[int, ...] = tuple(10**k for k in range(14, 22))
"""Swap sizes in native wei (0.0001 to 1000 native tokens) at which edge depth is sampled;
an edge that cannot swap the first at half its spot rate is dust."""


@dataclass(frozen=True, slots=True)
class Edge:
    """One pool in one direction. ``rate``: spot units of ``token_out`` per ``token_in``;
    ``depth[i]``: realised rate of a swap worth ``PROBES[i]`` wei (0.0 if the pool refuses;
    all equal to ``rate`` when the input token has no price)."""

    pool: Pool
    token_in: TokenAddress
    token_out: TokenAddress
    rate: float
    depth: tuple[float, ...] = ()

    @property
    def key(self) -> tuple[PoolId, TokenAddress, TokenAddress]:
        return (self.pool.id, self.token_in, self.token_out)


@dataclass(frozen=True, slots=True)
class PrunedEdge:
    pool: PoolId
    token_in: TokenAddress
    token_out: TokenAddress
    reason: str


def gas_in_token(gas: int, gas_price: int, price: int | None) -> int:
    """Wei cost of ``gas`` units expressed in base units of a token with reference ``price``
    (rounded down; 0 when the token has no price, so gas cannot be charged in it)."""
    if not price:
        return 0
    return gas * gas_price * PRICE_UNIT // price


class TokenGraph:
    """A ``networkx.MultiDiGraph`` of tokens; edge key = pool id, attribute ``edge`` = Edge.

    ``prices`` are reference prices (wei per ``10**18`` base units) and ``gas_price`` wei per
    gas unit, used to charge gas in any token.

    ``edges(u, v, level)`` lists the parallel pools of a pair, best first at depth ``level``
    (an index into ``PROBES``; ``None`` = spot rate).
    """

    def __init__(
        self,
        pools: Iterable[Pool],
        prices: Mapping[TokenAddress, int | None] | None = None,
        *,
        gas_price: int = 0,
    ) -> None:
        started = time.perf_counter()
        self.gas_price = int(gas_price)
        self.pools: dict[PoolId, Pool] = {}
        self.graph: nx.MultiDiGraph = nx.MultiDiGraph()
        known = {t: p for t, p in (prices or {}).items() if p}
        candidates: list[Edge] = []
        pruned: list[PrunedEdge] = []
        for pool in pools:
            self.pools[pool.id] = pool
            for token_in in pool.tokens:
                for token_out in pool.tokens:
                    if token_in == token_out:
                        continue
                    try:
                        rate = pool.spot_price(token_in, token_out)
                    except PoolMathError as exc:
                        pruned.append(PrunedEdge(pool.id, token_in, token_out, str(exc)))
                        continue
                    if not rate > 0 or math.isinf(rate):
                        pruned.append(PrunedEdge(pool.id, token_in, token_out, "no spot price"))
                        continue
                    candidates.append(Edge(pool, token_in, token_out, rate))
        self.prices: dict[TokenAddress, int] = derive_prices(candidates, known)
        for spot_edge in candidates:
            edge = _with_depth(spot_edge, self.prices.get(spot_edge.token_in))
            if edge.depth[0] < edge.rate / 2:
                reason = f"dust: a swap worth {PROBES[0]} wei loses more than half the spot rate"
                pruned.append(PrunedEdge(edge.pool.id, edge.token_in, edge.token_out, reason))
                continue
            self.graph.add_edge(
                edge.token_in,
                edge.token_out,
                key=edge.pool.id,
                edge=edge,
                weight=-math.log(edge.rate),
            )
        self.pruned: tuple[PrunedEdge, ...] = tuple(pruned)
        # per level (None = spot, i = PROBES[i]): parallel edges best first, best rate per pair
        self._pairs: dict[int | None, dict[tuple[TokenAddress, TokenAddress], tuple[Edge, ...]]]
        self._best: dict[int | None, dict[TokenAddress, dict[TokenAddress, float]]]
        self._pairs, self._best = {}, {}
        pairs = {(u, v) for u, v, _ in self.graph.edges(keys=True)}
        for level in (None, *range(len(PROBES))):
            by_pair = self._pairs[level] = {}
            best = self._best[level] = {}
            for u, v in pairs:
                parallel: list[Edge] = [data["edge"] for data in self.graph[u][v].values()]
                ranked = sorted(parallel, key=_rate_key(level))
                by_pair[(u, v)] = tuple(ranked)
                top = _rate_at(ranked[0], level)
                if top > 0:
                    best.setdefault(u, {})[v] = top
        self.memo: dict[tuple[object, ...], object] = {}
        """What is derived from the graph alone, kept by its users (the graph never
        changes once built)."""
        self.build_seconds = time.perf_counter() - started
        logger.info(
            "token graph: %d tokens, %d edges from %d pools (%d edges pruned) in %.1f ms",
            self.graph.number_of_nodes(),
            self.graph.number_of_edges(),
            len(self.pools),
            len(self.pruned),
            self.build_seconds * 1e3,
        )

    def with_gas_price(self, gas_price: int) -> TokenGraph:
        """This graph charging gas at ``gas_price`` (edges and prices shared, not rebuilt)."""
        twin = copy.copy(self)
        twin.gas_price = int(gas_price)
        return twin

    def edges(
        self, token_in: TokenAddress, token_out: TokenAddress, level: int | None = None
    ) -> tuple[Edge, ...]:
        """Parallel pools trading ``token_in -> token_out``, best first at ``level``."""
        return self._pairs[level].get((token_in, token_out), ())

    def successors(
        self, token: TokenAddress, level: int | None = None
    ) -> Mapping[TokenAddress, float]:
        """Tokens reachable in one hop, with the best rate to each at ``level``."""
        return self._best[level].get(token, {})

    def level(self, token: TokenAddress, amount: int) -> int | None:
        """The depth level closest (in log scale) to the value of ``amount`` of ``token``,
        or ``None`` (spot) when the token has no price."""
        price = self.prices.get(token)
        if not price or amount <= 0:
            return None
        value = amount * price // PRICE_UNIT
        if value <= 0:
            return 0
        exponent = round(math.log10(value))
        return min(max(exponent - 14, 0), len(PROBES) - 1)

    def gas_cost(self, gas: int, token: TokenAddress) -> int:
        """``gas`` units at this graph's gas price, in base units of ``token``."""
        return gas_in_token(gas, self.gas_price, self.prices.get(token))

    def __contains__(self, token: object) -> bool:
        return token in self.graph


def derive_prices(
    edges: Iterable[Edge], known: Mapping[TokenAddress, int]
) -> dict[TokenAddress, int]:
    """Reference prices for every token connected to a priced one.

    Breadth-first from the priced tokens: an unpriced token takes its price from the edge
    ``u -> token`` (``u`` priced) that keeps most of its spot rate on a swap worth 1 native
    token (the deepest pool), as ``price(u) * amount_in / amount_out``.
    """
    prices = dict(known)
    by_source: dict[TokenAddress, list[Edge]] = {}
    for edge in edges:
        by_source.setdefault(edge.token_in, []).append(edge)
    frontier = [t for t in prices if t in by_source]
    while frontier:
        offers: dict[TokenAddress, tuple[float, int]] = {}
        for token in frontier:
            for edge in by_source.get(token, ()):
                if edge.token_out in prices:
                    continue
                offer = _probe(edge, prices[token])
                if offer and offer[0] > offers.get(edge.token_out, (0.0, 0))[0]:
                    offers[edge.token_out] = offer
        for token, (_, price) in offers.items():
            prices[token] = price
        frontier = list(offers)
    return prices


def _probe(edge: Edge, price_in: int) -> tuple[float, int] | None:
    """(kept fraction of the spot rate, derived price of ``token_out``) for a swap worth 1
    native token, or ``None`` when the pool cannot take it."""
    amount_in = 10**18 * PRICE_UNIT // price_in
    if amount_in <= 0:
        return None
    try:
        out = edge.pool.amount_out(edge.token_in, edge.token_out, amount_in)
    except PoolMathError:
        return None
    if out <= 0:
        return None
    return out / amount_in / edge.rate, max(1, price_in * amount_in // out)


def _rate_at(edge: Edge, level: int | None) -> float:
    return edge.rate if level is None else edge.depth[level]


def _rate_key(level: int | None) -> Callable[[Edge], float]:
    """Sort key: best rate at ``level`` first."""
    return lambda edge: -_rate_at(edge, level)


def _with_depth(edge: Edge, price_in: int | None) -> Edge:
    """``edge`` with its realised rate at each probe size (spot rate if unpriced)."""
    if not price_in:
        return Edge(edge.pool, edge.token_in, edge.token_out, edge.rate, (edge.rate,) * len(PROBES))
    depth: list[float] = []
    for value in PROBES:
        amount_in = value * PRICE_UNIT // price_in
        rate = 0.0
        if amount_in <= 0:
            rate = edge.rate
        elif not depth or depth[-1] > 0:
            try:
                rate = edge.pool.amount_out(edge.token_in, edge.token_out, amount_in) / amount_in
            except PoolMathError:
                rate = 0.0
        depth.append(rate)
    return Edge(edge.pool, edge.token_in, edge.token_out, edge.rate, tuple(depth))
