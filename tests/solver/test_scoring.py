"""Scores: surplus over the limit price in native wei, exact on hand-computed examples."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intents.order import OrderClass, OrderKind
from solver import dto
from solver.checks import check_solution
from solver.dto_convert import auction_from_dto
from solver.model import Order, Trade, executed_amounts
from solver.protocol_fee import FeeError
from solver.scoring import (
    ScoringError,
    bid,
    mul_f64,
    native_value,
    order_score,
    protocol_fees,
    score_trades,
    surplus,
)
from tests.solver.test_checks import E18, A, B, C, auction, order, solution, uid
from tests.solver.test_dto import _auction, _order


def test_reference_price_is_wei_per_1e18_units() -> None:
    # a 6-decimal token worth 0.0005 ETH per whole token: 1e18 base units are 1e12 tokens,
    # worth 5e14 * 1e12 = 5e26 wei; 2 tokens (2e6 units) are worth 0.001 ETH
    assert native_value(2_000_000, 5 * 10**26) == 10**15
    assert native_value(10**18, 10**18) == 10**18
    assert native_value(1, E18 - 1) == 0  # rounded down


def test_sell_order_hand_computed() -> None:
    # sell 1000 A for >= 900 B, gets 1000 B: surplus 100 B, B worth 2 wei per unit
    o = order(1)
    assert surplus(o, 1000, 1000) == 100
    assert order_score(o, 1000, 1000, auction(o)) == 200


def test_sell_order_limit_is_rounded_up_for_partial_fills() -> None:
    # sell 3 A for >= 2 B executing 1: the limit 1 * 2 / 3 rounds up to 1 B
    o = order(1, A, B, 3, 2, partial=True)
    assert surplus(o, 1, 1) == 0
    assert surplus(o, 1, 2) == 1


def test_buy_order_hand_computed() -> None:
    # buy 900 B for <= 1000 A, pays 900 A: surplus 100 A = 90 B at the limit rate = 180 wei
    o = order(1, A, B, 1000, 900, kind=OrderKind.BUY)
    assert surplus(o, 900, 900) == 100
    assert order_score(o, 900, 900, auction(o)) == 180


def test_buy_order_limit_is_rounded_down() -> None:
    # buy 3 B for <= 2 A executing 2 B: may pay floor(2 * 2 / 3) = 1 A
    o = order(1, A, B, 2, 3, kind=OrderKind.BUY, partial=True)
    assert surplus(o, 1, 2) == 0
    with pytest.raises(ScoringError):
        surplus(o, 2, 2)


def test_limit_order_fee_lowers_the_surplus() -> None:
    # a limit order charged 50 A: pays 1000 A in total for 950 B (the fee is not score)
    o = order(1, order_class=OrderClass.LIMIT)
    book = auction(o, order(2, B, A))
    sol = solution({A: 1, B: 1}, Trade(uid(1), 950, fee=50), Trade(uid(2), 1000))
    checked = check_solution(book, sol, solver="t")
    assert [(t.paid, t.bought) for t in checked] == [(1000, 950), (1000, 1000)]
    score = score_trades(checked, book)
    # order 1: 950 - 900 = 50 B -> 100 wei; order 2: 1000 - 900 = 100 A -> 100 wei
    assert dict(score.by_pair) == {(A, B): 100, (B, A): 100}
    assert score.total == 200


def test_signed_fee_is_outside_the_limit_price() -> None:
    # a market order with a signed fee of 10 A pays 1010 A; its surplus counts 1000 A
    o = order(1, fee_amount=10)
    sol = solution({A: 1, B: 1}, Trade(uid(1), 1000), Trade(uid(2), 1000))
    book = auction(o, order(2, B, A, 1000, 900))
    checked = check_solution(book, sol, solver="t")
    assert (checked[0].sold, checked[0].paid) == (1010, 1000)
    assert score_trades(checked, book).by_pair[(A, B)] == 200


def test_missing_reference_price_cannot_be_scored() -> None:
    o = order(1)
    book = auction(o, prices={A: E18, C: E18})
    with pytest.raises(ScoringError) as info:
        order_score(o, 1000, 1000, book)
    assert info.value.code == "MissingReferencePrice"


def test_bid_carries_per_pair_scores() -> None:
    book = auction(order(1), order(2, B, A))
    sol = solution({A: 1, B: 1}, Trade(uid(1), 1000), Trade(uid(2), 1000))
    b = bid("ours", sol, check_solution(book, sol, solver="ours"), book)
    assert (b.solver, b.solution_id, b.solution) == ("ours", 7, sol)
    assert dict(b.scores) == {(A, B): 200, (B, A): 100}
    assert b.pairs == {(A, B), (B, A)} and b.score == 300


amounts = st.integers(1, 10**24)
prices = st.integers(1, 10**24)


@given(amounts, amounts, prices, prices, st.integers(1, 10**6), st.booleans())
def test_valid_solutions_score_non_negative_and_scale_free(
    amount: int, limit: int, price_a: int, price_b: int, factor: int, sell: bool
) -> None:
    """A checked trade never scores below zero, and multiplying every clearing price by
    the same factor changes neither the executed amounts nor the score."""
    kind = OrderKind.SELL if sell else OrderKind.BUY
    o = order(1, A, B, amount, limit, kind=kind)
    trade = Trade(uid(1), o.signed_amount)
    base = {A: price_a, B: price_b}
    scaled = {t: p * factor for t, p in base.items()}
    assert executed_amounts(o, trade, base) == executed_amounts(o, trade, scaled)
    sold, bought = executed_amounts(o, trade, base)
    if sold * o.signed_buy_amount > bought * o.signed_sell_amount:
        with pytest.raises(ScoringError):
            surplus(o, sold, bought)
        return
    book = auction(o)
    value = order_score(o, sold, bought, book)
    assert value >= 0
    assert order_score(o, *executed_amounts(o, trade, scaled), book) == value


@given(st.integers(1, 10**20), st.integers(0, 10**20), st.integers(1, 10**20))
def test_more_proceeds_never_score_less(amount: int, extra: int, limit: int) -> None:
    o = order(1, A, B, amount, limit)
    assert surplus(o, amount, limit + extra) == extra
    assert surplus(o, amount, limit) == 0


def dto_order(kind: str, policies: list[dict[str, Any]]) -> Order:
    """An order as it arrives over the wire, with CoW fee policies."""
    doc = _auction(orders=[_order(kind=kind, feePolicies=policies)], liquidity=[])
    (o,) = auction_from_dto(dto.decode_auction(json.dumps(doc).encode())).orders
    return o


def test_protocol_fees_are_added_back_last_policy_first() -> None:
    # sell 1000 A for >= 900 B, got 950 B: user surplus 50 B.
    # volume 1% of 950 at factor 0.01 / 0.99: 950 * 10101010101010102 // 1e18 = 9 B;
    # then the surplus policy (factor 0.5 -> 0.5 / 0.5 = 1.0) on the trade before that fee,
    # 959 B: its surplus 59 B, capped by 90% of volume (far above): 59 B.
    surplus_policy = {"surplus": {"factor": 0.5, "maxVolumeFactor": 0.9}}
    volume_policy = {"volume": {"factor": 0.01}}
    o = dto_order("sell", [surplus_policy, volume_policy])
    assert protocol_fees(o, 1000, 950) == 9 + 59
    assert order_score(o, 1000, 950, auction(o)) == (50 + 68) * 2
    assert protocol_fees(dto_order("sell", [volume_policy]), 1000, 950) == 9
    assert protocol_fees(dto_order("sell", []), 1000, 950) == 0


def test_price_improvement_fee_on_a_buy_order() -> None:
    # buy 900 B for <= 1000 A, paid 800 A: user surplus 200 A. The quote (850 + 50 fee A
    # for 900 B) tightens the limit to 900 A: improvement 100 A, factor 0.5 -> 100 A, capped
    # by the volume fee 800 * trunc(0.01 / 1.01 * 1e18) // 1e18 = 7 A.
    quote = {"sellAmount": "850", "buyAmount": "900", "fee": "50"}
    policy = {"priceImprovement": {"factor": 0.5, "maxVolumeFactor": 0.01, "quote": quote}}
    o = dto_order("buy", [policy])
    assert protocol_fees(o, 800, 900) == 7
    # 207 A at the limit rate is 207 * 900 // 1000 = 186 B, worth 2 wei each
    assert order_score(o, 800, 900, auction(o)) == 372


def test_cow_float_multiplication() -> None:
    assert mul_f64(10**30, 1.0) == 10**30  # identity, no truncation
    assert mul_f64(1000, 0.001 / 1.001) == 0
    assert mul_f64(10**18, 0.5) == 5 * 10**17
    with pytest.raises(FeeError):
        mul_f64(1, float("nan"))


def test_matches_cows_own_buy_order_vector() -> None:
    """The driver's ``score_problematic_buy_order`` case (a real Base auction): a buy
    order's surplus is converted at its limit rate, so the score stays 911 wei."""
    o = order(
        1,
        A,
        B,
        9865986634773384514560000000000000,
        4025333872768468868566822740,
        kind=OrderKind.BUY,
        partial=True,
    )
    bought = 8050667745
    sold = bought * 8050667745 // 874045870  # the case's custom clearing prices
    book = auction(o, prices={A: E18, B: 113181296327})
    assert order_score(o, sold, bought, book) == 911
