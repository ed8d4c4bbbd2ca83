"""Merged solutions (``solver.merge``): many candidates settled as one, each merged solution
valid (``solver.checks``), fair against the candidates (``competition.arbitrate`` keeps
it), within its gas limit, its orders distinct, merged solutions disjoint on pools and directed
pairs; legs on shared pools run at the rates the earlier legs leave."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import timedelta
from fractions import Fraction

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from intents.order import OrderKind
from routing.interaction_gas import V2_AGAIN_GAS
from routing.pool import Pool, TokenAddress
from solver.checks import check_solution
from solver.competition import arbitrate
from solver.engines.single_order import optimal_engine
from solver.merge import merge_solutions
from solver.merge_legs import legs_gas
from solver.model import Auction, Order, Solution, now, settlement_gas
from solver.scoring import bid
from tests.solver.engine_fixtures import GAS_PRICE, model_auction, order, pool
from tests.solver.merge_cases import (
    E18,
    PRICES,
    A,
    B,
    C,
    D,
    orders,
    small_auction,
    units_of_native,
    v2,
)

E17 = 10**17
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _pairs(auction: Auction, solution: Solution) -> set[tuple[str, str]]:
    by_uid = {o.uid: o for o in auction.orders}
    return {(by_uid[t.order].sell_token, by_uid[t.order].buy_token) for t in solution.trades}


def _ranking(auction: Auction, solutions: Sequence[Solution]):  # type: ignore[no-untyped-def]
    bids = []
    for i, solution in enumerate(solutions):
        numbered = dataclasses.replace(solution, id=i)
        bids.append(bid("x", numbered, check_solution(auction, numbered, solver="x"), auction))
    return arbitrate(bids)


def _blocking_pools() -> list[Order]:
    """Found by hypothesis: a large A -> B sell merges with a small D -> A sell, whose pool
    the B -> D sell routes through (B -> A -> D), too large in gas (400,000) to join; the
    merged solution wins first and the B -> D candidate, worth more, can no longer win."""
    small = [order(A, B, E17, 19 * E17 // 10, tag=str(i)) for i in (0, 1, 2, 6)]
    return [
        *small[:3],
        order(D, A, 484_851_452_344_172_544, 115_152_219_931_740_979, tag="3"),
        order(
            B, D, 120_643_511_186_126_807_764, 238_391_578_103_786_572_141, partial=True, tag="4"
        ),
        order(A, B, 159_118_775_852_065_440_421, 302_325_674_118_924_336_799, tag="5"),
        small[3],
    ]


@SLOW
@given(orders(), st.sampled_from([15_000_000, 600_000, 400_000]))
@example(_blocking_pools(), 400_000)
def test_merged_solutions_are_valid_fair_settlements(found, gas_limit) -> None:  # type: ignore[no-untyped-def]
    auction = small_auction(found)
    candidates = optimal_engine().solve(auction)
    merged = merge_solutions(auction, candidates, gas_limit=gas_limit)
    seen: set[tuple[str, str]] = set()
    seen_pools: set[str] = set()
    for solution in merged:
        check_solution(auction, solution, solver="merge")
        assert solution.gas <= gas_limit
        pools = {p.id: p for p in auction.liquidity.pools}
        # a pool swapped again costs less than its first leg, never more
        assert solution.gas == settlement_gas(
            len(solution.trades), legs_gas(solution.legs, pools, set())
        )
        assert solution.gas <= settlement_gas(
            len(solution.trades), sum(pools[leg.pool].gas for leg in solution.legs)
        )
        uids = [t.order for t in solution.trades]
        assert len(uids) == len(set(uids)) >= 2
        pairs = _pairs(auction, solution)
        assert not any((b, a) in pairs for a, b in pairs)  # one direction per pair
        assert seen.isdisjoint(pairs)
        seen |= pairs
        pools = {leg.pool for leg in solution.legs}
        assert seen_pools.isdisjoint(pools)  # settled one after the other, none reverts
        seen_pools |= pools
    ranking = _ranking(auction, [*merged, *candidates])
    assert not ranking.unfair
    assert ranking.total_score >= _ranking(auction, candidates).total_score


def _two_sells_one_pool() -> tuple[Auction, list[Solution], Pool]:
    shared = v2("ab", A, B)
    amount = units_of_native(A, 10**21)  # 0.1% of the pool each
    limit = units_of_native(B, 10**21) * 95 // 100
    found = [order(A, B, amount, limit, tag="1"), order(A, B, amount * 2, limit * 2, tag="2")]
    auction = small_auction(found, (shared,))
    return auction, optimal_engine().solve(auction), shared


def test_orders_sharing_a_v2_pool_get_the_rate_the_first_leaves() -> None:
    auction, candidates, shared = _two_sells_one_pool()
    assert len(candidates) == 2
    (merged,) = merge_solutions(auction, candidates)
    first, second = merged.legs
    assert (first.amount_in, second.amount_in) == tuple(
        c.legs[0].amount_in for c in sorted(candidates, key=lambda c: -c.legs[0].amount_in)
    )
    alone = shared.amount_out(A, B, second.amount_in)
    reserves = dict(zip(shared.tokens, shared.reserves, strict=True))
    after = v2("ab", A, B)
    after = dataclasses.replace(
        after,
        reserves=tuple(
            reserves[t] + (first.amount_in if t == A else -first.amount_out) for t in after.tokens
        ),
    )
    assert second.amount_out == after.amount_out(A, B, second.amount_in) < alone
    rate = Fraction(merged.prices[A], merged.prices[B])
    produced = first.amount_out + second.amount_out
    assert rate <= Fraction(produced, first.amount_in + second.amount_in)
    assert rate < Fraction(first.amount_out, first.amount_in)  # the first order gets less
    check_solution(auction, merged, solver="merge")


def test_merged_gas_per_trade_is_below_one_order_per_settlement() -> None:
    auction, candidates, _ = _two_sells_one_pool()
    (merged,) = merge_solutions(auction, candidates)
    alone = sum(c.gas for c in candidates) / len(candidates)
    assert merged.gas / len(merged.trades) < alone
    # one settlement base shared; the pair's second swap costs its warm storage only
    (pool,) = auction.liquidity.pools
    second = pool.gas - V2_AGAIN_GAS
    assert merged.gas == sum(c.gas for c in candidates) - settlement_gas(0, 0) - second


def test_a_cycle_of_pairs_is_not_one_merged_solution() -> None:
    pools = (v2("ab", A, B), v2("bc", B, C), v2("ca", C, A))
    found = [
        order(s, b, units_of_native(s, 10**21), units_of_native(b, 10**21) * 9 // 10, tag=str(i))
        for i, (s, b) in enumerate([(A, B), (B, C), (C, A)])
    ]
    auction = small_auction(found, pools)
    candidates = optimal_engine().solve(auction)
    assert len(candidates) == 3
    merged = merge_solutions(auction, candidates)
    assert merged and all(len(m.trades) == 2 for m in merged)
    assert sum(len(m.trades) for m in merged) == 2  # the third would close the cycle


def test_opposite_directions_of_a_pair_are_not_merged() -> None:
    pools = (v2("ab", A, B), v2("cd", C, D))
    found = [
        order(A, B, units_of_native(A, 10**21), units_of_native(B, 10**21) * 9 // 10, tag="1"),
        order(B, A, units_of_native(B, 10**21), units_of_native(A, 10**21) * 9 // 10, tag="2"),
    ]
    auction = small_auction(found, pools)
    candidates = optimal_engine().solve(auction)
    assert len(candidates) == 2
    assert merge_solutions(auction, candidates) == []


def test_a_merged_solution_stays_within_its_gas_limit() -> None:
    pools = (v2("ab", A, B), v2("cd", C, D), v2("bc", B, C))
    found = [
        order(s, b, units_of_native(s, 10**21), units_of_native(b, 10**21) * 9 // 10, tag=str(i))
        for i, (s, b) in enumerate([(A, B), (C, D), (B, C)])
    ]
    auction = small_auction(found, pools)
    candidates = optimal_engine().solve(auction)
    assert len(candidates) == 3
    two = settlement_gas(2, 2 * 90_000)
    (unlimited,) = merge_solutions(auction, candidates)
    assert len(unlimited.trades) == 3
    limited = merge_solutions(auction, candidates, gas_limit=two)
    assert [len(m.trades) for m in limited] == [2]
    assert limited[0].gas == two


def test_a_buy_order_on_a_shared_pool_pays_for_what_its_legs_take() -> None:
    shared = v2("ab", A, B)
    amount = units_of_native(B, 10**21)
    found = [
        order(A, B, units_of_native(A, 2 * 10**21), amount * 19 // 10, tag="sell"),
        order(A, B, units_of_native(A, 10**21) * 105 // 100, amount, OrderKind.BUY, tag="buy"),
    ]
    auction = small_auction(found, (shared,))
    candidates = optimal_engine().solve(auction)
    assert len(candidates) == 2
    (merged,) = merge_solutions(auction, candidates)
    checked = check_solution(auction, merged, solver="merge")
    (buy,) = (c for c in checked if c.order.kind is OrderKind.BUY)
    spent = sum(leg.amount_in for leg in merged.legs)
    assert sum(c.sold for c in checked) >= spent  # the buy order pays its legs' share
    assert buy.bought == buy.trade.executed


def test_merged_solutions_share_no_pool() -> None:
    """The node settles its winners one after the other: a second merged solution swapping
    a pool the first moved would revert, so a candidate on a pool one merged solution owns
    joins that one or none (here the gas limit leaves it out)."""
    e, f = TokenAddress("0x" + "e5" * 20), TokenAddress("0x" + "f6" * 20)
    pools = (v2("ab", A, B), v2("cd", C, D), v2("da", D, A), pool("ef", e, f, 10**24, 10**24))
    prices = {**PRICES, e: E18, f: E18}
    legs = [(A, B, 4), (C, D, 3), (D, B, 2), (e, f, 1)]  # D -> B only through da, ab

    def wei(token: TokenAddress, n: int) -> int:
        return n * 10**21 * E18 // prices[token]

    found = [
        order(s, b, wei(s, n), wei(b, n) * 9 // 10, tag=str(i)) for i, (s, b, n) in enumerate(legs)
    ]
    auction = model_auction(found, pools, prices, GAS_PRICE, now() + timedelta(seconds=60))
    candidates = optimal_engine().solve(auction)
    assert len(candidates) == 4
    limit = settlement_gas(2, 3 * pools[0].gas)  # two candidates, three legs
    merged = merge_solutions(auction, candidates, gas_limit=limit)
    assert merged  # the two largest settle together
    seen: set[str] = set()
    for solution in merged:
        used = {leg.pool for leg in solution.legs}
        assert seen.isdisjoint(used)
        seen |= used
