"""Issue 13, item 6: a solution gives users what the chain would. Each liquidity leg claims
its pool's exact output (``InexactAmmOutput``), the settlement keeps no more than the
declared fees (``UndeclaredSurplus``), and, with ``ebbo``, no trade is worse than the
baseline route (``EbboViolated``)."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from intents.order import OrderClass
from routing.pool import PoolId
from routing.route import Leg
from routing.uniswap_v2 import ConstantProductPool
from solver.checks import Rejection, SolutionRejected, check_solution
from solver.kept import ROUNDING_UNITS, implied_prices, rounding_allowance, undeclared_surplus
from solver.model import Auction, Solution, Trade
from tests.solver.test_checks import (
    AMM,
    AMM_OUT,
    AMM_SOLUTION,
    COW,
    COW_SOLUTION,
    POOL,
    WEIGHTED,
    A,
    B,
    C,
    auction,
    order,
    rejected,
    solution,
    uid,
)
from tests.solver.test_price_sanity import v3

E20 = 10**20


def _routed(claim: int, paid: int, amount: int = 1000) -> tuple[Leg, Solution]:
    """Order 3 sells ``amount`` A through the A/C pair claimed ``claim`` C; the user is
    paid ``paid`` C (the uniform prices say so)."""
    leg = Leg(POOL.id, A, C, amount, claim)
    return leg, solution({A: paid, C: amount}, Trade(uid(3), amount), legs=(leg,))


def test_the_exact_claim_passes_and_under_claims_are_rejected() -> None:
    assert check_solution(AMM, AMM_SOLUTION, solver="t")[0].bought == AMM_OUT
    # the attack: claim little, pay the user the claim; the pair keeps the rest
    _, shy = _routed(claim=900, paid=900)
    assert rejected(AMM, shy) is Rejection.INEXACT_AMM_OUTPUT
    _, greedy = _routed(claim=AMM_OUT + 1, paid=AMM_OUT + 1)
    assert rejected(AMM, greedy) is Rejection.AMM_OVERDRAWN


def test_claiming_the_exact_output_and_paying_less_is_rejected() -> None:
    _, less = _routed(claim=AMM_OUT, paid=900)
    assert rejected(AMM, less) is Rejection.UNDECLARED_SURPLUS


@settings(max_examples=60, deadline=None)
@given(
    reserves=st.tuples(st.integers(10**6, 10**30), st.integers(10**6, 10**30)),
    amount=st.integers(1000, 10**24),
    delta=st.integers(-(10**6), 10**6),
)
def test_a_v2_claim_passes_exactly_when_it_is_the_pools_output(
    reserves: tuple[int, int], amount: int, delta: int
) -> None:
    pool = ConstantProductPool(id=PoolId("pool-ac"), tokens=(A, C), reserves=reserves)
    exact = pool.amount_out(A, C, min(amount, reserves[0]))
    amount = min(amount, reserves[0])
    claim = exact + delta
    if claim < 1:
        return
    book = dataclasses.replace(AMM, orders=(order(3, A, C, amount, 1),))
    book = dataclasses.replace(
        book, liquidity=dataclasses.replace(book.liquidity, pools=(pool, WEIGHTED))
    )
    leg = Leg(pool.id, A, C, amount, claim)
    fair = solution({A: claim, C: amount}, Trade(uid(3), amount), legs=(leg,))
    if delta == 0:
        assert check_solution(book, fair, solver="t")[0].bought == exact
        return
    try:
        check_solution(book, fair, solver="t")
    except SolutionRejected as error:
        code = error.code
    else:
        raise AssertionError(f"claim {claim} of exact {exact} passed")
    assert code is (Rejection.AMM_OVERDRAWN if delta > 0 else Rejection.INEXACT_AMM_OUTPUT)


def test_a_v3_leg_claims_its_whole_output() -> None:
    pool = v3("v3-ab")
    sold = 10**18
    result = pool.swap(True, sold)
    t0, t1 = pool.tokens
    book = dataclasses.replace(
        auction(order(4, t0, t1, sold, 1)),
        liquidity=dataclasses.replace(AMM.liquidity, pools=(pool,)),
    )

    def paying(claim: int) -> Solution:
        leg = Leg(pool.id, t0, t1, sold, claim)
        return solution({t0: claim, t1: sold}, Trade(uid(4), sold), legs=(leg,))

    assert (
        check_solution(book, paying(result.amount_out), solver="t")[0].bought == result.amount_out
    )
    assert rejected(book, paying(result.amount_out - 1)) is Rejection.INEXACT_AMM_OUTPUT


def test_legs_through_a_balancer_pool_add_up_to_its_exact_output() -> None:
    book = auction(order(5, A, B, 2 * 10**22, 1))
    half = WEIGHTED.amount_out(A, B, 10**22)
    whole = WEIGHTED.amount_out(A, B, 2 * 10**22)

    def split(second: int) -> Solution:
        legs = (Leg(WEIGHTED.id, A, B, 10**22, half), Leg(WEIGHTED.id, A, B, 10**22, second))
        return solution({A: half + second, B: 2 * 10**22}, Trade(uid(5), 2 * 10**22), legs=legs)

    assert check_solution(book, split(whole - half), solver="t")
    assert rejected(book, split(whole - half - 1)) is Rejection.INEXACT_AMM_OUTPUT


def test_declared_fees_may_stay_and_nothing_more() -> None:
    fee = 10
    executed = 1000 - fee
    book = auction(order(6, A, C, 1000, 800, order_class=OrderClass.LIMIT))

    def routed(swapped: int) -> Solution:
        out = POOL.amount_out(A, C, swapped)
        leg = Leg(POOL.id, A, C, swapped, out)
        return solution({A: out, C: executed}, Trade(uid(6), executed, fee), legs=(leg,))

    (fair,) = check_solution(book, routed(executed), solver="t")
    assert fair.sold == 1000  # the fee stays in the settlement, declared
    # swapping less than the user's executed amount keeps A beyond the fee
    assert rejected(book, routed(900)) is Rejection.UNDECLARED_SURPLUS


def test_a_cow_keeps_nothing_and_only_rounding_dust_passes() -> None:
    checked = check_solution(COW, COW_SOLUTION, solver="t")
    prices = {A: 3, B: 5}
    assert undeclared_surplus(checked, {A: 0, B: 0}, prices, ()) is None
    # two units of each token a trade moves, valued at the clearing prices
    limit = rounding_allowance(checked, (), prices)
    assert limit == ROUNDING_UNITS * len(checked) * (3 + 5)
    assert undeclared_surplus(checked, {A: 0, B: limit // 5}, prices, ()) is None
    assert "keep" in (undeclared_surplus(checked, {A: 0, B: limit // 5 + 1}, prices, ()) or "")
    # a token no user trades: only a unit of rounding per leg out of it
    legs = (Leg(POOL.id, C, A, 5, 5),)
    assert undeclared_surplus(checked, {C: 1}, prices, legs) is None
    assert "no user trades" in (undeclared_surplus(checked, {C: 2}, prices, legs) or "")


def test_a_routes_intermediate_counts_at_the_rate_its_legs_pay() -> None:
    """A unit of an intermediate token is worth what the leg out of it pays for it: one
    base unit of a coarse token (8 decimals) can buy many of a fine one."""
    legs = (Leg(POOL.id, A, C, 10**18, 10**8), Leg(POOL.id, C, B, 10**8, 2 * 10**18))
    assert implied_prices({A: 1, B: 1}, legs)[C] == 10**10  # the lower of the two rates
    checked = check_solution(COW, COW_SOLUTION, solver="t")
    alone = rounding_allowance(checked, (), {A: 1, B: 1})
    routed = rounding_allowance(checked, legs, {A: 1, B: 1})
    assert routed - alone == ROUNDING_UNITS * (1 + 10**10 + 10**10 + 1)


def _bad_cow() -> tuple[Auction, Solution]:
    """Order 1 sells 10**20 A at 0.9 B each to order 2 (partially fillable): balanced, no
    AMM, both limits hold; the weighted A/B pool pays order 1 ~0.997 B per A."""
    book = auction(
        order(1, A, B, E20, 9 * E20 // 10), order(2, B, A, E20, 9 * E20 // 10, partial=True)
    )
    bad = solution({A: 9, B: 10}, Trade(uid(1), E20), Trade(uid(2), 9 * E20 // 10))
    return book, bad


def test_ebbo_rejects_a_cow_below_the_pool_and_passes_fair_ones() -> None:
    book, bad = _bad_cow()
    assert check_solution(book, bad, solver="t")
    try:
        check_solution(book, bad, solver="t", ebbo=True)
    except SolutionRejected as error:
        assert error.code is Rejection.EBBO_VIOLATED
        assert f"order 0x{uid(1).hex()} receives {9 * E20 // 10}" in error.message
    else:
        raise AssertionError("a CoW below the pool's price passed EBBO")
    # the fair CoW (1:1) and the baseline's own route meet it
    assert check_solution(COW, COW_SOLUTION, solver="t", ebbo=True)
    assert check_solution(AMM, AMM_SOLUTION, solver="t", ebbo=True)
