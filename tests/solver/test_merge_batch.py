"""The ``batch`` engine answers merged solutions (``solver.merge``) beside its CoW and
per-order solutions: a coincidence of wants keeps its own prices inside a merged solution
that also routes other orders, and the merged solution wins the round."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from fractions import Fraction

from routing.pool import PoolId, TokenAddress
from routing.uniswap_v2 import ConstantProductPool
from solver.checks import check_solution
from solver.competition import arbitrate
from solver.engines import make_engine, solve_all
from solver.engines.batch import BatchEngine
from solver.model import Auction, Order
from solver.scoring import bid
from tests.solver.engine_fixtures import numbered_order, snapshot_auction

E18 = 10**18
D = TokenAddress("0x" + "d1" * 20)
E = TokenAddress("0x" + "e1" * 20)
X = TokenAddress("0x" + "0a" * 20)
Y = TokenAddress("0x" + "0b" * 20)
Z = TokenAddress("0x" + "0c" * 20)
REFERENCE = {D: E18, E: E18 // 2, X: E18, Y: E18, Z: E18}
"""D is worth 2 E; D and E have no pool (a CoW is their only way to trade)."""
POOLS = (
    ConstantProductPool(id=PoolId("xy"), tokens=(X, Y), reserves=(10**24, 10**24)),
    ConstantProductPool(id=PoolId("yz"), tokens=(Y, Z), reserves=(10**24, 10**24)),
)


def _auction(*orders: Order) -> Auction:
    return snapshot_auction(
        orders, POOLS, REFERENCE, 20 * 10**9, D, datetime(2030, 1, 1, tzinfo=UTC)
    )


def test_a_cow_and_routed_orders_settle_in_one_merged_solution() -> None:
    cow = [numbered_order(1, D, E, 10 * E18, 19 * E18), numbered_order(2, E, D, 20 * E18, 9 * E18)]
    routed = [
        numbered_order(3, X, Y, E18, E18 * 9 // 10),
        numbered_order(4, Y, Z, E18, E18 * 9 // 10),
    ]
    auction = _auction(*cow, *routed)
    solutions = BatchEngine().solve(auction)
    merged = [s for s in solutions if len(s.trades) == 4]
    assert len(merged) == 1, [len(s.trades) for s in solutions]
    (solution,) = merged
    check_solution(auction, solution, solver="batch")
    (alone,) = [s for s in solutions if {t.order for t in s.trades} == {o.uid for o in cow}]
    # the CoW keeps its own rate between D and E
    assert Fraction(solution.prices[D], solution.prices[E]) == Fraction(
        alone.prices[D], alone.prices[E]
    )
    bids = [
        bid("batch", s, check_solution(auction, s, solver="batch"), auction)
        for s in (dataclasses.replace(s, id=i) for i, s in enumerate(solutions))
    ]
    ranking = arbitrate(bids)
    assert not ranking.unfair
    assert [len(w.solution.trades) for w in ranking.winners] == [4]


def test_solve_all_hands_batch_the_earlier_engines_fills_to_merge() -> None:
    """Run after ``baseline`` (``solve_all``), ``batch`` merges baseline's fills, does not
    route their orders again, and does not propose them a second time."""
    orders = [
        numbered_order(3, X, Y, E18, E18 * 9 // 10),
        numbered_order(4, Y, Z, E18, E18 * 9 // 10),
    ]
    auction = _auction(*orders)
    solutions = solve_all([make_engine("baseline"), make_engine("batch")], auction)
    by_engine: dict[str, list[frozenset[bytes]]] = {}
    for solution in solutions:
        check_solution(auction, solution, solver=solution.engine)
        uids = frozenset(t.order for t in solution.trades)
        by_engine.setdefault(solution.engine, []).append(uids)
    both = frozenset(o.uid for o in orders)
    assert sorted(map(len, by_engine["baseline"])) == [1, 1]
    # batch's only answer is the merge of baseline's two fills
    assert by_engine["batch"] == [both]
    merged = next(s for s in solutions if s.engine == "batch")
    alone = [s for s in solutions if s.engine == "baseline"]
    assert merged.gas < sum(s.gas for s in alone)
