"""Joint routing of same-pair orders (``solver.merge_joint``): one route for the group's
total, settled at one rate — valid (``solver.checks``), exactly re-simulated, every order at
its limit or better, never paying out more than the pools return — and measured against the
greedy sequence of the orders' own routes."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from intents.order import OrderClass, OrderKind
from routing.optimizer import Router
from solver.checks import check_solution
from solver.engines.base import token_graph
from solver.engines.batch import BatchEngine
from solver.engines.single_order import optimal_engine
from solver.merge import merge_solutions
from solver.merge_joint import (
    greedy_solution,
    joint_solution,
    own_pools_router,
    pair_groups,
    route_jointly,
)
from solver.merge_legs import PoolState, net_flow, replay_fixed
from solver.model import Auction, Order, limit_respected, signed_fee
from solver.scoring import score_trades
from tests.solver.engine_fixtures import order
from tests.solver.merge_cases import A, B, C, D, small_auction, units_of_native, v2

SLOW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def same_pair(draw: st.DrawFn) -> list[Order]:
    """2-5 orders of one kind selling A for B, near the pools' rate."""
    kind = draw(st.sampled_from([OrderKind.SELL, OrderKind.BUY]))
    found = []
    for index in range(draw(st.integers(2, 5))):
        wei = draw(st.integers(10**18, 3 * 10**22))  # up to 3% of a pool's depth
        rate = Fraction(draw(st.integers(900, 1000)), 1000)
        found.append(
            order(
                A,
                B,
                units_of_native(A, wei),
                int(units_of_native(B, wei) * rate),
                kind,
                partial=draw(st.booleans()),
                order_class=draw(st.sampled_from([OrderClass.MARKET, OrderClass.LIMIT])),
                tag=str(index),
            )
        )
    return found


@SLOW
@given(same_pair(), st.booleans())
def test_joint_group_solution_is_a_valid_settlement(found: list[Order], wide: bool) -> None:
    # an order on another pair, for merged solutions that hold the group and more
    other = order(C, D, units_of_native(C, 10**20), units_of_native(D, 10**20) * 9 // 10)
    auction = small_auction([*found, other])
    candidates = optimal_engine().solve(auction)
    groups = pair_groups(auction, candidates)
    event(f"groups: {len(groups)}")
    for group in groups.values():
        members = [u.checked[0] for u in group]
        # the default, over the group's own pools; and over all of them
        router = Router(token_graph(auction)) if wide else own_pools_router(auction, group)
        joint = joint_solution(auction, router, members)
        event(f"joint solution: {joint is not None}")
        if joint is None:
            continue
        solution, score = joint
        event(f"joint orders: {len(solution.trades)} of {len(members)}")
        checked = check_solution(auction, solution, solver="joint")
        assert score == score_trades(checked, auction).total > 0
        # each order keeps its candidate's amounts and is at its limit or better
        by_uid = {c.order.uid: c for c in members}
        for c in checked:
            assert c.trade == by_uid[c.order.uid].trade
            assert limit_respected(c.order, c.paid - signed_fee(c.order, c.trade), c.bought)
        # exact re-simulation in order: every leg's pool pays what the leg takes ...
        replay_fixed(PoolState({p.id: p for p in auction.liquidity.pools}), solution.legs)
        # ... and the settlement pays out no more than the legs return, takes in no less
        net = net_flow(solution.legs)
        assert sum(c.bought for c in checked) <= net[B]
        assert sum(c.sold for c in checked) >= -net[A]
        assert all(v == 0 for t, v in net.items() if t not in (A, B))
        # merged with the candidates, its orders pooled at one rate: still valid
        for merged in merge_solutions(auction, candidates, unoffered=[solution]):
            check_solution(auction, merged, solver="merge")
            event(f"merged with the group: {by_uid.keys() <= {t.order for t in merged.trades}}")


def _one_pool_case(kind: OrderKind) -> Auction:
    pools = (v2("ab", A, B),)
    sizes = (10**22, 2 * 10**22, 3 * 10**22)  # 1-3% of the pool's depth each
    found = [
        order(
            A,
            B,
            units_of_native(A, wei),
            units_of_native(B, wei) * 90 // 100,
            kind,
            tag=str(i),
        )
        for i, wei in enumerate(sizes)
    ]
    return small_auction(found, pools)


def test_joint_beats_greedy_on_one_v2_pool() -> None:
    """Three sells (buys) on one V2 pair: one swap of their total pays (costs) no worse than
    their swaps one after the other, each paying the fee on a pool the earlier ones moved."""
    for kind in (OrderKind.SELL, OrderKind.BUY):
        auction = _one_pool_case(kind)
        candidates = optimal_engine().solve(auction)
        ((key, group),) = pair_groups(auction, candidates).items()
        assert key == (A, B, kind) and len(group) == 3
        greedy, greedy_score = greedy_solution(auction, group)
        assert greedy is not None and len(greedy.trades) >= 2  # the merged sequence
        joint = joint_solution(
            auction,
            Router(token_graph(auction)),
            [u.checked[0] for u in group],
        )
        assert joint is not None
        solution, score = joint
        assert len(solution.trades) == 3 and len(solution.legs) == 1
        assert score >= greedy_score
        if len(greedy.trades) == 3:
            assert solution.gas < greedy.gas  # one leg instead of three


def test_batch_keeps_the_joint_solution_and_the_per_order_ones() -> None:
    auction = _one_pool_case(OrderKind.SELL)
    engine = BatchEngine()
    solutions = engine.solve(auction)
    report = engine.last_report
    assert report is not None and len(report.joint.groups) == 1 and report.joint.joint_kept
    (group,) = report.joint.groups
    assert group.better is not None and group.joint.score > group.greedy.score
    by_size: dict[int, int] = {}
    for solution in solutions:
        by_size[len(solution.trades)] = by_size.get(len(solution.trades), 0) + 1
    assert by_size.get(1) == 3  # every order's own candidate is still offered
    # the joint solution is a building block of the merged ones, not a bid of its own:
    # alone in its merged solution here, at the prices the merge gives it
    (merged,) = [s for s in solutions if len(s.trades) > 1]
    assert set(merged.trades) == set(group.better.trades) and merged.legs == group.better.legs
    for solution in solutions:
        check_solution(auction, solution, solver="batch")
    greedy_only = BatchEngine(joint=False)
    greedy_only.solve(auction)
    assert greedy_only.last_report is not None and greedy_only.last_report.joint.groups == ()


def test_route_jointly_stops_at_its_deadline() -> None:
    auction = _one_pool_case(OrderKind.SELL)
    candidates = optimal_engine().solve(auction)
    assert route_jointly(auction, candidates, stop=lambda: True) == []
    assert len(route_jointly(auction, candidates)) == 1
