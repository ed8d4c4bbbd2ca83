"""Merged solutions and CoWs on one Uniswap V2 pair keep nothing of the users' value:
per token, the settlement ends with the declared fees plus a few base units of rounding
(``solver.kept``). A sell and a buy order pooled at one rate once kept ~0.2% of what they
bought (the buy order's bound on the rate left the sell orders' legs' extra output in the
settlement); a CoW's AMM-balanced price, bisected to 2**-36, kept ~1e-11."""

from __future__ import annotations

import pytest

from intents.order import OrderKind
from solver.checks import check_solution, settlement_balances
from solver.engines.batch import batch_engine
from solver.engines.single_order import optimal_engine
from solver.kept import kept_beyond_fees
from solver.merge import merge_solutions
from solver.model import Auction, Solution
from tests.solver.engine_fixtures import order
from tests.solver.merge_cases import A, B, small_auction, units_of_native, v2

ROUNDING_WEI = 3
"""Base units one trade may leave (the pair's tokens have 18 decimals and similar prices,
so a unit of either is worth about as much as one of the other)."""

SELL, BUY = OrderKind.SELL, OrderKind.BUY


def _kept(auction: Auction, solution: Solution) -> dict[str, int]:
    checked, balances = settlement_balances(auction, solution)
    return kept_beyond_fees(checked, balances)


def _one_pair(kinds: tuple[OrderKind, OrderKind], backward: bool) -> Auction:
    """Two orders on the one A/B pair, 0.1-0.2% of its depth each, the second one A -> B
    too or (``backward``) B -> A."""
    a, b = units_of_native(A, 10**21), units_of_native(B, 10**21)
    first = order(A, B, 2 * a, 2 * b * 95 // 100, kinds[0], tag="1")
    if backward:
        second = order(B, A, b * 105 // 100, a * 95 // 100, kinds[1], tag="2")
    else:
        second = order(A, B, a * 105 // 100, b * 95 // 100, kinds[1], tag="2")
    return small_auction([first, second], (v2("ab", A, B),))


@pytest.mark.parametrize("kinds", [(SELL, BUY), (BUY, SELL), (BUY, BUY), (SELL, SELL)])
def test_two_orders_merged_on_one_pair_keep_only_rounding(
    kinds: tuple[OrderKind, OrderKind],
) -> None:
    auction = _one_pair(kinds, backward=False)
    candidates = optimal_engine().solve(auction)
    assert len(candidates) == 2
    (merged,) = merge_solutions(auction, candidates)
    assert len(merged.trades) == 2
    check_solution(auction, merged, solver="merge")
    kept = _kept(auction, merged)
    assert all(0 <= v <= ROUNDING_WEI * len(merged.trades) for v in kept.values()), kept


def test_a_cow_of_opposite_orders_on_one_pair_keeps_only_rounding() -> None:
    """Two sell orders both ways on the A/B pair: one clears against the other at one
    price, the remainder sold on the pair; the AMM's output goes to the users."""
    auction = _one_pair((SELL, SELL), backward=True)
    solutions = batch_engine().solve(auction)
    (cow,) = (s for s in solutions if len(s.trades) == 2)
    assert cow.legs  # the imbalance goes through the pair
    check_solution(auction, cow, solver="batch")
    kept = _kept(auction, cow)
    assert all(0 <= v <= ROUNDING_WEI * len(cow.trades) for v in kept.values()), kept
