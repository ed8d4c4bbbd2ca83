"""The convex reference on tiny markets whose optimum is known in closed form."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import routing.optimizer  # noqa: F401  (OR-Tools before cvxpy: their HiGHS copies clash)
from bench import convex
from bench.convex import convex_optimum
from routing.graph import TokenGraph
from routing.pool import PoolId
from routing.route import OrderKind
from routing.tick_math import sqrt_ratio_at_tick
from routing.uniswap_v2 import ConstantProductPool
from routing.uniswap_v3 import ConcentratedLiquidityPool
from tests.routing.market import E18, A, B, C, pair

G = 0.997  # the V2 fee 3/1000
RELATIVE = 1e-6  # 0.01 bp, a hundredth of the acceptance tolerance


def _out(reserves: tuple[int, int], x: float) -> float:
    """getAmountOut without rounding."""
    r_in, r_out = map(float, reserves)
    return r_out * G * x / (r_in + G * x)


def _in(reserves: tuple[int, int], y: float) -> float:
    """getAmountIn without rounding."""
    r_in, r_out = map(float, reserves)
    return r_in * y / (G * (r_out - y))


def market(*pools: ConstantProductPool) -> TokenGraph:
    """The pools, with reference prices (which set the solver's units) the first one's."""
    r0, r1 = pools[0].reserves
    return TokenGraph(pools, {A: r1, B: r0})


@pytest.fixture(params=["cones", "cuts"])
def method(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each case is solved by Clarabel's cones and by the tangent-cut fallback."""
    if request.param == "cuts":

        def stalled(*_: Any) -> tuple[None, str]:
            return None, "forced"

        monkeypatch.setattr(convex, "_solve_cones", stalled)
    return str(request.param)


@settings(max_examples=8, deadline=None)
@given(
    r0=st.integers(10**3, 10**9),
    r1=st.integers(10**3, 10**9),
    share=st.floats(1e-4, 2.0),
)
def test_one_pool_sell_is_get_amount_out(r0: int, r1: int, share: float) -> None:
    # reserves from 1e21 to 1e27 base units, orders from 1e-4 to 2 times the input reserve
    reserves = (r0 * E18, r1 * E18)
    amount = int(reserves[0] * share)
    result = convex_optimum(market(pair("p", A, B, *reserves)), A, B, amount, OrderKind.SELL)
    assert result.status == "optimal"
    assert result.value == pytest.approx(_out(reserves, amount), rel=RELATIVE)


@pytest.mark.parametrize("amount", [37 * E18, 10**6])
def test_one_pool_sell(method: str, amount: int) -> None:
    # 10**6 base units is 1e-15 of the reserve: the curve must not cancel to nothing there
    reserves = (1000 * E18, 3_000_000 * 10**6)
    result = convex_optimum(market(pair("p", A, B, *reserves)), A, B, amount, OrderKind.SELL)
    assert result.status == ("optimal" if method == "cones" else "outer bound (forced)")
    assert result.value == pytest.approx(_out(reserves, amount), rel=RELATIVE)
    assert result.pools == {"p"}


def test_one_pool_buy_is_get_amount_in(method: str) -> None:
    reserves = (5 * 10**6 * 10**6, 2000 * E18)
    amount = 150 * E18
    result = convex_optimum(market(pair("p", A, B, *reserves)), A, B, amount, OrderKind.BUY)
    assert result.value == pytest.approx(_in(reserves, amount), rel=RELATIVE)


def test_two_identical_pools_split_evenly(method: str) -> None:
    reserves = (800 * E18, 1_600_000 * E18)
    amount = 120 * E18
    pools = [pair("p", A, B, *reserves), pair("q", A, B, *reserves)]
    result = convex_optimum(market(*pools), A, B, amount, OrderKind.SELL)
    even = 2 * _out(reserves, amount / 2)
    assert result.value == pytest.approx(even, rel=RELATIVE)
    assert result.value is not None
    assert result.value > _out(reserves, amount)  # splitting pays
    assert result.pools == {"p", "q"}


def test_no_path() -> None:
    result = convex_optimum(market(pair("p", A, B, E18, E18)), B, B, E18, OrderKind.SELL)
    assert result.value is None


@pytest.mark.parametrize("kind", [OrderKind.SELL, OrderKind.BUY])
def test_unpriced_intermediate_token_is_sized_by_its_pools(method: str, kind: OrderKind) -> None:
    # X has no reference price and 10**12 base units per unit of A: sizing its pieces by
    # the order's amount of A would hold its flow to 1e-10 of what the path carries
    x = C
    pools = [pair("p", A, x, 1000 * E18, 10**15 * E18), pair("q", x, B, 10**15 * E18, 1000 * E18)]
    graph = TokenGraph(pools, {A: E18, B: E18})
    graph.prices.pop(x, None)  # as for a token the graph cannot price
    amount = 5 * E18
    if kind is OrderKind.SELL:
        exact = float(pools[1].amount_out(x, B, pools[0].amount_out(A, x, amount)))
    else:
        exact = float(pools[0].amount_in(A, x, pools[1].amount_in(x, B, amount)))
    result = convex_optimum(graph, A, B, amount, kind)
    assert result.value == pytest.approx(exact, rel=RELATIVE)
    assert result.pools == {"p", "q"}


def test_a_cone_answer_beyond_its_curves_falls_back_to_cuts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Clarabel's tolerances hold in shares of each pool's reserves; on a deep pool a
    # violation within them can be a large share of the order (order 519 of the shared
    # auction: +23% through one V3 range). Such an answer must not be taken as optimal.
    solve = convex._solve_cones

    def loose(pieces: Any, d: Any, lam: Any, network: Any, objective: Any) -> Any:
        value, status = solve(pieces, d, lam, network, objective)
        assert value is not None
        lam.value = lam.value * (1 + 1e-4)  # as if the solver stopped just outside
        return value * (1 + 1e-4), status

    monkeypatch.setattr(convex, "_solve_cones", loose)
    reserves = (1000 * E18, 3_000_000 * 10**6)
    amount = 37 * E18
    result = convex_optimum(market(pair("p", A, B, *reserves)), A, B, amount, OrderKind.SELL)
    assert result.status.startswith("outer bound (cones overdraw the curves by 1.0e-04")
    assert result.value == pytest.approx(_out(reserves, amount), rel=RELATIVE)


def _v3(liquidity: int, tick: int, net: dict[int, int]) -> ConcentratedLiquidityPool:
    return ConcentratedLiquidityPool(
        PoolId("v3"), (A, B), sqrt_ratio_at_tick(tick), liquidity, tick, net, 3000
    )


def test_v3_cover_grows_when_the_optimum_drains_the_last_range(
    method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 20 stacked ranges below the price; with a cover of 0.05 order values the first model
    # holds a sliver of what the order walks through, and every range it drains adds more
    liquidity = 10**24
    positions = {-60 * k: liquidity // 20 for k in range(1, 21)}
    positions[60] = -liquidity
    pool = _v3(liquidity, 0, positions)
    monkeypatch.setattr(convex, "RANGE_COVER", 0.05)
    amount = 2 * 10**22  # walks through most of the ranges
    exact = pool.amount_out(A, B, amount)
    held = sum(
        liquidity * (20 - k) / 20 * (1.0001 ** (-30 * k) - 1.0001 ** (-30 * (k + 1)))
        for k in range(20)
    )
    assert exact > 0.6 * held  # most of what they hold
    result = convex_optimum(TokenGraph([pool], {A: E18, B: E18}), A, B, amount, OrderKind.SELL)
    assert result.note == ""
    assert result.value is not None
    assert exact * (1 - 1e-7) <= result.value <= exact * (1 + RELATIVE)


def test_v3_liquidity_past_the_last_initialized_tick(method: str) -> None:
    # a snapshot that lists no tick below the price: the pool math trades on with the
    # current liquidity down to MIN_TICK, so the reference must too
    liquidity = 10**22
    pool = _v3(liquidity, 3000, {6000: -liquidity})
    amount = 5 * 10**19
    exact = pool.amount_out(A, B, amount)
    prices = {A: E18, B: round(E18 / 1.0001**3000)}
    result = convex_optimum(TokenGraph([pool], prices), A, B, amount, OrderKind.SELL)
    assert result.value is not None, result.status
    assert exact * (1 - 1e-7) <= result.value <= exact * (1 + RELATIVE)
