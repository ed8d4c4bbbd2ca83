"""``routing.sanity``: the exact comparison of a rate with the reference rate (symmetric,
monotone in the bound, exact at the boundary), every pool kind's mid rate against its own
swap math, and which pools a snapshot keeps."""

from __future__ import annotations

from fractions import Fraction
from types import MappingProxyType

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from routing.balancer_weighted import WeightedPool, WeightedToken
from routing.fixed_point import ONE
from routing.limit_order import LimitOrderPool
from routing.liquidity import Snapshot
from routing.pool import Pool, PoolId, PoolMathError, TokenAddress
from routing.route import Leg, OrderKind, Route
from routing.sanity import (
    PRICE_DEVIATION,
    Rate,
    deviation,
    mid_rates,
    pool_deviation,
    realised_deviation,
    route_deviation,
    sane_pools,
    sane_snapshot,
    scientific,
    within_bound,
)
from routing.stable import AMP_PRECISION, StablePool, StableToken
from routing.tick_math import sqrt_ratio_at_tick
from routing.uniswap_v2 import ConstantProductPool
from routing.uniswap_v3 import TICK_SPACING_BY_FEE, ConcentratedLiquidityPool
from tests.routing.v3_strategies import V3Case, v3_cases

A = TokenAddress("0x" + "aa" * 20)
B = TokenAddress("0x" + "bb" * 20)
C = TokenAddress("0x" + "cc" * 20)
D = TokenAddress("0x" + "dd" * 20)
E18 = 10**18

amounts = st.integers(0, 10**40)
positive = st.integers(1, 10**40)
prices = st.integers(1, 10**36)
bounds = st.fractions(min_value=1, max_value=10**6, max_denominator=10**6)


# -- the comparison ----------------------------------------------------------------------------


@given(amounts, positive, prices, prices, bounds)
def test_within_bound_is_the_ratio_to_the_reference_between_one_over_bound_and_bound(
    out: int, into: int, price_in: int, price_out: int, bound: Fraction
) -> None:
    ratio = Fraction(out, into) / Fraction(price_in, price_out)
    assert within_bound(Rate(out, into), price_in, price_out, bound) == (
        1 / bound <= ratio <= bound
    )
    assert deviation(Rate(out, into), price_in, price_out) == ratio


@given(amounts, amounts, prices, prices, bounds)
def test_within_bound_is_symmetric_in_the_direction_of_the_trade(
    out: int, into: int, price_in: int, price_out: int, bound: Fraction
) -> None:
    forward = within_bound(Rate(out, into), price_in, price_out, bound)
    assert forward == within_bound(Rate(into, out), price_out, price_in, bound)


@given(amounts, amounts, prices, prices, bounds, bounds)
def test_within_bound_is_monotone_in_the_bound(
    out: int, into: int, price_in: int, price_out: int, a: Fraction, b: Fraction
) -> None:
    low, high = sorted((a, b))
    if within_bound(Rate(out, into), price_in, price_out, low):
        assert within_bound(Rate(out, into), price_in, price_out, high)


@given(amounts, positive, prices, prices, bounds, st.integers(1, 10**6))
def test_within_bound_does_not_depend_on_the_units_of_the_rate(
    out: int, into: int, price_in: int, price_out: int, bound: Fraction, k: int
) -> None:
    assert within_bound(Rate(out, into), price_in, price_out, bound) == within_bound(
        Rate(k * out, k * into), k * price_in, k * price_out, bound
    )


@given(prices, prices, bounds)
def test_within_bound_is_exact_at_the_boundary(
    price_in: int, price_out: int, bound: Fraction
) -> None:
    n, d = bound.numerator, bound.denominator
    # the reference rate price_in / price_out times the bound, and one unit above it
    assert within_bound(Rate(price_in * n, price_out * d), price_in, price_out, bound)
    assert not within_bound(Rate(price_in * n + 1, price_out * d), price_in, price_out, bound)
    # divided by the bound, and one unit below it
    assert within_bound(Rate(price_in * d, price_out * n), price_in, price_out, bound)
    assert not within_bound(Rate(price_in * d - 1, price_out * n), price_in, price_out, bound)


