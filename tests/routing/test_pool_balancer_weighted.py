from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.balancer_weighted import (
    WeightedPool,
    WeightedToken,
    calc_in_given_out,
    calc_out_given_in,
)
from routing.fixed_point import ONE, log_exp_pow, pow_down, pow_up
from routing.pool import InsufficientLiquidity, PoolId, PoolMathError, TokenAddress
from tests.routing.balancer_reference import log_exp, maths, weighted
from tests.routing.pool_checks import (
    check_out_curve,
    check_round_trips,
    in_or_none,
    out_or_none,
)

A = TokenAddress("0x" + "aa" * 20)
B = TokenAddress("0x" + "bb" * 20)
C = TokenAddress("0x" + "cc" * 20)

weights = st.sampled_from([ONE // 2, ONE // 5, 4 * ONE // 5, ONE // 8, ONE // 3, ONE // 100])
balances = st.integers(10**6, 10**30)


def _ref_or_error(fn: object, *args: object) -> int | None:
    try:
        return int(fn(*args))  # type: ignore[operator]
    except (ValueError, ZeroDivisionError, RuntimeError, AssertionError):
        return None


def _ours_or_error(fn: object, *args: object) -> int | None:
    try:
        return int(fn(*args))  # type: ignore[operator]
    except PoolMathError:
        return None


@given(st.integers(1, 10**40), st.integers(1, 10**20))
def test_pow_matches_balancer_log_exp_math(x: int, y: int) -> None:
    assert _ours_or_error(log_exp_pow, x, y) == _ref_or_error(log_exp.pow, x, y)


@given(st.integers(ONE - 10**17, ONE + 10**17), st.integers(1, 50 * ONE))
def test_pow_matches_in_the_ln36_band(x: int, y: int) -> None:
    assert _ours_or_error(log_exp_pow, x, y) == _ref_or_error(log_exp.pow, x, y)


# Bases up to 1e27 keep x**4 within uint256 (the reference does not check overflow).
@given(st.integers(1, 10**27), st.sampled_from([ONE, 2 * ONE, 4 * ONE, ONE // 3, 3 * ONE]))
def test_pow_up_matches_with_and_without_shortcuts(x: int, y: int) -> None:
    # balancer-maths: version 0 has the 1/2/4 shortcuts, version 1 goes through LogExpMath.
    assert _ours_or_error(pow_up, x, y, True) == _ref_or_error(maths.pow_up_fixed, x, y, 0)
    assert _ours_or_error(pow_up, x, y, False) == _ref_or_error(maths.pow_up_fixed, x, y, 1)
    assert _ours_or_error(pow_down, x, y, False) == _ref_or_error(maths.pow_down_fixed, x, y, 1)


@settings(max_examples=150)
@given(balances, weights, balances, weights, st.integers(1, 10**30))
def test_calc_out_given_in_matches_reference(
    b_in: int, w_in: int, b_out: int, w_out: int, amount: int
) -> None:
    ours = _ours_or_error(calc_out_given_in, b_in, w_in, b_out, w_out, amount)
    ref = _ref_or_error(weighted.compute_out_given_exact_in, b_in, w_in, b_out, w_out, amount)
    assert ours == ref


@settings(max_examples=150)
@given(balances, weights, balances, weights, st.integers(1, 10**30))
def test_calc_in_given_out_matches_reference(
    b_in: int, w_in: int, b_out: int, w_out: int, amount: int
) -> None:
    ours = _ours_or_error(calc_in_given_out, b_in, w_in, b_out, w_out, amount)
    ref = _ref_or_error(weighted.compute_in_given_exact_out, b_in, w_in, b_out, w_out, amount)
    assert ours == ref


@st.composite
def pools(draw: st.DrawFn) -> WeightedPool:
    w_a = draw(weights)
    decimals = draw(st.sampled_from([(18, 18), (6, 18), (18, 8), (0, 6)]))
    return WeightedPool(
        PoolId("w"),
        (
            WeightedToken(A, draw(balances), w_a, 10 ** (36 - decimals[0])),
            WeightedToken(B, draw(balances), ONE - w_a, 10 ** (36 - decimals[1])),
        ),
        fee=draw(st.sampled_from([10**12, 3 * 10**15, 10**16, 4699999999999999])),
        pow_shortcuts=draw(st.booleans()),
    )


@given(pools(), st.integers(1, 10**29), st.integers(1, 10**29), st.booleans())
def test_out_curve_is_bounded_monotone_concave(
    pool: WeightedPool, x: int, step: int, flip: bool
) -> None:
    t_in, t_out = (B, A) if flip else (A, B)
    reserve_out = pool.reserves[0 if flip else 1].balance
    # pow's relative error bound (1e-14 of the balance) and the fee's rounding up by an input
    # unit (worth up to one spot price of output) are the rounding granularity here.
    slack = reserve_out // 10**13 + 2 * math.ceil(pool.spot_price(t_in, t_out) + 1)
    check_out_curve(pool, t_in, t_out, x, step, reserve_out, slack)


@given(pools(), st.integers(1, 10**29), st.integers(1, 10**29), st.booleans())
def test_round_trips_favour_the_pool(pool: WeightedPool, x: int, y: int, flip: bool) -> None:
    t_in, t_out = (B, A) if flip else (A, B)
    b_in, b_out = (pool.reserves[1].balance, pool.reserves[0].balance)
    if not flip:
        b_in, b_out = b_out, b_in
    # Both directions round against the trader by up to pow's error bound (1e-14 of the
    # balance) plus an input unit of fee rounding, so the round trips hold up to that.
    in_slack = b_in // 10**13 + 2 * math.ceil(1 / pool.spot_price(t_in, t_out) + 1)
    out_slack = b_out // 10**13 + 2 * math.ceil(pool.spot_price(t_in, t_out) + 1)
    # The max ratios make the contract asymmetric: GivenIn limits only the input (30% of its
    # balance) and GivenOut only the output, so a round trip can step over the other limit.
    sold = out_or_none(pool, t_in, t_out, x)
    round_x: int | None = x
    if sold is not None and sold > b_out * 3 // 10:
        with pytest.raises(InsufficientLiquidity):
            pool.amount_in(t_in, t_out, sold)
        round_x = None
    needed = in_or_none(pool, t_in, t_out, y)
    round_y: int | None = y
    if needed is not None and needed > b_in * 3 // 10:
        # (The in-ratio applies after the fee is taken off, so selling may still go through.)
        got = out_or_none(pool, t_in, t_out, needed)
        assert got is None or got >= y - out_slack
        round_y = None
    check_round_trips(pool, t_in, t_out, round_x, round_y, in_slack, out_slack)


def test_fee_and_max_ratio() -> None:
    pool = WeightedPool(
        PoolId("w"),
        (WeightedToken(A, 10**21, ONE // 2, ONE), WeightedToken(B, 10**21, ONE // 2, ONE)),
        fee=3 * 10**15,
    )
    # 50/50 with the exponent shortcut: out = b_out * (1 - b_in / (b_in + in')) exactly,
    # with in' = in - ceil(in * fee) and the base rounded up.
    amount = 10**18
    after_fee = amount - (amount * 3 * 10**15 + ONE - 1) // ONE
    base = -(-(10**21) * ONE // (10**21 + after_fee))
    assert pool.amount_out(A, B, amount) == 10**21 * (ONE - base) // ONE
    with pytest.raises(InsufficientLiquidity):
        pool.amount_out(A, B, 3 * 10**20 + 10**18)
    with pytest.raises(InsufficientLiquidity):
        pool.amount_in(A, B, 3 * 10**20 + 1)
    three = WeightedPool(
        PoolId("w3"),
        (
            WeightedToken(A, 10**21, ONE // 3, ONE),
            WeightedToken(B, 10**21, ONE // 3, ONE),
            WeightedToken(C, 10**9, ONE - 2 * (ONE // 3), 10**30),
        ),
        fee=10**15,
    )
    assert 0 < three.amount_out(C, A, 10**6) < three.amount_out(C, B, 2 * 10**6)
