"""AMM quotes for clearing a CoW pair (``solver.engines.batch``): the token paths a pair's
imbalance may be sold along, their gas, the market rate and exact quotes along them."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace
from fractions import Fraction

from routing.baseline import base_token_paths, execute_path
from routing.graph import TokenGraph
from routing.optimizer import Router
from routing.path_routing import main_path, split_along
from routing.pool import TokenAddress
from routing.route import Leg, NoRoute
from routing.route import OrderKind as RouteKind
from solver.engines.cow import AmmQuote
from solver.merge_legs import PoolState, ReplayFailed, replay_route

SPOT_PROBE = 10**18
"""Native wei (one native token) swapped to read a path's market rate: smaller probes
read shallow off-market pools."""


class AmmQuotes:
    """Quotes over one token graph; paths cached per direction."""

    def __init__(
        self, graph: TokenGraph, router: Router, reference: dict[TokenAddress, int]
    ) -> None:
        self.graph = graph
        self.router = router
        self.reference = reference
        self._paths: dict[tuple[TokenAddress, TokenAddress], list[tuple[TokenAddress, ...]]] = {}

    def paths_of(self, sell: TokenAddress, buy: TokenAddress) -> list[tuple[TokenAddress, ...]]:
        """Token paths the AMM quote tries, cached per direction: the router's main path for
        one native token's worth and the base-token paths of at most one intermediate."""
        key = (sell, buy)
        if key not in self._paths:
            paths = [p for p in base_token_paths(sell, buy, max_intermediate=1)]
            price = self.reference.get(sell)
            if price:
                amount = max(10**36 // price, 1)
                try:
                    main = main_path(
                        self.router.route(sell, buy, amount, RouteKind.SELL).legs, sell, buy
                    )
                except NoRoute:
                    main = None
                if main is not None:
                    paths.insert(0, main)
            self._paths[key] = list(dict.fromkeys(paths))
        return self._paths[key]

    def path(self, sell: TokenAddress, buy: TokenAddress) -> tuple[TokenAddress, ...] | None:
        """The first path that trades (for the gas estimate of a group's AMM leg)."""
        for path in self.paths_of(sell, buy):
            if all(self.graph.edges(u, v) for u, v in itertools.pairwise(path)):
                return path
        return None

    def path_gas(self, path: Sequence[TokenAddress] | None) -> int:
        if not path:
            return 0
        return sum(
            edges[0].pool.gas
            for u, v in itertools.pairwise(path)
            if (edges := self.graph.edges(u, v))
        )

    def spot(self, quote: AmmQuote, sell: TokenAddress, buy: TokenAddress) -> Fraction | None:
        """The AMM path's rate for a swap worth ``SPOT_PROBE`` native wei: the market
        end of the bisection (the graph's marginal rates can come from dust pools)."""
        price = self.reference.get(sell)
        if not price:
            return None
        amount = max(SPOT_PROBE * 10**18 // price, 1)
        found = quote(sell, buy, amount)
        return Fraction(found[1], amount) if found and found[1] > 0 else None

    def quote(self) -> AmmQuote:
        """Exact AMM output along the best of the direction's paths for the amount."""

        def quote(
            sell: TokenAddress, buy: TokenAddress, amount: int
        ) -> tuple[tuple[Leg, ...], int, int] | None:
            best: tuple[Leg, ...] | None = None
            for path in self.paths_of(sell, buy):
                legs = execute_path(self.graph, path, amount, RouteKind.SELL)
                if legs is not None and (best is None or legs[-1].amount_out > best[-1].amount_out):
                    best = legs
            if best is None:
                return None
            gas = sum(self.graph.pools[p].gas for p in dict.fromkeys(leg.pool for leg in best))
            return best, best[-1].amount_out, gas

        return quote

    def along(self, legs: Sequence[Leg]) -> AmmQuote:
        """Exact output of ``legs`` (a clearing's swaps) for another amount: the first
        hop's legs keep their shares of it (the remainder on the first), later hops
        theirs of what the hops before produce (``solver.merge_legs.replay_route``).
        Cheap: no path search, for the last bisection steps."""
        gas = sum(self.graph.pools[p].gas for p in dict.fromkeys(leg.pool for leg in legs))

        def quote(
            sell: TokenAddress, buy: TokenAddress, amount: int
        ) -> tuple[tuple[Leg, ...], int, int] | None:
            firsts = [i for i, leg in enumerate(legs) if leg.token_in == sell]
            start = sum(legs[i].amount_in for i in firsts)
            if not firsts or amount <= 0:
                return None
            shares = [legs[i].amount_in * amount // start for i in firsts]
            shares[0] += amount - sum(shares)
            scaled = list(legs)
            for i, share in zip(firsts, shares, strict=True):
                scaled[i] = replace(legs[i], amount_in=share)
            try:
                replayed = replay_route(PoolState(self.graph.pools), scaled, sell)
            except ReplayFailed:
                return None
            return replayed.legs, replayed.net.get(buy, 0), gas

        return quote

    def split_quote(self) -> AmmQuote:
        """The cheap quote's best path, each hop split over parallel pools when that pays
        more (slower: used for the last bisection steps)."""
        cheap = self.quote()

        def quote(
            sell: TokenAddress, buy: TokenAddress, amount: int
        ) -> tuple[tuple[Leg, ...], int, int] | None:
            found = cheap(sell, buy, amount)
            if found is None:
                return None
            path = [found[0][0].token_in, *(leg.token_out for leg in found[0])]
            split = split_along(self.graph, path, amount)
            if split is None or split[1] <= found[1]:
                return found
            legs, out = split
            gas = sum(self.graph.pools[p].gas for p in dict.fromkeys(leg.pool for leg in legs))
            return legs, out, gas

        return quote
