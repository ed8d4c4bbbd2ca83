"""Stable pools and limit orders in the convex reference, against the exact pool math.

The reference must be an upper bound of what the pool pays (lower bound of what it charges)
and tight: the pool math only rounds against the trader, by a few base units (plus Balancer
V2's floored Newton coefficient, under ``AMP_PRECISION`` upscaled units per token)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import routing.optimizer  # noqa: F401  (OR-Tools before cvxpy: their HiGHS copies clash)
from bench import convex
from bench.convex import _stable_curve, convex_optimum
from routing.balancer_weighted import WeightedPool, WeightedToken
from routing.graph import PRICE_UNIT, TokenGraph
from routing.limit_order import LimitOrderPool
from routing.pool import InsufficientLiquidity, Pool, PoolId, TokenAddress
from routing.route import OrderKind
from routing.stable import AMP_PRECISION, StablePool, StableToken
from tests.routing.market import E18, A, B, C, pair

TIGHT = 1e-6
"""How much more (relative) the reference may promise than the pool pays: 0.01 bp."""
SOLVER = 1e-7
"""How far below the exact amount the interior-point solver's tolerance may leave the
reference (0.001 bp)."""


def _priced(pools: list[Pool], probe: int, balance_a: int) -> TokenGraph:
    """The pools with reference prices from the first pool's rate for ``probe`` of A (the
    reference sizes its variables by them), ``balance_a`` of A worth 1,000 native tokens."""
    prices = {A: max(1, 10**21 * PRICE_UNIT // balance_a)}
    for token in pools[0].tokens:
        if token != A:
            rate = pools[0].amount_out(A, token, probe) / probe
            prices[token] = max(1, round(prices[A] / rate))
    return TokenGraph(pools, prices)


@pytest.fixture(params=["cones", "cuts"])
def method(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each case is solved by Clarabel's cones and by the tangent-cut fallback."""
    if request.param == "cuts":

        def stalled(*_: Any) -> tuple[None, str]:
            return None, "forced"

        monkeypatch.setattr(convex, "_solve_cones", stalled)
    return str(request.param)


@st.composite
def stable_pools(draw: st.DrawFn) -> StablePool:
    """Two or three tokens of 6 or 18 decimals, some with a rate provider's rate, balances
    from balanced to 1:1000 off, A from 1 to 5000, fee up to 1%."""
    tokens = [A, B, C][: draw(st.integers(2, 3))]
    reserves = []
    for token in tokens:
        decimals = draw(st.sampled_from([6, 18]))
        rate = draw(st.sampled_from([E18, E18, 877_801_947_629_091_774, 1_050_000_000_000_000_000]))
        factor = 10 ** (18 - decimals) * rate
        value = draw(st.integers(10**3, 10**6)) * 10**18  # upscaled: 1,000 to 1e6 units
        reserves.append(StableToken(token, value * E18 // factor, factor))
    amp = draw(st.integers(1, 5000)) * AMP_PRECISION
    fee = draw(st.sampled_from([0, 10**12, 10**14, 5 * 10**14, 10**16]))
    return StablePool(PoolId("s"), tuple(reserves), amp, fee)


def _slack(pool: StablePool, token_in: TokenAddress, token_out: TokenAddress) -> float:
    """Units of ``token_out`` the exact math may pay less than the real-valued curve: two
    base units of the input (the fee rounded up, the upscaled input down), four of the
    output, and Balancer V2's floored Newton coefficient."""
    factor = next(t.scaling_factor for t in pool.reserves if t.address == token_out)
    floor = math.ceil(2 * len(pool.reserves) * AMP_PRECISION * E18 / factor)
    return 2 * pool.spot_price(token_in, token_out) + 4 + floor


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pool=stable_pools(), share=st.floats(1e-7, 3.0))
def test_one_stable_pool_sell(method: str, pool: StablePool, share: float) -> None:
    # orders from 1e-7 to 3 times the balance tendered: from flat to most of the other side
    amount = max(1, int(pool.reserves[0].balance * share))
    try:
        exact = pool.amount_out(A, B, amount)
    except InsufficientLiquidity:
        assume(False)
        return
    assume(exact >= 10**6)
    result = convex_optimum(
        _priced([pool], amount, pool.reserves[0].balance), A, B, amount, OrderKind.SELL
    )
    assert result.value is not None, result.status
    assert result.note == ""
    assert result.pools == {"s"}
    assert result.value >= exact * (1 - SOLVER)
    assert result.value <= exact * (1 + TIGHT) + _slack(pool, A, B)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pool=stable_pools(), share=st.floats(1e-7, 0.95))
def test_one_stable_pool_buy(method: str, pool: StablePool, share: float) -> None:
    # buying 1e-7 to 95% of the balance on the other side
    amount = max(1, int(pool.reserves[1].balance * share))
    try:
        exact = pool.amount_in(A, B, amount)
    except InsufficientLiquidity:
        assume(False)
        return
    assume(exact >= 10**6)
    result = convex_optimum(
        _priced([pool], exact, pool.reserves[0].balance), A, B, amount, OrderKind.BUY
    )
    if result.value is None:
        # only where buying it costs more than the reference lets one piece carry
        assert exact > convex.FLOW_BOUND * amount * 0.5 or "infeasible" in result.status
        assume(False)
        return
    assert result.value <= exact * (1 + SOLVER)
    assert result.value >= exact * (1 - TIGHT) - _slack(pool, B, A)


