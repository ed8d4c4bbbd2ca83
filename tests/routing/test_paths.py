"""Candidate generation: hop-limited simple paths ranked by rate, and the acyclic network."""

from __future__ import annotations

import itertools

import networkx as nx

from routing.paths import candidate_network, candidate_paths, path_rate
from tests.routing.market import E18, A, B, C, D, graph, pair


def _mesh():
    tokens = [A, B, C, D]
    pools = [
        pair(f"{i}{j}", u, v, (5 + i) * 100 * E18, (7 + j) * 100 * E18)
        for (i, u), (j, v) in itertools.combinations(enumerate(tokens), 2)
    ]
    pools.append(pair("AD-2", A, D, 50 * E18, 80 * E18))
    return graph(pools)


def test_paths_are_simple_hop_limited_and_ranked_by_rate() -> None:
    g = _mesh()
    for hops in (1, 2, 3):
        paths = candidate_paths(g, A, D, max_hops=hops, max_paths=50)
        assert paths
        for p in paths:
            assert p.tokens[0] == A and p.tokens[-1] == D
            assert len(p.tokens) - 1 <= hops
            assert len(set(p.tokens)) == len(p.tokens)
            assert abs(p.rate - path_rate(g, p.tokens)) <= 1e-12 * p.rate
        rates = [p.rate for p in paths]
        assert rates == sorted(rates, reverse=True)
    # all five simple paths of at most 3 hops in a 4-token mesh
    assert len(candidate_paths(g, A, D, max_hops=3, max_paths=50)) == 5
    assert len(candidate_paths(g, A, D, max_hops=3, max_paths=2)) == 2


def test_included_paths_are_added_when_they_exist() -> None:
    g = _mesh()
    best = candidate_paths(g, A, D, max_hops=3, max_paths=1)
    extra = candidate_paths(g, A, D, max_hops=3, max_paths=1, include=[(A, B, D), (A, D, B)])
    assert len(extra) == len(best) + (0 if best[0].tokens == (A, B, D) else 1)
    assert (A, B, D) in {p.tokens for p in extra}


def test_network_is_acyclic_with_parallel_pools_of_each_hop() -> None:
    g = _mesh()
    paths = candidate_paths(g, A, D, max_hops=3, max_paths=50)
    net = candidate_network(g, paths, max_parallel=4, max_pools=100)
    dag = nx.DiGraph([(e.token_in, e.token_out) for e in net.edges])
    assert nx.is_directed_acyclic_graph(dag)
    assert net.order[0] == A and net.order[-1] == D
    direct = {e.pool.id for e in net.edges if (e.token_in, e.token_out) == (A, D)}
    assert direct == {"03", "AD-2"}
    # each pool in one direction only
    assert len({e.pool.id for e in net.edges}) == len(net.edges)


def test_max_parallel_and_max_pools_bound_the_network() -> None:
    g = _mesh()
    paths = candidate_paths(g, A, D, max_hops=3, max_paths=50)
    net = candidate_network(g, paths, max_parallel=1, max_pools=3)
    assert len(net.edges) <= 3
    assert len({(e.token_in, e.token_out) for e in net.edges}) == len(net.edges)


def test_no_paths_between_unconnected_tokens() -> None:
    g = graph([pair("ab", A, B, E18, E18), pair("cd", C, D, E18, E18)])
    assert candidate_paths(g, A, D) == ()
    assert candidate_paths(g, A, A) == ()
