"""Candidate generation for one order: the token paths priced as single paths, the
candidate network the LP starts from, and the wider pricing network column generation
draws pools from."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from routing.graph import TokenGraph
from routing.paths import CandidateNetwork, candidate_network, candidate_paths
from routing.pool import TokenAddress


class Candidates(NamedTuple):
    tried: list[tuple[TokenAddress, ...]]
    """Token paths priced as single paths (the best by rate, then ``include``)."""
    network: CandidateNetwork
    """The LP's starting network."""
    wide: CandidateNetwork | None
    """The pricing network (``None`` without column generation)."""


class Limits(NamedTuple):
    """``RouterConfig``'s candidate limits."""

    max_paths: int
    max_parallel: int
    max_pools: int
    pricing_paths: int


def order_candidates(
    graph: TokenGraph,
    limits: Limits,
    pair: tuple[TokenAddress, TokenAddress],
    level: int | None,
    hops: int,
    include: Sequence[tuple[TokenAddress, ...]],
) -> Candidates:
    """The candidates of ``pair`` (sell, buy) at depth ``level`` within ``hops`` hops;
    ``include`` (the base-token paths) are always among the tried paths."""
    sell, buy = pair
    paths = candidate_paths(
        graph,
        sell,
        buy,
        max_hops=hops,
        max_paths=limits.max_paths,
        level=level,
        include=include,
    )
    if not paths and level is not None:
        # no pool takes an order this size in one go: rank by spot rate instead
        paths = candidate_paths(
            graph, sell, buy, max_hops=hops, max_paths=limits.max_paths, include=include
        )
    tried = list(dict.fromkeys([*(p.tokens for p in paths), *include]))
    network = candidate_network(
        graph,
        paths,
        max_parallel=limits.max_parallel,
        max_pools=limits.max_pools,
        level=level,
    )
    if limits.pricing_paths <= 0:
        return Candidates(tried, network, None)
    wide_paths = candidate_paths(
        graph,
        sell,
        buy,
        max_hops=hops,
        max_paths=max(limits.pricing_paths, limits.max_paths),
        level=level,
        include=[*(p.tokens for p in paths), *include],
    )
    unlimited = len(graph.pools) + 1
    wide = candidate_network(
        graph, wide_paths, max_parallel=unlimited, max_pools=unlimited, level=level
    )
    # the LP starts from the candidate network's pools that fit the pricing DAG
    keys = {e.key for e in network.edges}
    start = tuple(e for e in wide.edges if e.key in keys)
    if not start:
        return Candidates(tried, network, None)
    return Candidates(tried, CandidateNetwork(network.paths, start, wide.order), wide)
