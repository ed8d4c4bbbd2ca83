"""Single-path strategies: the CoW baseline and the best single pool."""

from __future__ import annotations

import pytest

from routing.balancer_weighted import WeightedPool, WeightedToken
from routing.baseline import (
    base_token_paths,
    baseline_route,
    best_single_pool_route,
    execute_path,
)
from routing.pool import PoolId
from routing.route import NoRoute, OrderKind
from tests.routing.market import E18, A, B, C, D, graph, pair, token


def test_base_token_paths_match_cows_candidate_counts() -> None:
    bases = [token(1), token(2), token(3)]
    sell, buy = token(4), token(5)
    assert base_token_paths(sell, buy, bases, 0) == [(sell, buy)]
    assert len(base_token_paths(sell, buy, bases, 1)) == 4
    assert len(base_token_paths(sell, buy, bases, 2)) == 10
    assert len(base_token_paths(sell, buy, bases, 3)) == 16
    assert len(base_token_paths(sell, buy, bases, 4)) == 16
    # a base token that is the sell or buy token is not an intermediate
    assert set(base_token_paths(bases[0], buy, bases, 1)) == {
        (bases[0], buy),
        (bases[0], bases[1], buy),
        (bases[0], bases[2], buy),
    }
    assert base_token_paths(sell, sell, bases) == []


def test_baseline_takes_the_best_pool_per_hop_and_the_best_path() -> None:
    pools = [
        pair("ab-good", A, B, 1000 * E18, 1100 * E18),
        pair("ab-bad", A, B, 1000 * E18, 900 * E18),
        pair("bd", B, D, 1000 * E18, 1000 * E18),
        pair("ad", A, D, 10 * E18, 10 * E18),  # direct but shallow
    ]
    g = graph(pools)
    route = baseline_route(g, A, D, 5 * E18, OrderKind.SELL, base_tokens=[B])
    assert [leg.pool for leg in route.legs] == ["ab-good", "bd"]
    assert route.strategy == "baseline"
    single = best_single_pool_route(g, A, D, 5 * E18)
    assert [leg.pool for leg in single.legs] == ["ad"]
    assert route.amount_out > single.amount_out


def test_buy_orders_receive_at_least_the_amount_and_legs_conserve() -> None:
    g = graph([pair("ab", A, B, 1000 * E18, 3000 * E18), pair("bc", B, C, 3000 * E18, 500 * E18)])
    want = 7 * E18
    legs = execute_path(g, (A, B, C), want, OrderKind.BUY)
    assert legs is not None
    assert legs[-1].amount_out >= want
    assert legs[0].amount_out == legs[1].amount_in
    for leg in legs:
        assert g.pools[leg.pool].amount_out(leg.token_in, leg.token_out, leg.amount_in) == (
            leg.amount_out
        )
    route = baseline_route(g, A, C, want, OrderKind.BUY, base_tokens=[B])
    assert route.amount_out >= want
    assert route.amount_in == legs[0].amount_in


def test_no_route_is_a_coded_error() -> None:
    g = graph([pair("ab", A, B, E18, E18), pair("cd", C, D, E18, E18)])
    with pytest.raises(NoRoute) as caught:
        baseline_route(g, A, D, E18)
    assert caught.value.code == "NoRoute"
    with pytest.raises(NoRoute):
        best_single_pool_route(g, A, C, E18)


@pytest.mark.parametrize("kind", list(OrderKind))
def test_a_path_swaps_through_a_multi_token_pool_once(kind: OrderKind) -> None:
    """A -> B -> C where a three-token weighted pool is the best pool of both hops: swapped
    through twice, its second swap would see the reserves the first left untouched (the
    shared auction's order 0x0001… -> 0xbe1f… bought 2.6e17 for 2 units of USDT that way);
    the other hop takes the next best pool (a buy order picks hops backward, so the last
    hop takes the weighted pool and the first has none left), and a path with no other
    pool has no legs."""
    weighted = WeightedPool(
        PoolId("w"),
        tuple(WeightedToken(t, 10**6 * E18, E18 // 3, E18) for t in (A, B, C)),
        fee=10**15,
    )
    g = graph([weighted, pair("bc", B, C, 10**5 * E18, 10**5 * E18)])
    legs = execute_path(g, (A, B, C), 10 * E18, kind)
    if kind is OrderKind.SELL:
        assert legs is not None
        assert [leg.pool for leg in legs] == ["w", "bc"]
    else:
        assert legs is None
    assert execute_path(graph([weighted]), (A, B, C), 10 * E18, kind) is None