def _best_split(pools: list[Pool], amount: int) -> int:
    """The best two-way split of a sell between the first two pools (exact math, the output
    is concave in the split, so a ternary search over integers finds it)."""

    def total(x: int) -> int:
        return pools[0].amount_out(A, B, amount - x) + pools[1].amount_out(A, B, x)

    lo, hi = 0, amount
    while hi - lo > 2:
        m1, m2 = lo + (hi - lo) // 3, hi - (hi - lo) // 3
        if total(m1) < total(m2):
            lo = m1
        else:
            hi = m2
    return max(total(x) for x in range(lo, hi + 1))


@pytest.mark.parametrize("amount", [50_000 * E18, 2_000_000 * E18])
def test_stable_pool_joins_a_split(method: str, amount: int) -> None:
    # a DAI/USDC-like pair: a V2 pool 2% cheaper at the margin and a deep stable pool, which
    # takes most of the order once the V2 price has moved
    v2 = pair("v2", A, B, 4 * 10**6 * E18, 41 * 10**5 * E18)
    tokens = (StableToken(A, 3 * 10**6 * E18, E18), StableToken(B, 3 * 10**6 * E18, E18))
    stable = StablePool(PoolId("s"), tokens, 200 * AMP_PRECISION, 10**14)
    pools: list[Pool] = [v2, stable]
    best = _best_split(pools, amount)
    result = convex_optimum(_priced(pools, 10**18, 4 * 10**6 * E18), A, B, amount, OrderKind.SELL)
    assert result.note == ""
    assert result.pools == {"v2", "s"}
    assert result.value is not None
    assert best * (1 - SOLVER) <= result.value <= best * (1 + TIGHT)
    assert result.value > max(v2.amount_out(A, B, amount), stable.amount_out(A, B, amount))


def test_limit_order_is_linear_up_to_its_size(method: str) -> None:
    order = LimitOrderPool(PoolId("lo"), (A, B), taker_amount=10**21, maker_amount=3 * 10**9)
    graph = TokenGraph([order], {A: PRICE_UNIT, B: PRICE_UNIT * 10**21 // (3 * 10**9)})
    part = convex_optimum(graph, A, B, 4 * 10**20, OrderKind.SELL)
    assert part.note == ""
    assert part.value == pytest.approx(4 * 10**20 * 3 * 10**9 / 10**21, rel=SOLVER)
    whole = convex_optimum(graph, A, B, 3 * 10**9, OrderKind.BUY)
    assert whole.value == pytest.approx(10**21, rel=SOLVER)
    beyond = convex_optimum(graph, A, B, 303 * 10**7, OrderKind.BUY)  # 1% more than it has
    assert beyond.value is None


@pytest.mark.parametrize("fee", [0, 10**16])
def test_weighted_sell_up_to_the_in_ratio_after_fee(method: str, fee: int) -> None:
    # GIVEN_IN caps the input after the fee at 30% of its balance and leaves the output
    # uncapped: an 80/20 pool then pays out most of the light side
    tokens = (
        WeightedToken(A, 1000 * E18, 8 * 10**17, E18),
        WeightedToken(B, 1000 * E18, 2 * 10**17, E18),
    )
    pool = WeightedPool(PoolId("w"), tokens, fee)
    amount = int(300 * E18 * E18 / (E18 - fee)) * 999 // 1000
    exact = pool.amount_out(A, B, amount)
    assert exact > 300 * E18  # beyond 30% of the output balance
    result = convex_optimum(_priced([pool], E18, 1000 * E18), A, B, amount, OrderKind.SELL)
    assert result.value is not None
    assert exact * (1 - SOLVER) <= result.value <= exact * (1 + TIGHT) + 10


@settings(max_examples=200, deadline=None)
@given(
    c_u=st.floats(1e-4, 1e5),
    c_v=st.floats(1e-4, 1e5),
    log_u=st.floats(-12, 12),
)
def test_stable_curve_from_dust_to_draining_the_pool(c_u: float, c_v: float, log_u: float) -> None:
    # the tangent-cut fallback samples the curve up to 100 order values past the pool's size
    u = np.array([10**log_u])
    w, slope = _stable_curve(u, np.array([c_u]), np.array([c_v]))
    assert 0 <= w[0] <= 1
    assert math.isfinite(slope[0]) and slope[0] >= 0
    shrink = 1 - w[0]
    if shrink > 1e-6:  # away from a drained pool, the point is on the invariant
        lhs = (1 + u[0]) * shrink * (1 + c_u * u[0] - c_v * w[0])
        assert lhs == pytest.approx(1, rel=1e-6)
    # and below its tangent at zero (concave)
    assert w[0] <= (1 + c_u) / (1 + c_v) * u[0] * (1 + 1e-12)


def test_a_pool_too_shallow_for_the_whole_order_still_takes_a_slice(method: str) -> None:
    # q refuses the whole order (Balancer's 30% in-ratio) so no path through it ranks at
    # the order's size; a slice through it still beats the deep pool's price
    deep = pair("p", A, B, 10**6 * E18, 10**6 * E18)
    tokens = (
        WeightedToken(A, 100 * E18, 5 * 10**17, E18),
        WeightedToken(C, 200 * E18, 5 * 10**17, E18),
    )
    shallow = WeightedPool(PoolId("q"), tokens, 10**15)
    onward = pair("r", C, B, 10**6 * E18, 10**6 * E18)
    graph = TokenGraph([deep, shallow, onward], {A: E18, B: E18, C: E18})
    amount = 1000 * E18
    slice_ = 25 * E18
    split = deep.amount_out(A, B, amount - slice_) + onward.amount_out(
        C, B, shallow.amount_out(A, C, slice_)
    )
    assert split > deep.amount_out(A, B, amount)
    result = convex_optimum(graph, A, B, amount, OrderKind.SELL)
    assert result.value is not None
    assert result.value >= split * (1 - SOLVER)
    assert "q" in result.pools
