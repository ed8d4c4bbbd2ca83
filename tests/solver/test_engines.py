"""The per-order engines on small exact markets: limit prices hold after fees, executed
amounts are exactly what the pools pay, partial fills are maximal, fill-or-kill holds."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intents.order import OrderClass, OrderKind
from routing.baseline import baseline_route
from routing.uniswap_v2 import ConstantProductPool
from solver.engines import Engine, UnknownEngine, make_engine, solve_all
from solver.engines.base import Deadline, token_graph
from solver.engines.single_order import OrderFiller, RouteFn
from solver.model import (
    SETTLEMENT_OVERHEAD_GAS,
    Auction,
    FlashloanHint,
    Order,
    Solution,
    Wrapper,
    executed_amounts,
    gas_fee,
    limit_respected,
    now,
)
from tests.solver.engine_fixtures import (
    GAS_PRICE,
    PRICES,
    A,
    B,
    C,
    auction,
    order,
    pool,
    replay,
)

E18 = 10**18
POOLS = [
    pool("ab", A, B, 1000 * E18, 2000 * E18),
    pool("ac", A, C, 1000 * E18, 500 * E18),
    pool("bc", B, C, 4000 * E18, 1000 * E18),
]

ENGINES = ["baseline", "optimal"]


def _solve(
    engine: str, *orders: Order, pools: Sequence[ConstantProductPool] = POOLS
) -> list[Solution]:
    return make_engine(engine).solve(auction(orders, pools))


def _check(solution: Solution, o: Order, pools: Sequence[ConstantProductPool]) -> tuple[int, int]:
    """The invariants every fill must satisfy; returns (sold incl. fees, bought)."""
    (trade,) = solution.trades
    assert trade.order == o.uid
    replay(solution.legs, pools)
    sold, bought = executed_amounts(o, trade, solution.prices)
    assert limit_respected(o, sold, bought)
    into = sum(leg.amount_in for leg in solution.legs if leg.token_in == o.sell_token)
    out = sum(leg.amount_out for leg in solution.legs if leg.token_out == o.buy_token)
    # the contract takes in what the route spends (plus the fee) and pays out no more
    # than the route produced
    assert sold == into + trade.fee
    assert bought <= out
    if o.kind is OrderKind.SELL:
        assert bought == out
        assert trade.executed + trade.fee <= o.remaining
    else:
        assert trade.executed == bought <= o.remaining
    return sold, bought


@pytest.mark.parametrize("engine", ENGINES)
def test_sell_order_filled_with_exact_amounts(engine: str) -> None:
    o = order(A, B, 10 * E18, 19 * E18)
    (solution,) = _solve(engine, o)
    sold, bought = _check(solution, o, POOLS)
    assert sold == 10 * E18 and solution.trades[0].fee == 0
    direct = POOLS[0].amount_out(A, B, 10 * E18)
    if engine == "baseline":
        assert bought == direct
    else:  # splitting over A-B and A-C-B beats the direct pool
        assert bought > direct
    assert solution.prices == {A: bought, B: 10 * E18}
    pools_used = {leg.pool for leg in solution.legs}
    assert solution.gas == SETTLEMENT_OVERHEAD_GAS + 90_000 * len(pools_used)


@pytest.mark.parametrize("engine", ENGINES)
def test_out_of_the_money_order_is_not_filled(engine: str) -> None:
    assert _solve(engine, order(A, B, 10 * E18, 20 * E18)) == []


@pytest.mark.parametrize("engine", ENGINES)
def test_buy_order_receives_exactly_its_amount(engine: str) -> None:
    o = order(A, B, 6 * E18, 10 * E18, OrderKind.BUY)
    (solution,) = _solve(engine, o)
    sold, bought = _check(solution, o, POOLS)
    assert bought == 10 * E18
    direct = POOLS[0].amount_in(A, B, 10 * E18)
    assert sold == direct if engine == "baseline" else sold < direct


@pytest.mark.parametrize("engine", ENGINES)
def test_limit_order_pays_the_gas_of_its_trade_in_the_sell_token(engine: str) -> None:
    o = order(A, B, 10 * E18, 19 * E18, order_class=OrderClass.LIMIT)
    (solution,) = _solve(engine, o)
    _check(solution, o, POOLS)
    trade = solution.trades[0]
    assert trade.fee == gas_fee(solution.gas, GAS_PRICE, PRICES[A])
    assert trade.fee > 0
    assert trade.executed + trade.fee == o.remaining


def test_fee_can_make_an_order_unfillable() -> None:
    # in the money before the fee, not after it: 0.01 A at a limit just under the pool rate
    rate = POOLS[0].amount_out(A, B, 10**16)
    limit = order(A, B, 10**16, rate, order_class=OrderClass.LIMIT)
    assert _solve("baseline", limit) == []
    # without the fee (gas price 0) the same order fills
    free = dataclasses.replace(auction([limit], POOLS), gas_price=0)
    assert len(make_engine("baseline").solve(free)) == 1


def _largest_fill(o: Order, fee: int, feasible: int) -> int:
    """Independent oracle: the largest total sell amount (fee included) the A-B pool alone
    fills at the order's limit price, by exact bisection to the unit from a feasible one."""

    def ok(total: int) -> bool:
        out = POOLS[0].amount_out(A, B, total - fee)
        return total * o.signed_buy_amount <= out * o.signed_sell_amount

    lo, hi = feasible, o.remaining + 1
    assert ok(lo) and not ok(hi - 1)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return lo