@given(positive, prices, prices, bounds)
def test_infinite_and_zero_rates_are_never_within_and_no_rate_always_is(
    amount: int, price_in: int, price_out: int, bound: Fraction
) -> None:
    assert not within_bound(Rate(amount, 0), price_in, price_out, bound)
    assert not within_bound(Rate(0, amount), price_in, price_out, bound)
    assert within_bound(Rate(0, 0), price_in, price_out, bound)


def test_within_bound_refuses_what_is_not_a_comparison() -> None:
    with pytest.raises(ValueError):
        within_bound(Rate(1, 1), 1, 1, Fraction(1, 2))
    with pytest.raises(ValueError):
        within_bound(Rate(1, 1), 0, 1, Fraction(100))
    with pytest.raises(ValueError):
        within_bound(Rate(-1, 1), 1, 1, Fraction(100))


@given(st.fractions(min_value=Fraction(1, 10**30), max_value=10**30))
def test_scientific_rounds_to_three_significant_digits(value: Fraction) -> None:
    shown = Fraction(scientific(value))
    assert abs(shown / value - 1) <= Fraction(5, 1000)


# -- mid rates against the pools' own math -----------------------------------------------------


def _check_mid_rate(pool: Pool, token_in: TokenAddress, token_out: TokenAddress, x: int) -> None:
    """A small swap realises at most the mid rate, and all but its fee and a sliver of
    price impact."""
    rates = mid_rates(pool, token_in, token_out)
    if not rates:  # no invariant to differentiate: the pool cannot swap either
        with pytest.raises(PoolMathError):
            pool.amount_out(token_in, token_out, x)
        return
    rate = rates[0]
    try:
        out = pool.amount_out(token_in, token_out, x)
    except PoolMathError:
        assume(False)
        return
    assume(x >= 10**6 and out >= 10**6)  # rounding is a sliver of either
    mid = Fraction(rate.out, rate.in_)
    assert Fraction(out, x) <= mid
    assert Fraction(out + 1, x) >= mid * Fraction(97, 100)  # fees here are at most 1%


