"""The token graph: edges per pool and direction, log-price weights, dust pruning, prices."""

from __future__ import annotations

import math

from routing.graph import PROBES, TokenGraph, gas_in_token
from tests.routing.market import E18, A, B, C, graph, pair


def test_one_edge_per_pool_and_direction_weighted_by_minus_log_rate() -> None:
    pools = [pair("p1", A, B, 1000 * E18, 2000 * E18), pair("p2", A, B, 10 * E18, 10 * E18)]
    g = graph(pools)
    assert g.graph.number_of_edges() == 4
    for u, v, key, data in g.graph.edges(keys=True, data=True):
        rate = g.pools[key].spot_price(u, v)
        assert math.isclose(data["weight"], -math.log(rate))
    # parallel pools, best spot rate first
    assert [e.pool.id for e in g.edges(A, B)] == ["p1", "p2"]
    assert g.successors(A)[B] == g.pools["p1"].spot_price(A, B)


def test_depth_ranking_prefers_the_deep_pool_for_large_swaps() -> None:
    # the shallow pool quotes a better spot price, the deep one wins at 1000 native tokens
    shallow = pair("shallow", A, B, 2 * E18, 3 * E18)
    deep = pair("deep", A, B, 10**6 * E18, 10**6 * E18)
    g = graph([shallow, deep])
    assert g.edges(A, B)[0].pool.id == "shallow"
    big = g.level(A, 1000 * E18)
    assert big == len(PROBES) - 1
    assert g.edges(A, B, big)[0].pool.id == "deep"


def test_dust_pools_are_pruned_with_a_reason() -> None:
    dust = pair("dust", A, B, 10**3, 10**3)
    g = graph([dust, pair("ok", A, B, E18, E18)])
    assert {e.pool.id for e in g.edges(A, B)} == {"ok"}
    assert {p.pool for p in g.pruned} == {"dust"}
    assert all("dust" in p.reason for p in g.pruned)


def test_unpriced_tokens_get_a_price_through_the_deepest_pool() -> None:
    pools = [pair("ab", A, B, 1000 * E18, 4000 * E18), pair("bc", B, C, 1000 * E18, 500 * E18)]
    g = TokenGraph(pools, {A: E18, B: None, C: None})
    # 1 B is worth about 1/4 A, 1 C about 2 B
    assert abs(g.prices[B] / (E18 / 4) - 1) < 0.01
    assert abs(g.prices[C] / (E18 / 2) - 1) < 0.02


def test_gas_is_charged_in_the_token_by_reference_price() -> None:
    assert gas_in_token(100_000, 10**9, E18) == 10**14
    assert gas_in_token(100_000, 10**9, 2 * E18) == 5 * 10**13
    assert gas_in_token(100_000, 10**9, None) == 0
    g = graph([pair("ab", A, B, E18, E18)], gas_price=10**9)
    assert g.gas_cost(90_000, A) == 90_000 * 10**9


def test_a_gas_price_twin_shares_the_edges_and_leaves_the_original_alone() -> None:
    g = graph([pair("ab", A, B, E18, E18)], gas_price=10**9)
    free = g.with_gas_price(0)
    assert free.gas_cost(90_000, A) == 0
    assert g.gas_cost(90_000, A) == 90_000 * 10**9
    assert free.edges(A, B) == g.edges(A, B) and free.prices == g.prices
