"""Alternative merged bids (``solver.merge_alternatives``): a merged solution is also
offered in parts disjoint on pairs and pools, each a valid, fair settlement of its own, so
a pair a rival's single bid beats does not sink the whole batch."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from intents.types import OrderUid
from solver.checks import check_solution
from solver.competition import Bid, arbitrate
from solver.engines.batch import BatchEngine
from solver.engines.single_order import optimal_engine
from solver.merge import merge_solutions
from solver.merge_alternatives import alternative_bids, split
from solver.model import Auction, Solution
from solver.scoring import bid
from tests.solver.engine_fixtures import order
from tests.solver.merge_cases import A, B, C, D, small_auction, units_of_native, v2

POOLS = (v2("ab", A, B), v2("cd", C, D))
"""Two pools on disjoint pairs: the orders of each pair are one part."""


def _auction() -> Auction:
    found = [
        order(
            s,
            b,
            units_of_native(s, k * 10**20),
            units_of_native(b, k * 10**20) * 9 // 10,
            tag=f"{s[2:4]}{k}",
        )
        for s, b in ((A, B), (C, D))
        for k in (1, 2)
    ]
    return small_auction(found, POOLS)


def _bids(auction: Auction, solutions: Sequence[Solution], solver: str) -> list[Bid[Solution]]:
    bids = []
    for i, solution in enumerate(solutions):
        numbered = dataclasses.replace(solution, id=i)
        bids.append(
            bid(solver, numbered, check_solution(auction, numbered, solver=solver), auction)
        )
    return bids


def _orders(solution: Solution) -> frozenset[OrderUid]:
    return frozenset(t.order for t in solution.trades)


def _pair_orders(auction: Auction, sell: str) -> frozenset[OrderUid]:
    return frozenset(o.uid for o in auction.orders if o.sell_token == sell)


def test_a_merged_solution_splits_into_parts_disjoint_on_pairs_and_pools() -> None:
    auction = _auction()
    fills = optimal_engine().solve(auction)
    (merged,) = merge_solutions(auction, fills)
    assert len(merged.trades) == 4
    parts = alternative_bids(auction, [merged], fills)
    assert {_orders(p) for p in parts} == {_pair_orders(auction, A), _pair_orders(auction, C)}
    first, second = parts
    assert not {leg.pool for leg in first.legs} & {leg.pool for leg in second.legs}
    for part in parts:
        check_solution(auction, part, solver="batch")  # raises if invalid


def test_members_tied_by_a_pool_stay_in_one_part() -> None:
    auction = _auction()
    fills = optimal_engine().solve(auction)
    halves = split(auction, fills, [1] * len(fills))
    assert halves
    for half in halves:
        sells = {
            next(o for o in auction.orders if o.uid == fills[i].trades[0].order).sell_token
            for i in half
        }
        assert len(sells) == 1
    # one pool for all of them: nothing to split
    same = small_auction(
        [order(A, B, units_of_native(A, k * 10**20), 1, tag=str(k)) for k in (1, 2, 3)],
        (v2("ab", A, B),),
    )
    assert split(same, optimal_engine().solve(same), [1, 1, 1]) == ()


def test_a_rival_beating_one_pair_leaves_the_other_pair_merged() -> None:
    auction = _auction()
    ours = BatchEngine().solve(auction)
    whole = [s for s in ours if len(s.trades) == 4]
    assert whole, "the batch merges all four orders"
    # a rival routes one C -> D order alone better than the batch does on that pair
    c_order = next(o for o in auction.orders if o.sell_token == C)
    rival_fill = next(s for s in ours if _orders(s) == {c_order.uid})
    rival_bid = _bids(auction, [rival_fill], "rival")[0]
    boosted = Bid(
        "rival",
        0,
        rival_fill,
        {p: s * 100 for p, s in rival_bid.scores.items()},
        rival_bid.pairs,
        rival_bid.pools,
    )
    ranking = arbitrate([*_bids(auction, ours, "batch"), boosted])
    assert any(len(b.solution.trades) == 4 for b in ranking.unfair)
    won = {o for b in ranking.winners if b.solver == "batch" for o in _orders(b.solution)}
    # main's batch offers the whole merged solution and one-order fills only: the A -> B
    # pair would settle one order; its part settles both, in one settlement
    assert _pair_orders(auction, A) <= won
    assert any(_orders(b.solution) == _pair_orders(auction, A) for b in ranking.winners)
