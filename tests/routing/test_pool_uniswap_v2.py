from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from routing.pool import InsufficientLiquidity, PoolId, PoolMathError, TokenAddress, UnknownToken
from routing.uniswap_v2 import MAX_RESERVE, ConstantProductPool
from tests.routing.pool_checks import check_out_curve, check_round_trips

A = TokenAddress("0x" + "aa" * 20)
B = TokenAddress("0x" + "bb" * 20)

reserves = st.integers(1_000, 10**30)
fees = st.sampled_from(
    [(3, 1000), (0, 1000), (500, 1_000_000), (1, 10_000), (4699999999999999, 10**18)]
)


@st.composite
def pools(draw: st.DrawFn) -> ConstantProductPool:
    num, den = draw(fees)
    return ConstantProductPool(PoolId("p"), (A, B), (draw(reserves), draw(reserves)), num, den)


def test_known_values_of_the_canonical_formula() -> None:
    pool = ConstantProductPool(PoolId("p"), (A, B), (10**18, 2 * 10**18))
    # 997 * 1e17 * 2e18 / (1e18 * 1000 + 997e17), floored.
    assert pool.amount_out(A, B, 10**17) == (997 * 10**17 * 2 * 10**18) // (10**21 + 997 * 10**17)
    assert pool.amount_in(B, A, 10**17) == (2 * 10**18 * 10**17 * 1000) // (9 * 10**17 * 997) + 1
    assert pool.amount_out(A, B, 0) == 0
    assert pool.spot_price(A, B) == pytest.approx(2 * 0.997)


@given(pools(), st.integers(1, 10**32), st.integers(1, 10**32), st.booleans())
def test_out_curve_is_bounded_monotone_concave(
    pool: ConstantProductPool, x: int, step: int, flip: bool
) -> None:
    t_in, t_out = (B, A) if flip else (A, B)
    reserve_out = pool.reserves[0 if flip else 1]
    check_out_curve(pool, t_in, t_out, x, step, reserve_out - 1)


@given(pools(), st.integers(1, 10**32), st.integers(1, 10**30), st.booleans())
def test_round_trips_favour_the_pool(pool: ConstantProductPool, x: int, y: int, flip: bool) -> None:
    t_in, t_out = (B, A) if flip else (A, B)
    # getAmountIn adds 1 even when the division is exact, so in(out(x)) may be x + 1.
    check_round_trips(pool, t_in, t_out, x, y, in_slack=1)


@example(ConstantProductPool(PoolId("p"), (A, B), (1000, 1000), 0, 1000), 500)  # exact division
@given(pools(), st.integers(1, 10**30))
def test_amount_in_is_the_least_input_that_suffices(pool: ConstantProductPool, y: int) -> None:
    try:
        needed = pool.amount_in(A, B, y)
    except InsufficientLiquidity:
        assert y >= pool.reserves[1] or pool.reserves[0] + 1 > MAX_RESERVE
        return
    assert pool.amount_out(A, B, needed) >= y
    # getAmountIn adds 1 even when the division is exact (a fee-free pool hits that), so
    # the contract's answer is the least sufficient input or one more than it, never less.
    least = needed - 1 if needed > 1 and pool.amount_out(A, B, needed - 1) >= y else needed
    assert least == needed or pool.amount_out(A, B, least - 1) < y or least == 1


def test_errors() -> None:
    pool = ConstantProductPool(PoolId("p"), (A, B), (1000, 1000))
    with pytest.raises(InsufficientLiquidity):
        pool.amount_in(A, B, 1000)
    with pytest.raises(InsufficientLiquidity):
        pool.amount_out(A, B, MAX_RESERVE)
    with pytest.raises(UnknownToken):
        pool.amount_out(A, TokenAddress("0x" + "cc" * 20), 1)
    with pytest.raises(PoolMathError):
        ConstantProductPool(PoolId("p"), (A, B), (1, 1), 1000, 1000)