@given(
    st.integers(10**12, 10**30), st.integers(10**12, 10**30), st.sampled_from([(3, 1000), (1, 100)])
)
def test_constant_product_mid_rate_is_the_reserve_ratio(
    r0: int, r1: int, fee: tuple[int, int]
) -> None:
    pool = ConstantProductPool(PoolId("p"), (A, B), (r0, r1), *fee)
    _check_mid_rate(pool, A, B, r0 // 10**6)
    _check_mid_rate(pool, B, A, r1 // 10**6)


DECIMALS = st.sampled_from([(18, 18), (6, 18), (18, 8), (6, 6)])


@st.composite
def _balances(draw: st.DrawFn) -> tuple[tuple[int, int], tuple[int, int]]:
    """(balances in base units, their 18-decimal scaling factors): whole units within a
    factor 1000 of each other, deep enough that a millionth of a balance rounds little."""
    decimals = draw(DECIMALS)
    units = draw(st.integers(10**6, 10**12))
    other = max(units * draw(st.integers(1, 10**6)) // 1000, 1)
    balances = (units * 10 ** decimals[0], other * 10 ** decimals[1])
    return balances, (10 ** (36 - decimals[0]), 10 ** (36 - decimals[1]))


@given(_balances(), st.integers(10**16, ONE - 10**16), st.booleans(), st.booleans())
def test_weighted_mid_rate_is_balances_over_weights(
    balances: tuple[tuple[int, int], tuple[int, int]], weight: int, shortcuts: bool, flip: bool
) -> None:
    (b_a, b_b), (f_a, f_b) = balances
    pool = WeightedPool(
        PoolId("w"),
        (WeightedToken(A, b_a, weight, f_a), WeightedToken(B, b_b, ONE - weight, f_b)),
        fee=3 * 10**15,
        pow_shortcuts=shortcuts,
    )
    t_in, t_out = (pool.reserves[1], pool.reserves[0]) if flip else pool.reserves
    _check_mid_rate(pool, t_in.address, t_out.address, t_in.balance // 10**6)


@given(_balances(), st.integers(10, 5000), st.booleans())
def test_stable_mid_rate_is_the_derivative_of_the_invariant(
    balances: tuple[tuple[int, int], tuple[int, int]], amp: int, flip: bool
) -> None:
    (b_a, b_b), (f_a, f_b) = balances
    pool = StablePool(
        PoolId("s"),
        (StableToken(A, b_a, f_a), StableToken(B, b_b, f_b)),
        amp=amp * AMP_PRECISION,
        fee=4 * 10**14,
    )
    t_in, t_out = (pool.reserves[1], pool.reserves[0]) if flip else pool.reserves
    _check_mid_rate(pool, t_in.address, t_out.address, t_in.balance // 10**6)


@given(
    st.integers(-200_000, 200_000),
    st.integers(0, 2**64),
    st.integers(10**20, 10**27),
    st.sampled_from([500, 3000, 10000]),
    st.booleans(),
)
def test_concentrated_mid_rate_is_the_square_of_sqrt_price(
    tick: int, offset: int, liquidity: int, fee: int, zero_for_one: bool
) -> None:
    spacing = TICK_SPACING_BY_FEE[fee]
    low, high = sqrt_ratio_at_tick(tick), sqrt_ratio_at_tick(tick + 1)
    lower, upper = (tick // spacing - 50) * spacing, (tick // spacing + 50) * spacing
    pool = ConcentratedLiquidityPool(
        PoolId("v3"),
        (A, B),
        low + offset % (high - low),
        liquidity,
        tick,
        {lower: liquidity, upper: -liquidity},
        fee,
    )
    t_in, t_out = pool.tokens if zero_for_one else pool.tokens[::-1]
    virtual = (
        liquidity * 2**96 // pool.sqrt_price_x96
        if zero_for_one
        else liquidity * pool.sqrt_price_x96 // 2**96
    )
    _check_mid_rate(pool, t_in, t_out, virtual // 10**6)


@given(v3_cases())
def test_a_contract_consistent_v3_pool_has_its_tick_and_sqrt_price_rates_one_tick_apart(
    case: V3Case,
) -> None:
    pool = case.pool
    sqrt_rate, tick_rate = mid_rates(pool, pool.tokens[0], pool.tokens[1])
    # so the tick's rate never condemns a pool whose sqrtPrice passes a bound 1.0002 wider
    assert within_bound(tick_rate, sqrt_rate.out, sqrt_rate.in_, Fraction(10002, 10000))
    back, _ = mid_rates(pool, pool.tokens[1], pool.tokens[0])
    assert Fraction(*back) == 1 / Fraction(*sqrt_rate)


def test_limit_order_mid_rate_is_its_price_both_ways() -> None:
    order = LimitOrderPool(PoolId("lo"), (A, B), taker_amount=3 * E18, maker_amount=6 * E18)
    assert mid_rates(order, A, B) == (Rate(6 * E18, 3 * E18),)
    assert mid_rates(order, B, A) == (Rate(3 * E18, 6 * E18),)


# -- pools and snapshots -----------------------------------------------------------------------


def _pair(ident: str, x: TokenAddress, y: TokenAddress, rx: int, ry: int) -> ConstantProductPool:
    (t0, r0), (t1, r1) = sorted([(x, rx), (y, ry)])
    return ConstantProductPool(PoolId(ident), (t0, t1), (r0, r1))


@given(st.integers(1, 10**6), st.integers(1, 10**6), bounds, st.booleans())
def test_a_pair_is_judged_by_its_reserve_ratio_against_the_reference(
    reserve_a: int, reserve_b: int, bound: Fraction, a_first: bool
) -> None:
    pool = _pair("p", A, B, reserve_a * E18, reserve_b * E18)
    reference = {A: 3 * E18, B: E18}  # 3 B per A
    ratio = Fraction(reserve_b, reserve_a) / 3
    found = pool_deviation(pool, reference, bound)
    assert (found is None) == (1 / bound <= ratio <= bound)
    if found is not None:
        assert found.subject == "p" and {found.token_in, found.token_out} == {A, B}


@given(st.integers(1, 10**30), st.integers(1, 10**30), bounds)
def test_pools_with_an_unpriced_token_are_never_judged(r0: int, r1: int, bound: Fraction) -> None:
    pool = _pair("p", A, B, r0, r1)
    assert pool_deviation(pool, {A: E18}, bound) is None
    assert pool_deviation(pool, {A: E18, B: None}, bound) is None
    assert pool_deviation(pool, {A: E18, B: 0}, bound) is None


def test_a_v3_pool_is_judged_by_its_sqrt_price_and_by_its_tick() -> None:
    def v3(sqrt_tick: int, tick: int) -> ConcentratedLiquidityPool:
        return ConcentratedLiquidityPool(
            PoolId("v3"), (A, B), sqrt_ratio_at_tick(sqrt_tick), 10**20, tick, {}, 3000
        )

    reference = {A: E18, B: E18}
    assert pool_deviation(v3(0, 0), reference, Fraction(100)) is None
    sqrt_off = pool_deviation(v3(60_000, 0), reference, Fraction(100))  # 1.0001**60000 ~ 403
    assert sqrt_off is not None and sqrt_off.what == "sqrtPrice"
    tick_off = pool_deviation(v3(0, -60_000), reference, Fraction(100))
    assert tick_off is not None and tick_off.what == "tick"
    assert pool_deviation(v3(60_000, 0), reference, Fraction(404)) is None


@given(st.integers(1, 10**9), st.integers(10**20, 10**27), st.integers(10**20, 10**27))
def test_a_weighted_pool_keeps_its_sane_tokens_and_their_exact_math(
    drained: int, balance_b: int, balance_c: int
) -> None:
    third = ONE // 3
    pool = WeightedPool(
        PoolId("w"),
        (
            WeightedToken(A, drained, third, E18),  # a few wei of A left
            WeightedToken(B, balance_b, third, E18),
            WeightedToken(C, balance_c, ONE - 2 * third, E18),
        ),
        fee=3 * 10**15,
    )
    reference = {A: E18, B: balance_c, C: balance_b}  # B/C at its pool rate, A far off
    kept, insane = sane_pools([pool], reference, Fraction(100))
    (found,) = insane
    assert found.tokens_left_out == (A,)
    assert "kept without" in found.reason
    (part,) = kept
    assert isinstance(part, WeightedPool) and part.tokens == (B, C)
    assert pool_deviation(part, reference, Fraction(100)) is None
    for t_in, t_out in ((B, C), (C, B)):
        x = min(balance_b, balance_c) // 1000
        assert part.amount_out(t_in, t_out, x) == pool.amount_out(t_in, t_out, x)


def test_a_snapshot_lists_the_pools_it_leaves_out() -> None:
    sane = _pair("sane", A, B, E18, 2 * E18)
    off = _pair("off", A, B, E18, 2000 * E18)
    unpriced = _pair("unpriced", A, D, E18, 10**9 * E18)
    reference = {A: 2 * E18, B: E18, D: None}
    snapshot = Snapshot((sane, off, unpriced), MappingProxyType({}), 1, None)
    filtered, insane = sane_snapshot(snapshot, reference, Fraction(100))
    assert filtered.pools == (sane, unpriced)
    (skipped,) = filtered.skipped
    assert (skipped.id, skipped.kind, skipped.code) == (
        "off",
        "ConstantProductPool",
        PRICE_DEVIATION,
    )
    assert "1e3 times the reference" in skipped.reason
    assert [i.pool for i in insane] == ["off"]
    unchanged, none = sane_snapshot(filtered, reference, Fraction(100))
    assert unchanged is filtered and none == ()


# -- routes ------------------------------------------------------------------------------------


@given(positive, amounts, bounds)
def test_a_route_is_judged_by_what_it_realises(
    amount_in: int, amount_out: int, bound: Fraction
) -> None:
    route = Route(
        "test",
        OrderKind.SELL,
        A,
        B,
        (Leg(PoolId("p"), A, B, amount_in, amount_out),),
        amount_in,
        amount_out,
        0,
        0,
        0.0,
    )
    reference = {A: 2 * E18, B: E18}
    found = route_deviation(route, reference, bound)
    assert (found is None) == within_bound(Rate(amount_out, amount_in), 2 * E18, E18, bound)
    assert found == realised_deviation(A, B, amount_in, amount_out, reference, bound)
    assert route_deviation(route, {A: 2 * E18}, bound) is None  # unpriced: not judged
