"""Solution checks: each rejection code from a crafted bad solution, good solutions pass."""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intents.order import OrderClass, OrderKind
from intents.types import Address, OrderUid
from routing.balancer_weighted import WeightedPool, WeightedToken
from routing.pool import PoolId, TokenAddress
from routing.route import Leg
from routing.uniswap_v2 import ConstantProductPool
from solver import dto
from solver.checks import Rejection, SolutionRejected, check_solution, verify_solution
from solver.dto_convert import auction_from_dto
from solver.model import MAX_SETTLEMENT_GAS, Auction, Order, Solution, Trade
from tests.solver.engine_fixtures import model_auction, model_order
from tests.solver.test_dto import UID, _auction, _order
from tests.solver.test_dto import A as DTO_A
from tests.solver.test_dto import B as DTO_B

A = TokenAddress("0x" + "aa" * 20)
B = TokenAddress("0x" + "bb" * 20)
C = TokenAddress("0x" + "cc" * 20)
E18 = 10**18
POOL = ConstantProductPool(id=PoolId("pool-ac"), tokens=(A, C), reserves=(10**6, 10**6))
WEIGHTED = WeightedPool(
    id=PoolId("weighted-ab"),
    reserves=(WeightedToken(A, 10**24, E18 // 2, E18), WeightedToken(B, 10**24, E18 // 2, E18)),
    fee=3 * 10**15,
)


def uid(n: int) -> OrderUid:
    return OrderUid(bytes([n]) * 56)


def order(
    n: int,
    sell: TokenAddress = A,
    buy: TokenAddress = B,
    sell_amount: int = 1000,
    buy_amount: int = 900,
    *,
    kind: OrderKind = OrderKind.SELL,
    partial: bool = False,
    order_class: OrderClass = OrderClass.MARKET,
    remaining: int | None = None,
    fee_amount: int = 0,
) -> Order:
    return model_order(
        uid(n),
        Address("0x" + f"{n:02x}" * 20),
        sell,
        buy,
        sell_amount,
        buy_amount,
        kind,
        partial=partial,
        order_class=order_class,
        remaining=remaining,
        fee_amount=fee_amount,
    )


def auction(*orders: Order, prices: dict[TokenAddress, int] | None = None) -> Auction:
    refs = prices or {A: E18, B: 2 * E18, C: E18}
    return model_auction(orders, (POOL, WEIGHTED), refs, 10**9, datetime(2030, 1, 1, tzinfo=UTC))


def solution(
    prices: dict[TokenAddress, int], *trades: Trade, legs: tuple[Leg, ...] = ()
) -> Solution:
    return Solution(id=7, prices=prices, trades=trades, legs=legs, gas=200_000)


# A coincidence of wants: 1000 A for >= 900 B against 1000 B for >= 900 A, at 1:1.
COW = auction(order(1), order(2, B, A))
COW_SOLUTION = solution({A: 1, B: 1}, Trade(uid(1), 1000), Trade(uid(2), 1000))

# One order through the A/C pool: the pool's exact output is what the user gets.
AMM_OUT = POOL.amount_out(A, C, 1000)
AMM = auction(order(3, A, C, 1000, 900))
AMM_LEG = Leg(POOL.id, A, C, 1000, AMM_OUT)
AMM_SOLUTION = solution({A: AMM_OUT, C: 1000}, Trade(uid(3), 1000), legs=(AMM_LEG,))


def rejected(auction_: Auction, solution_: Solution) -> Rejection:
    with pytest.raises(SolutionRejected) as info:
        check_solution(auction_, solution_, solver="test")
    assert str(info.value)  # a sentence comes with every code
    return info.value.code


def test_good_solutions_pass() -> None:
    checked = check_solution(COW, COW_SOLUTION, solver="test")
    assert [(t.sold, t.bought) for t in checked] == [(1000, 1000), (1000, 1000)]
    checked = check_solution(AMM, AMM_SOLUTION, solver="test")
    assert [(t.sold, t.bought) for t in checked] == [(1000, AMM_OUT)]


def test_a_settlement_over_the_gas_limit_is_rejected() -> None:
    at_limit = dataclasses.replace(AMM_SOLUTION, gas=MAX_SETTLEMENT_GAS)
    check_solution(AMM, at_limit, solver="test")
    over = dataclasses.replace(AMM_SOLUTION, gas=MAX_SETTLEMENT_GAS + 1)
    assert rejected(AMM, over) is Rejection.GAS_LIMIT_EXCEEDED
    with pytest.raises(SolutionRejected):
        check_solution(AMM, AMM_SOLUTION, solver="test", gas_limit=AMM_SOLUTION.gas - 1)


def test_empty_solution() -> None:
    assert rejected(COW, solution({A: 1, B: 1})) is Rejection.EMPTY_SOLUTION


def test_non_positive_price() -> None:
    bad = dataclasses.replace(COW_SOLUTION, prices={A: 1, B: 0})
    assert rejected(COW, bad) is Rejection.INVALID_CLEARING_PRICE


def test_two_prices_for_one_token_are_not_uniform() -> None:
    shouty = TokenAddress(A.upper().replace("0X", "0x"))
    bad = dataclasses.replace(COW_SOLUTION, prices={A: 1, B: 1, shouty: 2})
    assert rejected(COW, bad) is Rejection.NON_UNIFORM_PRICES
    same = dataclasses.replace(COW_SOLUTION, prices={A: 1, B: 1, shouty: 1})
    assert len(check_solution(COW, same, solver="test")) == 2


def test_price_for_a_non_address() -> None:
    bad = dataclasses.replace(COW_SOLUTION, prices={A: 1, B: 1, TokenAddress("0x12"): 1})
    assert rejected(COW, bad) is Rejection.INVALID_CLEARING_PRICE


def test_missing_price() -> None:
    bad = dataclasses.replace(COW_SOLUTION, prices={A: 1})
    assert rejected(COW, bad) is Rejection.MISSING_PRICE


def test_unknown_order() -> None:
    bad = solution({A: 1, B: 1}, Trade(uid(1), 1000), Trade(uid(9), 1000))
    assert rejected(COW, bad) is Rejection.UNKNOWN_ORDER


def test_order_not_open() -> None:
    done = auction(order(1, partial=True, remaining=0))
    assert rejected(done, solution({A: 1, B: 1}, Trade(uid(1), 1))) is Rejection.ORDER_NOT_OPEN


def test_expired_order_is_not_open() -> None:
    doc = _auction(orders=[_order(validTo=1_000)], liquidity=[])
    book = auction_from_dto(dto.decode_auction(json.dumps(doc).encode()))
    trade = Trade(OrderUid(bytes.fromhex(UID[2:])), 1000)
    sol = solution({TokenAddress(DTO_A): 1, TokenAddress(DTO_B): 1}, trade)
    with pytest.raises(SolutionRejected) as info:
        check_solution(book, sol, solver="t", now=1_001)
    assert info.value.code is Rejection.ORDER_NOT_OPEN and "expired" in str(info.value)
    with pytest.raises(SolutionRejected) as info:  # valid at its last second
        check_solution(book, sol, solver="t", now=1_000)
    assert info.value.code is Rejection.TOKEN_DEFICIT  # nobody brings the B it gets


def test_duplicate_trade() -> None:
    book = auction(order(1, partial=True))
    bad = solution({A: 1, B: 1}, Trade(uid(1), 400), Trade(uid(1), 400))
    assert rejected(book, bad) is Rejection.DUPLICATE_TRADE


def test_zero_execution() -> None:
    book = auction(order(1, partial=True))
    assert rejected(book, solution({A: 1, B: 1}, Trade(uid(1), 0))) is (
        Rejection.INVALID_EXECUTED_AMOUNT
    )


def test_solver_fee_only_on_limit_orders() -> None:
    bad = solution({A: 1, B: 1}, Trade(uid(1), 990, fee=10), Trade(uid(2), 1000))
    assert rejected(COW, bad) is Rejection.INVALID_FEE


def test_overfill() -> None:
    book = auction(order(1, partial=True, remaining=600))
    assert rejected(book, solution({A: 1, B: 1}, Trade(uid(1), 601))) is Rejection.OVERFILL
    # a sell order's solver fee comes out of what is left, as in CoW
    limit = auction(order(1, partial=True, remaining=600, order_class=OrderClass.LIMIT))
    bad = solution({A: 1, B: 1}, Trade(uid(1), 595, fee=6))
    assert rejected(limit, bad) is Rejection.OVERFILL


def test_fill_or_kill_must_fill_exactly() -> None:
    bad = solution({A: 1, B: 1}, Trade(uid(1), 999), Trade(uid(2), 1000))
    assert rejected(COW, bad) is Rejection.PARTIAL_FILL_NOT_ALLOWED


@given(
    kind=st.sampled_from(list(OrderKind)),
    order_class=st.sampled_from(list(OrderClass)),
    left=st.integers(min_value=1, max_value=10**30),
    signed_fee=st.integers(min_value=0, max_value=10**28),
    executed=st.integers(min_value=1, max_value=2 * 10**30),
    solver_fee=st.integers(min_value=0, max_value=10**28),
)
def test_fill_or_kill_rejected_unless_all_that_is_left(
    kind: OrderKind,
    order_class: OrderClass,
    left: int,
    signed_fee: int,
    executed: int,
    solver_fee: int,
) -> None:
    # CoW's rule: a fill-or-kill sell order's executed + fee is what is left, a buy order's
    # executed is; a signed fee is outside it
    fee = solver_fee if order_class is OrderClass.LIMIT else 0
    fok = order(1, sell_amount=left, buy_amount=left, kind=kind, order_class=order_class)
    fok = dataclasses.replace(
        fok, signed_fee_amount=signed_fee if order_class is OrderClass.MARKET else 0
    )
    trade = Trade(uid(1), executed, fee)
    used = executed + (fee if kind is OrderKind.SELL else 0)
    try:
        check_solution(auction(fok), solution({A: 1, B: 1}, trade), solver="test")
        code = None
    except SolutionRejected as error:
        code = error.code
    if used < left:
        assert code is Rejection.PARTIAL_FILL_NOT_ALLOWED
    elif used > left:
        assert code is Rejection.OVERFILL
    else:
        assert code not in (Rejection.PARTIAL_FILL_NOT_ALLOWED, Rejection.OVERFILL)


def test_limit_price_at_uniform_prices() -> None:
    # 1000 A at A:1, B:2 buys 500 B: below the 900 B limit (the contract's own check)
    bad = dataclasses.replace(COW_SOLUTION, prices={A: 1, B: 2})
    assert rejected(COW, bad) is Rejection.LIMIT_PRICE_VIOLATED


def test_limit_price_with_solver_fee() -> None:
    # at 1:1 the prices respect the limit, but a fee of 150 leaves 850 B for 1000 A
    book = auction(order(1, order_class=OrderClass.LIMIT), order(2, B, A))
    fine = solution({A: 1, B: 1}, Trade(uid(1), 950, fee=50), Trade(uid(2), 1000))
    assert len(check_solution(book, fine, solver="test")) == 2
    bad = solution({A: 1, B: 1}, Trade(uid(1), 850, fee=150), Trade(uid(2), 1000))
    assert rejected(book, bad) is Rejection.LIMIT_PRICE_VIOLATED


def test_limit_price_uses_gpv2_rounding() -> None:
    # buy 3 B for at most 2 A at A:3, B:2 pays floor(3 * 2 / 3) = 2 A: exactly the limit;
    # the B seller executing 3 B gets ceil(3 * 2 / 3) = 2 A; both tokens balance.
    book = auction(order(1, A, B, 2, 3, kind=OrderKind.BUY), order(2, B, A, 3, 1, partial=True))
    ok = solution({A: 3, B: 2}, Trade(uid(1), 3), Trade(uid(2), 3))
    assert [(t.sold, t.bought) for t in check_solution(book, ok, solver="t")] == [(2, 3), (3, 2)]


def test_price_products_must_fit_uint256() -> None:
    huge = dataclasses.replace(COW_SOLUTION, prices={A: 2**250, B: 2**250})
    assert rejected(COW, huge) is Rejection.ARITHMETIC_OVERFLOW


def test_unknown_liquidity() -> None:
    bad = dataclasses.replace(
        AMM_SOLUTION, legs=(dataclasses.replace(AMM_LEG, pool=PoolId("nope")),)
    )
    assert rejected(AMM, bad) is Rejection.UNKNOWN_LIQUIDITY


def test_leg_must_fit_its_pool() -> None:
    wrong_token = dataclasses.replace(AMM_LEG, token_out=B)
    assert rejected(AMM, dataclasses.replace(AMM_SOLUTION, legs=(wrong_token,))) is (
        Rejection.INVALID_AMM_LEG
    )
    nothing_in = dataclasses.replace(AMM_LEG, amount_in=0)
    assert rejected(AMM, dataclasses.replace(AMM_SOLUTION, legs=(nothing_in,))) is (
        Rejection.INVALID_AMM_LEG
    )


def test_pool_without_state_transition_is_not_swapped_both_ways() -> None:
    book = auction(order(4, A, B, 10**20, 1))
    out = WEIGHTED.amount_out(A, B, 10**20)
    there = Leg(WEIGHTED.id, A, B, 10**20, out)
    back = Leg(WEIGHTED.id, B, A, 10**18, 1)
    good = solution({A: out, B: 10**20}, Trade(uid(4), 10**20), legs=(there,))
    assert [t.bought for t in check_solution(book, good, solver="t")] == [out]
    bad = dataclasses.replace(good, legs=(there, back))
    assert rejected(book, bad) is Rejection.INVALID_AMM_LEG


def test_v2_pair_swapped_both_ways_runs_in_order() -> None:
    # A -> C, then part of the C straight back: the second leg is priced on the moved pool
    back_in = AMM_OUT // 2
    moved = dataclasses.replace(POOL, reserves=(10**6 + 1000, 10**6 - AMM_OUT))
    back_out = moved.amount_out(C, A, back_in)
    assert back_out != POOL.amount_out(C, A, back_in)
    book = auction(order(3, A, C, 1000, 400))
    legs = (AMM_LEG, Leg(POOL.id, C, A, back_in, back_out))
    paid_c = AMM_OUT - back_in
    # the user gets the C that stays; the legs replay in order and claim exactly what the
    # moved pool pays, but the A that came back would stay in the settlement, undeclared
    good = solution({A: paid_c, C: 1000}, Trade(uid(3), 1000), legs=legs)
    assert rejected(book, good) is Rejection.UNDECLARED_SURPLUS
    greedy = (AMM_LEG, Leg(POOL.id, C, A, back_in, back_out + 1))
    assert rejected(book, dataclasses.replace(good, legs=greedy)) is Rejection.AMM_OVERDRAWN
    shy = (AMM_LEG, Leg(POOL.id, C, A, back_in, back_out - 1))
    assert rejected(book, dataclasses.replace(good, legs=shy)) is Rejection.INEXACT_AMM_OUTPUT


def test_amm_leg_taking_more_than_the_pool_pays() -> None:
    greedy = dataclasses.replace(AMM_LEG, amount_out=AMM_OUT + 1)
    bad = solution({A: AMM_OUT + 1, C: 1000}, Trade(uid(3), 1000), legs=(greedy,))
    assert rejected(AMM, bad) is Rejection.AMM_OVERDRAWN


def test_legs_through_one_pool_run_on_the_state_the_earlier_ones_left() -> None:
    # two halves each priced on the fresh pool: the second one asks too much
    book = auction(order(3, A, C, 200_000, 1))
    half = POOL.amount_out(A, C, 100_000)
    after_half = dataclasses.replace(POOL, reserves=(10**6 + 100_000, 10**6 - half))
    second = after_half.amount_out(A, C, 100_000)
    assert second < half
    split = (Leg(POOL.id, A, C, 100_000, half), Leg(POOL.id, A, C, 100_000, half))
    bad = solution({A: 2 * half, C: 200_000}, Trade(uid(3), 200_000), legs=split)
    assert rejected(book, bad) is Rejection.AMM_OVERDRAWN
    fair = (Leg(POOL.id, A, C, 100_000, half), Leg(POOL.id, A, C, 100_000, second))
    good = solution({A: half + second, C: 200_000}, Trade(uid(3), 200_000), legs=fair)
    assert [t.bought for t in check_solution(book, good, solver="t")] == [half + second]
    # a first leg over the pool's output fails even when the total would fit
    lopsided = (Leg(POOL.id, A, C, 100_000, half + 1), Leg(POOL.id, A, C, 100_000, 1))
    bad = solution({A: half + 2, C: 200_000}, Trade(uid(3), 200_000), legs=lopsided)
    assert rejected(book, bad) is Rejection.AMM_OVERDRAWN


def test_stateless_pool_legs_are_simulated_as_one_swap() -> None:
    book = auction(order(4, A, B, 2 * 10**22, 1))
    half = WEIGHTED.amount_out(A, B, 10**22)
    whole = WEIGHTED.amount_out(A, B, 2 * 10**22)
    assert 2 * half > whole
    split = (Leg(WEIGHTED.id, A, B, 10**22, half), Leg(WEIGHTED.id, A, B, 10**22, half))
    bad = solution({A: 2 * half, B: 2 * 10**22}, Trade(uid(4), 2 * 10**22), legs=split)
    assert rejected(book, bad) is Rejection.AMM_OVERDRAWN
    fair = (Leg(WEIGHTED.id, A, B, 10**22, half), Leg(WEIGHTED.id, A, B, 10**22, whole - half))
    good = solution({A: whole, B: 2 * 10**22}, Trade(uid(4), 2 * 10**22), legs=fair)
    assert [t.bought for t in check_solution(book, good, solver="t")] == [whole]


def test_stateless_pool_legs_over_its_limit_together_are_rejected() -> None:
    # each leg is within the weighted pool's max in-ratio (30% of its balance), both are not
    amount = 2 * 10**23
    out = WEIGHTED.amount_out(A, B, amount)
    book = auction(order(4, A, B, 2 * amount, 1))
    legs = (Leg(WEIGHTED.id, A, B, amount, out), Leg(WEIGHTED.id, A, B, amount, out))
    bad = solution({A: 2 * out, B: 2 * amount}, Trade(uid(4), 2 * amount), legs=legs)
    assert rejected(book, bad) is Rejection.AMM_OVERDRAWN


def test_token_deficit_without_liquidity() -> None:
    # the user is paid AMM_OUT C but no leg brings C into the settlement
    bad = dataclasses.replace(AMM_SOLUTION, legs=())
    assert rejected(AMM, bad) is Rejection.TOKEN_DEFICIT
    # one-sided CoW: the B seller sells only 900 while the A seller gets 1000 B
    book = auction(order(1), order(2, B, A, 900, 800))
    short = solution({A: 1, B: 1}, Trade(uid(1), 1000), Trade(uid(2), 900))
    assert rejected(book, short) is Rejection.TOKEN_DEFICIT


def test_rejection_is_logged_with_the_solver_name(caplog: pytest.LogCaptureFixture) -> None:
    bad = dataclasses.replace(COW_SOLUTION, prices={A: 1, B: 2})
    with caplog.at_level(logging.WARNING, logger="solver.checks"), pytest.raises(SolutionRejected):
        check_solution(COW, bad, solver="external-1")
    assert "solver external-1 solution 7 rejected: LimitPriceViolated" in caplog.text


async def test_simulation_says_it_would_revert() -> None:
    calls: list[int] = []

    async def reverts(_: Auction, s: Solution) -> str | None:
        calls.append(s.id)
        return "GPv2: limit price not respected"

    async def succeeds(_: Auction, s: Solution) -> str | None:
        calls.append(s.id)
        return None

    async def broken(_: Auction, s: Solution) -> str | None:
        raise ConnectionError("node unreachable")

    assert len(await verify_solution(COW, COW_SOLUTION, solver="t", simulate=succeeds)) == 2
    with pytest.raises(SolutionRejected) as info:
        await verify_solution(COW, COW_SOLUTION, solver="t", simulate=reverts)
    assert info.value.code is Rejection.SIMULATION_REVERTED
    assert "limit price not respected" in str(info.value)
    with pytest.raises(SolutionRejected) as info:
        await verify_solution(COW, COW_SOLUTION, solver="t", simulate=broken)
    assert info.value.code is Rejection.SIMULATION_FAILED
    # a solution failing the pure checks is never simulated
    calls.clear()
    with pytest.raises(SolutionRejected):
        await verify_solution(COW, solution({A: 1, B: 1}), solver="t", simulate=succeeds)
    assert calls == []


@given(
    st.integers(1, 10**30),
    st.integers(1, 10**30),
    st.integers(1, 10**6),
    st.integers(1, 10**6),
    st.integers(2, 10**6),
)
def test_cow_pair_balances_or_is_rejected(
    sell_a: int, sell_b: int, price_a: int, price_b: int, factor: int
) -> None:
    """Two opposite sell orders with limits at exactly the clearing rate: the checks accept
    the pair iff the settlement keeps a non-negative balance of both tokens, and scaling
    every price by one factor changes nothing."""
    book = auction(
        order(1, A, B, sell_a, sell_a * price_a // price_b or 1),
        order(2, B, A, sell_b, sell_b * price_b // price_a or 1),
    )

    def verdict(prices: dict[TokenAddress, int]) -> object:
        sol = solution(prices, Trade(uid(1), sell_a), Trade(uid(2), sell_b))
        try:
            return [(t.sold, t.bought) for t in check_solution(book, sol, solver="prop")]
        except SolutionRejected as error:
            return error.code

    outcome = verdict({A: price_a, B: price_b})
    assert verdict({A: price_a * factor, B: price_b * factor}) == outcome
    limits_hold = all(
        o.signed_sell_amount * (price_a if o.sell_token == A else price_b)
        >= o.signed_buy_amount * (price_a if o.buy_token == A else price_b)
        for o in book.orders
    )
    got_a = -(-sell_b * price_b // price_a)
    got_b = -(-sell_a * price_a // price_b)
    if isinstance(outcome, Rejection):
        assert outcome in (Rejection.TOKEN_DEFICIT, Rejection.LIMIT_PRICE_VIOLATED)
        assert not limits_hold or sell_a < got_a or sell_b < got_b
    else:
        assert limits_hold and sell_a >= got_a and sell_b >= got_b
        assert outcome == [(sell_a, got_b), (sell_b, got_a)]
