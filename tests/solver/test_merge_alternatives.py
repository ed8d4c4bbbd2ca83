"""Alternative merged bids (``solver.merge_alternatives``): a merged solution is also
offered in parts disjoint on pairs and pools, each a valid, fair settlement of its own, so
a pair a rival's single bid beats does not sink the whole batch."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pytest

from intents.types import OrderUid
from solver.checks import check_solution
from solver.competition import Bid, arbitrate
from solver.engines.batch import BatchEngine
from solver.engines.single_order import optimal_engine
from solver.merge import merge_solutions
from solver.merge_alternatives import alternative_bids, split
from solver.merge_units import estimated_bid
from solver.model import Auction, Order, Solution
from solver.scoring import bid
from tests.solver.engine_fixtures import order
from tests.solver.merge_cases import A, B, C, D, small_auction, units_of_native, v2

POOLS = (v2("ab", A, B), v2("cd", C, D))
"""Two pools on disjoint pairs: the orders of each pair are one part."""


def _orders_on(pairs: Sequence[tuple[str, str, Sequence[int]]]) -> list[Order]:
    """Sell orders at 10% under the reference rate, ``k * 1e20`` native wei each."""
    return [
        order(
            s,
            b,
            units_of_native(s, k * 10**20),
            units_of_native(b, k * 10**20) * 9 // 10,
            tag=f"{s[2:4]}{k}",
        )
        for s, b, ks in pairs
        for k in ks
    ]


def _auction() -> Auction:
    return small_auction(_orders_on([(A, B, (1, 2)), (C, D, (1, 2))]), POOLS)


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


def _three_pairs() -> Auction:
    """A -> B, C -> D (two orders each, the most valuable) and B -> C, on their own pools."""
    found = _orders_on([(A, B, (4, 5)), (C, D, (2, 3)), (B, C, (1,))])
    return small_auction(found, (*POOLS, v2("bc", B, C)))


def _pairs(auction: Auction, solution: Solution) -> set[tuple[str, str]]:
    by_uid = {o.uid: o for o in auction.orders}
    return {(by_uid[t.order].sell_token, by_uid[t.order].buy_token) for t in solution.trades}


def test_a_merged_solution_is_offered_without_its_largest_and_its_thinnest_pair() -> None:
    auction = _three_pairs()
    fills = optimal_engine().solve(auction)
    (merged,) = merge_solutions(auction, fills)
    assert len(merged.trades) == 5
    made = estimated_bid(auction, merged)
    assert made is not None and len(made.scores) == 3
    thinnest = min(made.scores, key=lambda p: made.scores[p])
    largest = max(made.scores, key=lambda p: made.scores[p])
    alternatives = alternative_bids(auction, [merged], fills, depth=0)
    assert [_pairs(auction, s) for s in alternatives] == [
        set(made.scores) - {largest},
        set(made.scores) - {thinnest},
    ]
    for alternative in alternatives:
        check_solution(auction, alternative, solver="batch")  # raises if invalid


def test_no_alternative_settles_one_pair_alone() -> None:
    # its parts are single pairs: as bids they would set references above the whole
    auction = _auction()
    fills = optimal_engine().solve(auction)
    (merged,) = merge_solutions(auction, fills)
    assert len(merged.trades) == 4
    assert split(auction, fills, [1] * len(fills))
    assert alternative_bids(auction, [merged], fills) == []


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


@pytest.mark.parametrize("rival_sells", [B, A])
def test_a_rival_beating_one_pair_leaves_the_other_pairs_merged(rival_sells: str) -> None:
    auction = _three_pairs()
    ours = BatchEngine().solve(auction)
    whole = [s for s in ours if len(s.trades) == 5]
    assert whole, "the batch merges all five orders"
    # a rival routes one order alone better than the batch does on its pair: the B -> C
    # order (the thinnest pair) or the largest A -> B order (the largest pair)
    beaten = max(
        (o for o in auction.orders if o.sell_token == rival_sells),
        key=lambda o: o.signed_sell_amount,
    )
    rival_fill = next(s for s in ours if _orders(s) == {beaten.uid})
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
    assert any(len(b.solution.trades) == 5 for b in ranking.unfair)
    # main's batch offers the whole merged solution and one-order fills only: each other
    # pair would settle one order; here the orders of both other pairs settle as one batch
    others = frozenset(o.uid for o in auction.orders if o.sell_token != rival_sells)
    assert any(_orders(b.solution) == others for b in ranking.winners)
    assert any(b.solver == "rival" for b in ranking.winners)
