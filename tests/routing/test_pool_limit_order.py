from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routing.limit_order import LimitOrderPool
from routing.pool import InsufficientLiquidity, PoolId, TokenAddress, UnknownToken
from tests.routing.pool_checks import check_out_curve, check_round_trips

TAKER = TokenAddress("0x" + "aa" * 20)
MAKER = TokenAddress("0x" + "bb" * 20)

orders = st.builds(
    lambda t, m: LimitOrderPool(PoolId("o"), (TAKER, MAKER), t, m),
    st.integers(1, 10**30),
    st.integers(1, 10**30),
)


@given(orders, st.integers(1, 10**30), st.integers(1, 10**30))
def test_fixed_price_curve_is_bounded_and_monotone(
    order: LimitOrderPool, x: int, step: int
) -> None:
    check_out_curve(order, TAKER, MAKER, x, step, order.maker_amount)


@given(orders, st.integers(1, 10**30), st.integers(1, 10**30))
def test_round_trips_and_least_input(order: LimitOrderPool, x: int, y: int) -> None:
    check_round_trips(order, TAKER, MAKER, x, y)
    if y <= order.maker_amount:
        needed = order.amount_in(TAKER, MAKER, y)
        assert order.amount_out(TAKER, MAKER, needed) >= y
        assert needed == 0 or order.amount_out(TAKER, MAKER, needed - 1) < y


def test_one_way_and_capped() -> None:
    order = LimitOrderPool(PoolId("o"), (TAKER, MAKER), taker_amount=3, maker_amount=2)
    assert order.amount_out(TAKER, MAKER, 3) == 2
    assert order.amount_out(TAKER, MAKER, 2) == 1  # floor(2 * 2 / 3)
    assert order.amount_in(TAKER, MAKER, 1) == 2  # ceil(1 * 3 / 2)
    assert order.spot_price(TAKER, MAKER) == pytest.approx(2 / 3)
    with pytest.raises(InsufficientLiquidity):
        order.amount_out(TAKER, MAKER, 4)
    with pytest.raises(InsufficientLiquidity):
        order.amount_in(TAKER, MAKER, 3)
    with pytest.raises(UnknownToken):
        order.amount_out(MAKER, TAKER, 1)
    with pytest.raises(UnknownToken):
        order.spot_price(MAKER, TAKER)
