"""Candidate generation: which pools an order may be routed through.

1. ``candidate_paths``: simple token paths of at most ``max_hops`` hops from the sell to the
   buy token, ranked by rate (product of the best rate of each hop, at the spot price or at
   the graph's depth level for the order's size, so shallow pools with stale prices do not
   crowd out deep ones), the best ``max_paths`` kept (plus any paths the caller insists on,
   e.g. the base-token ones);
2. ``candidate_network``: the union of those paths as a DAG of (pool, direction) edges, with
   up to ``max_parallel`` parallel pools per hop. Paths are added best first and a path that
   would close a cycle with the ones already taken is skipped, so the flow over the network
   can be executed leg by leg in topological order. A multi-token pool serves one pair only
   (two swaps through one snapshot would each see the untouched reserves).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import networkx as nx

from routing.graph import Edge, TokenGraph
from routing.pool import PoolId, TokenAddress

DEFAULT_MAX_HOPS = 3
DEFAULT_MAX_PATHS = 8
DEFAULT_MAX_PARALLEL = 4
DEFAULT_MAX_POOLS = 24


@dataclass(frozen=True, slots=True)
class TokenPath:
    """A simple token path; ``rate`` is the product of the best rate of each hop."""

    tokens: tuple[TokenAddress, ...]
    rate: float

    @property
    def hops(self) -> tuple[tuple[TokenAddress, TokenAddress], ...]:
        return tuple(zip(self.tokens, self.tokens[1:], strict=False))


@dataclass(frozen=True, slots=True)
class CandidateNetwork:
    """The pools an order may use: a DAG of edges whose tokens ``order`` sorts topologically
    (sell token first, buy token last)."""

    paths: tuple[TokenPath, ...]
    edges: tuple[Edge, ...]
    order: tuple[TokenAddress, ...]


def _hops_to(graph: TokenGraph, target: TokenAddress, limit: int) -> dict[TokenAddress, int]:
    """Fewest hops from each token to ``target`` (only tokens within ``limit`` hops); kept
    per graph (``TokenGraph.memo``: it never changes), as orders of one buy token share it."""
    key = ("hops_to", target, limit)
    found = graph.memo.get(key)
    if found is not None:
        return found  # type: ignore[return-value]
    dist = {target: 0}
    frontier = [target]
    pred = graph.graph.pred
    for depth in range(1, limit + 1):
        nxt = []
        for token in frontier:
            for source in pred[token]:
                if source not in dist:
                    dist[source] = depth
                    nxt.append(source)
        frontier = nxt
    graph.memo[key] = dist
    return dist


def _last_two_hops(
    graph: TokenGraph, middle: TokenAddress, buy: TokenAddress, level: int | None
) -> tuple[float | None, list[tuple[TokenAddress, float, float]]]:
    """From ``middle`` to ``buy`` in at most two hops at ``level``: the direct hop's rate
    (``None``: no pool), and (token, rate into it, rate from it into ``buy``) for every
    token between, in the reverse of ``successors(middle)``'s order (the order a stack
    pops them); kept per graph (``TokenGraph.memo``), as orders of one buy token share
    them."""
    key = ("last_two_hops", middle, buy, level)
    found = graph.memo.get(key)
    if found is not None:
        return found  # type: ignore[return-value]
    onward = graph.successors(middle, level)
    via: list[tuple[TokenAddress, float, float]] = []
    for token, first in onward.items():
        if token != buy:
            last = graph.successors(token, level).get(buy)
            if last is not None:
                via.append((token, first, last))
    via.reverse()
    kept = (onward.get(buy), via)
    graph.memo[key] = kept
    return kept


def path_rate(
    graph: TokenGraph, tokens: Sequence[TokenAddress], level: int | None = None
) -> float | None:
    """Product of the best rates along ``tokens``; ``None`` if a hop has no pool."""
    rate = 1.0
    for u, v in itertools.pairwise(tokens):
        hop = graph.successors(u, level).get(v)
        if hop is None:
            return None
        rate *= hop
    return rate


def candidate_paths(
    graph: TokenGraph,
    sell: TokenAddress,
    buy: TokenAddress,
    *,
    max_hops: int = DEFAULT_MAX_HOPS,
    max_paths: int = DEFAULT_MAX_PATHS,
    level: int | None = None,
    include: Iterable[Sequence[TokenAddress]] = (),
) -> tuple[TokenPath, ...]:
    """The best ``max_paths`` simple paths by rate at ``level`` (``None``: marginal), then
    every path of ``include`` that exists in the graph and is not already there; best
    first."""
    if sell == buy or sell not in graph or buy not in graph:
        return ()
    dist = _hops_to(graph, buy, max_hops - 1)
    best: list[tuple[float, int, tuple[TokenAddress, ...]]] = []  # min-heap of (rate, n, path)
    counter = 0

    def offer(rate: float, tokens: tuple[TokenAddress, ...]) -> None:
        nonlocal counter
        counter += 1
        item = (rate, counter, tokens)
        if len(best) < max_paths:
            heapq.heappush(best, item)
        elif rate > best[0][0]:
            heapq.heapreplace(best, item)

    # depth-first, the stack's pops last-in first-out; a prefix one hop short of the limit
    # is finished at once from ``_last_two_hops`` in the order the stack would pop them
    stack: list[tuple[tuple[TokenAddress, ...], float]] = [((sell,), 1.0)]
    while stack:
        tokens, rate = stack.pop()
        left = max_hops - len(tokens)  # hops still allowed after the next one
        if left == 1:
            direct, via = _last_two_hops(graph, tokens[-1], buy, level)
            if direct is not None:
                offer(rate * direct, (*tokens, buy))
            for token, first, last in via:
                if token not in tokens:
                    offer(rate * first * last, (*tokens, token, buy))
            continue
        onward = graph.successors(tokens[-1], level)
        if left == 0:  # the last hop can only be to ``buy``
            if buy in onward:
                offer(rate * onward[buy], (*tokens, buy))
            continue
        for nxt, hop_rate in onward.items():
            if nxt in tokens:
                continue
            new_rate = rate * hop_rate
            if nxt == buy:
                offer(new_rate, (*tokens, nxt))
            elif dist.get(nxt, max_hops) <= left:
                stack.append(((*tokens, nxt), new_rate))
    found = {p: r for r, _, p in best}
    for extra in include:
        tokens = tuple(extra)
        if tokens in found or tokens[0] != sell or tokens[-1] != buy:
            continue
        if len(set(tokens)) != len(tokens):
            continue
        extra_rate = path_rate(graph, tokens, level)
        if extra_rate is not None:
            found[tokens] = extra_rate
    return tuple(
        TokenPath(tokens, rate) for tokens, rate in sorted(found.items(), key=lambda kv: -kv[1])
    )


def candidate_network(
    graph: TokenGraph,
    paths: Iterable[TokenPath],
    *,
    max_parallel: int = DEFAULT_MAX_PARALLEL,
    max_pools: int = DEFAULT_MAX_POOLS,
    level: int | None = None,
) -> CandidateNetwork:
    """The union of ``paths`` (best first) as an acyclic network of pool edges, the
    ``max_parallel`` best pools per hop at ``level``."""
    dag: nx.DiGraph = nx.DiGraph()
    taken: list[TokenPath] = []
    edges: list[Edge] = []
    pool_pair: dict[PoolId, tuple[TokenAddress, TokenAddress]] = {}
    for path in paths:
        new_hops = [hop for hop in path.hops if not dag.has_edge(*hop)]
        dag.add_edges_from(new_hops)
        if not nx.is_directed_acyclic_graph(dag):
            dag.remove_edges_from(new_hops)
            continue
        added: list[Edge] = []
        for u, v in new_hops:
            for edge in graph.edges(u, v, level)[:max_parallel]:
                if pool_pair.setdefault(edge.pool.id, (u, v)) == (u, v):
                    added.append(edge)
        if taken and len(edges) + len(added) > max_pools:
            dag.remove_edges_from(new_hops)
            for edge in added:
                pool_pair.pop(edge.pool.id, None)
            continue
        taken.append(path)
        edges.extend(added)
    used = {t for e in edges for t in (e.token_in, e.token_out)}
    order = tuple(t for t in nx.topological_sort(dag) if t in used)
    return CandidateNetwork(tuple(taken), tuple(edges), order)
