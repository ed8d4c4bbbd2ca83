"""The router raises nothing but ``NoRoute``, and every route it returns re-simulates
exactly with the pool math: on odd hand-built markets (the regressions) and, fuzzed with
hypothesis, on the shared auction's liquidity and on perturbed copies of it."""

from __future__ import annotations

from routing.balancer_weighted import WeightedPool, WeightedToken
from routing.optimizer import Router
from routing.pool import PoolId
from routing.route import OrderKind
from tests.routing.market import E18, A, B, C, D, graph, pair
from tests.routing.route_checks import assert_route_is_exact


def test_a_single_path_through_a_pool_the_network_gave_to_another_pair_is_no_crash() -> None:
    """A three-token weighted pool serves one pair of the candidate network (the best
    ranked: A -> C); the best single path for a large order sells A -> B through it, so B
    is unreachable in the network. The model took the single path's B -> D edge without a
    scale for B and gave it no breakpoints (``np.repeat`` with a count of -1)."""
    weighted = WeightedPool(
        PoolId("w"),
        tuple(WeightedToken(t, 10**7 * E18, E18 // 3, E18) for t in (A, B, C)),
        fee=3 * 10**15,
    )
    pools = [
        weighted,
        pair("cd", C, D, 10**6 * E18, 10**6 * E18),  # ranked first, too shallow for the order
        pair("bd", B, D, 101 * 10**6 * E18, 100 * 10**6 * E18),
    ]
    g = graph(pools)
    amount = 10**6 * E18
    route = Router(g).route(A, D, amount, OrderKind.SELL)
    assert_route_is_exact(route, g, amount)
    assert "w" in route.pools and "bd" in route.pools