@pytest.mark.parametrize("order_class", [OrderClass.MARKET, OrderClass.LIMIT])
def test_partial_fill_is_maximal(order_class: OrderClass) -> None:
    # 500 A at 1.8 B each: the A-B pool holds that rate only up to ~107 A
    pools = POOLS[:1]
    o = order(A, B, 500 * E18, 900 * E18, partial=True, order_class=order_class)
    (solution,) = _solve("baseline", o, pools=pools)
    _check(solution, o, pools)
    trade = solution.trades[0]
    total = trade.executed + trade.fee
    largest = _largest_fill(o, trade.fee, total)
    # the most surplus, not the largest fill: marginal rate 0.997*R_a*R_b/(R_a+0.997x)^2
    # equals the limit 1.8 at x = (sqrt(0.997*1000*2000/1.8) - 1000)/0.997 ~ 52.67 A
    best = ((0.997 * 1000 * 2000 / 1.8) ** 0.5 - 1000) / 0.997 * E18 + trade.fee
    assert total < largest
    assert abs(total - best) <= best / 10**3


def test_fill_or_kill_is_not_partially_filled() -> None:
    assert _solve("baseline", order(A, B, 500 * E18, 900 * E18), pools=POOLS[:1]) == []


def test_partially_filled_buy_order() -> None:
    pools = POOLS[:1]
    o = order(A, B, 600 * E18, 1000 * E18, OrderKind.BUY, partial=True)
    (solution,) = _solve("baseline", o, pools=pools)
    _, bought = _check(solution, o, pools)
    assert 0 < bought < 1000 * E18
    # the most surplus: the pool's marginal price 1000*2000/(0.997*(2000-y)^2) A per B
    # meets the limit 0.6 at y = 2000 - sqrt(1000*2000/(0.997*0.6))
    best = (2000 - (1000 * 2000 / (0.997 * 0.6)) ** 0.5) * E18
    assert abs(bought - best) <= best / 10**3


def test_optimal_splits_where_the_baseline_cannot() -> None:
    twins = [pool("ab1", A, B, 100 * E18, 200 * E18), pool("ab2", A, B, 100 * E18, 200 * E18)]
    o = order(A, B, 50 * E18, 60 * E18)
    (base,) = _solve("baseline", o, pools=twins)
    (best,) = _solve("optimal", o, pools=twins)
    _, base_out = _check(base, o, twins)
    _, best_out = _check(best, o, twins)
    assert len({leg.pool for leg in best.legs}) == 2
    assert best_out > base_out


def test_remaining_amount_is_what_gets_filled() -> None:
    o = order(A, B, 10 * E18, 19 * E18, partial=True, remaining=4 * E18)
    (solution,) = _solve("baseline", o)
    _check(solution, o, POOLS)
    assert solution.trades[0].executed == 4 * E18


@pytest.mark.parametrize("engine", ENGINES)
def test_deadline_respected(engine: str) -> None:
    orders = [order(A, B, 10 * E18, 19 * E18, tag=str(i)) for i in range(50)]
    late = auction(orders, POOLS, deadline=now() - timedelta(seconds=1))
    started = time.perf_counter()
    assert make_engine(engine).solve(late) == []
    assert time.perf_counter() - started < 1.0
    assert len(make_engine(engine).solve(auction(orders[:2], POOLS))) == 2


