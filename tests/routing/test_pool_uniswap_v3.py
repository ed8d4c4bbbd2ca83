from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.pool import InsufficientLiquidity, PoolId, PoolMathError
from routing.sqrt_price_math import amount0_delta, amount1_delta
from routing.swap_math import compute_swap_step
from routing.tick_math import (
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    MIN_TICK,
    sqrt_ratio_at_tick,
    tick_at_sqrt_ratio,
)
from routing.uniswap_v3 import ConcentratedLiquidityPool
from tests.routing.pool_checks import check_out_curve, check_round_trips, out_or_none
from tests.routing.v3_strategies import T0, T1, V3Case, v3_cases

ticks = st.integers(MIN_TICK, MAX_TICK - 1)
amounts = st.integers(1, 10**27)


def test_tick_math_end_points() -> None:
    assert sqrt_ratio_at_tick(MIN_TICK) == MIN_SQRT_RATIO
    assert sqrt_ratio_at_tick(MAX_TICK) == MAX_SQRT_RATIO
    assert sqrt_ratio_at_tick(0) == 2**96
    assert tick_at_sqrt_ratio(MIN_SQRT_RATIO) == MIN_TICK
    assert tick_at_sqrt_ratio(MAX_SQRT_RATIO - 1) == MAX_TICK - 1
    with pytest.raises(PoolMathError):
        sqrt_ratio_at_tick(MAX_TICK + 1)
    with pytest.raises(PoolMathError):
        tick_at_sqrt_ratio(MAX_SQRT_RATIO)


@given(ticks)
def test_tick_round_trip(tick: int) -> None:
    assert tick_at_sqrt_ratio(sqrt_ratio_at_tick(tick)) == tick
    assert sqrt_ratio_at_tick(tick) < sqrt_ratio_at_tick(tick + 1)


@given(st.integers(MIN_SQRT_RATIO, MAX_SQRT_RATIO - 1))
def test_tick_at_sqrt_ratio_is_the_greatest_tick_below(price: int) -> None:
    tick = tick_at_sqrt_ratio(price)
    assert sqrt_ratio_at_tick(tick) <= price
    assert tick == MAX_TICK or sqrt_ratio_at_tick(tick + 1) > price


@given(ticks, ticks, st.integers(1, 2**128 - 1))
def test_deltas_round_up_by_at_most_one(a: int, b: int, liquidity: int) -> None:
    pa, pb = sqrt_ratio_at_tick(a), sqrt_ratio_at_tick(b)
    for delta in (amount0_delta, amount1_delta):
        try:
            down = delta(pa, pb, liquidity, False)
        except PoolMathError:
            continue
        assert down <= delta(pa, pb, liquidity, True) <= down + 1


@given(
    st.integers(MIN_SQRT_RATIO, MAX_SQRT_RATIO - 1),
    st.integers(MIN_SQRT_RATIO, MAX_SQRT_RATIO - 1),
    st.integers(1, 2**100),
    st.integers(-(2**100), 2**100).filter(lambda x: x != 0),
    st.sampled_from([0, 100, 500, 3000, 10000, 999_999]),
)
def test_swap_step_respects_amount_and_target(
    current: int, target: int, liquidity: int, remaining: int, fee: int
) -> None:
    try:
        step = compute_swap_step(current, target, liquidity, remaining, fee)
    except PoolMathError:
        return
    lo, hi = sorted((current, target))
    assert lo <= step.sqrt_price_next_x96 <= hi
    if remaining > 0:
        assert step.amount_in + step.fee_amount <= remaining
    else:
        assert step.amount_out <= -remaining
    assert min(step.amount_in, step.amount_out, step.fee_amount) >= 0


@settings(max_examples=100)
@given(v3_cases(), amounts, amounts, st.booleans())
def test_out_curve_is_bounded_monotone_concave(
    case: V3Case, x: int, step: int, zero_for_one: bool
) -> None:
    t_in, t_out = (T0, T1) if zero_for_one else (T1, T0)
    # The fee is floored in input units, so an input unit of rounding is worth up to one spot
    # price of output; each tick crossing adds a unit of output rounding.
    spot = case.pool.spot_price(t_in, t_out)
    slack = 2 * math.ceil(spot + 1) + 2 * len(case.pool.liquidity_net) + 4
    check_out_curve(case.pool, t_in, t_out, x, step, case.reserve(t_out), slack)


@settings(max_examples=100)
@given(v3_cases(), amounts, amounts, st.booleans())
def test_round_trips_favour_the_pool(case: V3Case, x: int, y: int, zero_for_one: bool) -> None:
    t_in, t_out = (T0, T1) if zero_for_one else (T1, T0)
    check_round_trips(case.pool, t_in, t_out, x, y)


@given(v3_cases(), st.booleans())
def test_more_than_the_reserve_is_refused(case: V3Case, zero_for_one: bool) -> None:
    t_in, t_out = (T0, T1) if zero_for_one else (T1, T0)
    with pytest.raises(InsufficientLiquidity):
        case.pool.amount_in(t_in, t_out, case.reserve(t_out) + 1)


def test_empty_pool_and_bad_snapshots() -> None:
    empty = ConcentratedLiquidityPool(PoolId("e"), (T0, T1), 2**96, 0, 0, {}, 3000)
    with pytest.raises(InsufficientLiquidity):
        empty.amount_out(T0, T1, 10**18)
    with pytest.raises(PoolMathError):
        ConcentratedLiquidityPool(PoolId("e"), (T0, T1), 2**96, 0, 0, {7: 1, 8: -1}, 3000)
    with pytest.raises(PoolMathError):
        ConcentratedLiquidityPool(PoolId("e"), (T1, T0), 2**96, 0, 0, {}, 3000)


@given(v3_cases(), amounts, st.booleans())
def test_capacity_bounds_every_output_and_is_near_the_reserve(
    case: V3Case, x: int, zero_for_one: bool
) -> None:
    t_in, t_out = (T0, T1) if zero_for_one else (T1, T0)
    capacity = case.pool.capacity(zero_for_one)
    # The positions' holdings, up to the per-segment rounding slack.
    assert capacity <= case.reserve(t_out) + 2 * (len(case.pool.liquidity_net) + 1)
    out = out_or_none(case.pool, t_in, t_out, x)
    assert out is None or out <= capacity
    with pytest.raises(InsufficientLiquidity):
        case.pool.amount_in(t_in, t_out, capacity + 1)


@settings(max_examples=100)
@given(v3_cases(), st.lists(amounts, min_size=1, max_size=6), st.booleans(), st.booleans())
def test_skipping_completed_steps_equals_the_plain_loop(
    case: V3Case, xs: list[int], zero_for_one: bool, exact_in: bool
) -> None:
    """The cached full steps, bisected, give what the contract's loop from the snapshot state
    gives, for any sequence of amounts on one pool object (the cache grows as asked)."""
    pool = case.pool
    for x in xs:
        specified = x if exact_in else -x
        try:
            expected = pool._run(
                zero_for_one, specified, 0, 0, pool.sqrt_price_x96, pool.tick, pool.liquidity
            )
        except InsufficientLiquidity:
            with pytest.raises(InsufficientLiquidity):
                pool.swap(zero_for_one, specified)
            continue
        assert pool.swap(zero_for_one, specified) == expected
