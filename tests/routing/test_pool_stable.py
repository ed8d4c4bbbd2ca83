from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.fixed_point import ONE
from routing.pool import InsufficientLiquidity, PoolId, PoolMathError, TokenAddress
from routing.stable import (
    AMP_PRECISION,
    StablePool,
    StableToken,
    calc_in_given_out,
    calc_out_given_in,
    calculate_invariant,
)
from tests.routing.balancer_reference import stable
from tests.routing.pool_checks import check_out_curve, check_round_trips, out_or_none

A = TokenAddress("0x" + "aa" * 20)
B = TokenAddress("0x" + "bb" * 20)
C = TokenAddress("0x" + "cc" * 20)

amps = st.integers(1, 5000).map(lambda a: a * AMP_PRECISION)
balance_lists = st.lists(st.integers(10**15, 10**30), min_size=2, max_size=5)


def _ref(fn: object, *args: object) -> int | None:
    try:
        return int(fn(*args))  # type: ignore[operator]
    except (ValueError, ZeroDivisionError, RuntimeError):
        return None


def _ours(fn: object, *args: object) -> int | None:
    try:
        result = int(fn(*args))  # type: ignore[operator]
    except PoolMathError:
        return None
    return result


@given(amps, balance_lists)
def test_invariant_matches_reference(amp: int, balances: list[int]) -> None:
    # Both raise where Newton does not converge in 255 rounds (low amp, skewed balances).
    ours = _ours(calculate_invariant, amp, tuple(balances))
    assert ours == _ref(stable.compute_invariant, amp, balances)


def _close(ours: int, ref: int, balances: list[int]) -> bool:
    """Equal up to the V2/V3 difference in the balance solver: Balancer V2 (ours) floors
    ``invariant / ampTimesTotal`` before scaling by ``AMP_PRECISION`` and rounds
    ``inv**2 / (ampTimesTotal * P_D)`` before it, V3 (the reference) scales first. That moves
    the Newton coefficients by under ``AMP_PRECISION`` units: a few thousand wei, at most a
    billionth of the amount."""
    return abs(ours - ref) <= 2 * len(balances) * AMP_PRECISION + abs(ref) // 10**9


@settings(max_examples=100)
@given(amps, balance_lists, st.integers(1, 10**29), st.data())
def test_out_and_in_agree_with_reference(
    amp: int, balances: list[int], amount: int, data: st.DataObject
) -> None:
    i = data.draw(st.integers(0, len(balances) - 1))
    o = data.draw(st.integers(0, len(balances) - 1).filter(lambda k: k != i))
    invariant = _ref(stable.compute_invariant, amp, balances)
    if invariant is None:
        assert _ours(calc_out_given_in, amp, tuple(balances), i, o, amount) is None
        return
    ours = _ours(calc_out_given_in, amp, tuple(balances), i, o, amount)
    ref = _ref(stable.compute_out_given_exact_in, amp, list(balances), i, o, amount, invariant)
    assert (ours is None) == (ref is None)
    if ours is not None and ref is not None:
        assert _close(ours, ref, balances), (ours, ref)
    if amount < balances[o]:
        ours = _ours(calc_in_given_out, amp, tuple(balances), i, o, amount)
        ref = _ref(stable.compute_in_given_exact_out, amp, list(balances), i, o, amount, invariant)
        if ours is not None and ref is not None:
            assert _close(ours, ref, balances), (ours, ref)


@st.composite
def pools(draw: st.DrawFn) -> StablePool:
    decimals = draw(st.sampled_from([(18, 18), (6, 18), (6, 6), (8, 18)]))
    return StablePool(
        PoolId("s"),
        (
            StableToken(
                A, draw(st.integers(10**3, 10**12)) * 10 ** decimals[0], 10 ** (36 - decimals[0])
            ),
            StableToken(
                B, draw(st.integers(10**3, 10**12)) * 10 ** decimals[1], 10 ** (36 - decimals[1])
            ),
        ),
        amp=draw(st.integers(10, 5000)) * AMP_PRECISION,
        fee=draw(st.sampled_from([10**14, 4 * 10**14, 10**15])),
    )


@given(pools(), st.integers(1, 10**29), st.integers(1, 10**29), st.booleans())
def test_out_curve_is_bounded_monotone_concave(
    pool: StablePool, x: int, step: int, flip: bool
) -> None:
    t_in, t_out = (B, A) if flip else (A, B)
    reserve_out = pool.reserves[0 if flip else 1].balance
    # The balance solver rounds its coefficients to AMP_PRECISION units of the upscaled
    # balance (a few thousand wei), and an input unit of fee rounding is worth up to one spot
    # price of output.
    scale_out = pool.reserves[0 if flip else 1].scaling_factor // ONE
    slack = 8 * AMP_PRECISION // scale_out + 4 + 2 * math.ceil(pool.spot_price(t_in, t_out) + 1)
    check_out_curve(pool, t_in, t_out, x, step, reserve_out, slack)


@given(pools(), st.integers(1, 10**29), st.integers(1, 10**29), st.booleans())
def test_round_trips_favour_the_pool(pool: StablePool, x: int, y: int, flip: bool) -> None:
    t_in, t_out = (B, A) if flip else (A, B)
    if pool.spot_price(t_in, t_out) == 0.0:
        # Newton does not converge on this (very skewed) pool: it trades nothing.
        with pytest.raises(InsufficientLiquidity):
            pool.amount_out(t_in, t_out, x)
        return
    # Each direction carries the solver's rounding (see the curve test) against the trader.
    i, o = (1, 0) if flip else (0, 1)
    spot = pool.spot_price(t_in, t_out)
    in_slack = 8 * AMP_PRECISION // (pool.reserves[i].scaling_factor // ONE) + 4
    out_slack = 8 * AMP_PRECISION // (pool.reserves[o].scaling_factor // ONE) + 4
    # StableMath's Newton solvers stop within one unit of the invariant and of the balance.
    # Once a trade drains the output token past 99.99% of what the pool holds, the balances
    # are skewed beyond 1:10^4 and that one unit moves the other side's balance by more
    # than any fixed slack (the contract behaves the same): the in(out(x)) half is only
    # checked on trades that leave the pool at least 0.01% of its output balance.
    out = out_or_none(pool, t_in, t_out, x)
    drained = out is not None and out * 10_000 > pool.reserves[o].balance * 9_999
    check_round_trips(
        pool,
        t_in,
        t_out,
        None if drained else x,
        y,
        in_slack + 2 * math.ceil(1 / spot + 1),
        out_slack + 2 * math.ceil(spot + 1),
    )


def test_balanced_pool_trades_near_one_and_refuses_the_whole_balance() -> None:
    usdc = StableToken(A, 10**6 * 10**6, 10**30)
    dai = StableToken(B, 10**6 * 10**18, ONE)
    pool = StablePool(PoolId("s"), (usdc, dai), amp=200 * AMP_PRECISION, fee=10**14)
    out = pool.amount_out(A, B, 1000 * 10**6)
    assert 999 * 10**18 < out < 1000 * 10**18
    assert pool.spot_price(A, B) == pytest.approx(0.9999 * 10**12)
    with pytest.raises(InsufficientLiquidity):
        pool.amount_in(A, B, 10**6 * 10**18)