def test_unknown_engine() -> None:
    with pytest.raises(UnknownEngine):
        make_engine("magic")


_amount = st.integers(min_value=10**12, max_value=10**24)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    reserve_a=_amount,
    reserve_b=_amount,
    sell=_amount,
    buy=_amount,
    kind=st.sampled_from(OrderKind),
    partial=st.booleans(),
    order_class=st.sampled_from(OrderClass),
)
def test_any_fill_respects_limit_and_pools(
    reserve_a: int,
    reserve_b: int,
    sell: int,
    buy: int,
    kind: OrderKind,
    partial: bool,
    order_class: OrderClass,
) -> None:
    pools = [pool("ab", A, B, reserve_a, reserve_b)]
    o = order(A, B, sell, buy, kind, partial=partial, order_class=order_class)
    engine: Engine = make_engine("baseline")
    for solution in engine.solve(auction([o], pools)):
        _check(solution, o, pools)
        if not partial:
            assert (
                solution.trades[0].executed
                + (solution.trades[0].fee if kind is OrderKind.SELL else 0)
                == o.remaining
            )


class _Broken:
    name = "broken"

    def solve(self, auction: Auction) -> list[Solution]:
        raise RuntimeError("bug")


class _Recording:
    """Solves with the baseline and records the deadline it was given."""

    name = "recording"

    def __init__(self) -> None:
        self.deadlines: list[datetime] = []

    def solve(self, auction: Auction) -> list[Solution]:
        self.deadlines.append(auction.deadline)
        return make_engine("baseline").solve(auction)


def test_solve_all_isolates_a_failing_engine_and_shares_the_time() -> None:
    o = order(A, B, 10 * E18, 19 * E18)
    deadline = now() + timedelta(seconds=30)
    first, second = _Recording(), _Recording()
    solutions = solve_all([first, _Broken(), second], auction([o], POOLS, deadline))
    assert [s.id for s in solutions] == [0, 1]
    assert all(s.trades[0].order == o.uid for s in solutions)
    # the first of three engines gets about a third of the time, the last whatever is left
    assert first.deadlines[0] - now() < timedelta(seconds=11)
    assert second.deadlines[0] == deadline


def test_orders_needing_a_flash_loan_are_left_alone() -> None:
    o = order(A, B, 10 * E18, 19 * E18)
    hint = FlashloanHint(
        liquidity_provider=o.owner, protocol_adapter=o.owner, receiver=o.owner, token=A, amount=1
    )
    assert _solve("baseline", dataclasses.replace(o, flashloan_hint=hint)) == []
    wrapper = Wrapper(o.owner, b"")
    assert _solve("baseline", dataclasses.replace(o, wrappers=(wrapper,))) == []
    assert len(_solve("baseline", o)) == 1


def test_optimal_partial_fill_goes_further_with_splits() -> None:
    twins = [pool("ab1", A, B, 100 * E18, 200 * E18), pool("ab2", A, B, 100 * E18, 200 * E18)]
    o = order(A, B, 500 * E18, 900 * E18, partial=True)
    (base,) = _solve("baseline", o, pools=twins)
    (best,) = _solve("optimal", o, pools=twins)
    _check(base, o, twins)
    _check(best, o, twins)
    # the most surplus at a marginal rate of 1.8 B per A: ~5.27 A through one pool,
    # ~10.5 A split over both
    assert 5 * E18 < base.trades[0].executed < 5.5 * E18
    assert best.trades[0].executed > 10 * E18


def test_the_most_valuable_net_of_gas_are_tried_first_and_dust_is_screened_out() -> None:
    small_market = order(A, B, 3 * E18, E18, tag="m")
    big_limit = order(A, B, 100 * E18, E18, order_class=OrderClass.LIMIT, tag="l")
    small_limit = order(A, B, E18, E18, order_class=OrderClass.LIMIT, tag="s")
    dust_market = order(A, B, 10**15, 10**15, tag="d")  # ~5e14 wei of surplus, ~4e15 of gas
    a = auction([small_limit, dust_market, big_limit, small_market], POOLS)
    filler = OrderFiller(a, token_graph(a), make_engine_route(a), Deadline(a))
    screened = filler.candidates()
    assert screened.candidates == 4
    assert list(screened.ranked) == [big_limit, small_market, small_limit]


def make_engine_route(a: Auction) -> RouteFn:
    graph = token_graph(a)
    return lambda sell, buy, amount, kind: baseline_route(graph, sell, buy, amount, kind)
