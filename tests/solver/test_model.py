"""The internal models: both auction formats load to the same auction, GPv2's rounding,
fees, and a solution's wire form."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intents.order import OrderClass, OrderKind
from routing.pool import TokenAddress
from routing.route import Leg
from solver import dto
from solver.auction_file import AuctionFormatError, auction_from_legacy, load_auction
from solver.dto_convert import auction_from_dto, auction_to_dto, solution_to_dto
from solver.dto_pools import decimal_string
from solver.model import (
    Solution,
    Trade,
    executed_amounts,
    gas_fee,
    limit_respected,
    now,
    signed_fee,
)
from tests.solver.engine_fixtures import A, B, order
from tests.solver.mainnet import legacy_bytes, solver_bytes


def test_legacy_mainnet_auction_loads() -> None:
    deadline = now() + timedelta(seconds=5)
    auction = load_auction(legacy_bytes(), deadline)
    assert len(auction.orders) == 527
    assert auction.deadline == deadline
    assert auction.id == "7400681"
    assert len(auction.liquidity.pools) > 800
    first = auction.orders[0]
    assert first.owner == "0x" + first.uid[32:52].hex()
    assert first.remaining == first.signed_amount
    classes = {o.order_class for o in auction.orders}
    assert classes == {OrderClass.LIMIT, OrderClass.MARKET}
    assert all(
        (o.signed_fee_amount > 0) == (o.order_class is OrderClass.MARKET) for o in auction.orders
    )
    weth = auction.tokens[TokenAddress("0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2")]
    assert weth.reference_price == 10**18 and weth.decimals == 18


def test_solver_format_of_the_same_auction_loads_to_the_same_auction() -> None:
    deadline = now()
    legacy = load_auction(legacy_bytes(), deadline)
    wire = dto.decode_auction(solver_bytes())
    assert len(wire.liquidity) == 842
    solver = load_auction(solver_bytes(), deadline)
    assert {p.id: p for p in solver.liquidity.pools} == {p.id: p for p in legacy.liquidity.pools}
    assert solver.gas_price == legacy.gas_price
    assert dict(solver.tokens) == dict(legacy.tokens)
    for a, b in zip(solver.orders, legacy.orders, strict=True):
        assert (
            a.uid,
            a.owner,
            a.signed_sell_amount,
            a.signed_buy_amount,
            a.kind,
            a.order_class,
        ) == (
            b.uid,
            b.owner,
            b.signed_sell_amount,
            b.signed_buy_amount,
            b.kind,
            b.order_class,
        )
        assert a.partially_fillable == b.partially_fillable and a.remaining == b.remaining
        assert a.valid_to == int.from_bytes(a.uid[52:], "big") and b.valid_to is None


def test_remaining_amounts_come_from_the_dto() -> None:
    doc = json.loads(solver_bytes())
    doc["orders"] = doc["orders"][:2]
    doc["orders"][0]["sellAmount"] = "7"
    doc["orders"][1]["buyAmount"] = "9"
    doc["orders"][1]["kind"] = "buy"
    auction = load_auction(json.dumps(doc).encode(), now())
    assert auction.orders[0].remaining == 7
    assert auction.orders[0].signed_sell_amount == int(doc["orders"][0]["fullSellAmount"])
    assert auction.orders[1].remaining == 9
    assert auction.orders[1].kind is OrderKind.BUY


def test_broken_legacy_document_is_a_format_error() -> None:
    doc = json.loads(legacy_bytes())
    doc["orders"] = {"0": {"id": "0x12"}}
    with pytest.raises(AuctionFormatError):
        auction_from_legacy(doc, now())


def test_gpv2_rounding_favours_the_user() -> None:
    prices = {A: 3, B: 7}
    sell = order(A, B, 100, 1)
    buy = order(A, B, 100, 10, OrderKind.BUY)
    # sell: bought = ceil(10 * 3 / 7) = 5; buy: sold = floor(10 * 7 / 3) = 23
    assert executed_amounts(sell, Trade(sell.uid, 10), prices) == (10, 5)
    assert executed_amounts(buy, Trade(buy.uid, 10), prices) == (23, 10)
    assert executed_amounts(sell, Trade(sell.uid, 10, fee=4), prices) == (14, 5)


@given(
    executed=st.integers(1, 2**128),
    p_sell=st.integers(1, 2**128),
    p_buy=st.integers(1, 2**128),
    kind=st.sampled_from(OrderKind),
)
def test_rounding_never_against_the_user(
    executed: int, p_sell: int, p_buy: int, kind: OrderKind
) -> None:
    o = order(A, B, 10**40, 1, kind)
    sold, bought = executed_amounts(o, Trade(o.uid, executed), {A: p_sell, B: p_buy})
    # value paid never exceeds value received at the clearing prices
    assert sold * p_sell <= bought * p_buy
    assert bought * p_buy - sold * p_sell < max(p_sell, p_buy)


def test_signed_fee_is_outside_the_limit_price() -> None:
    o = dataclasses.replace(order(A, B, 1000, 1000, partial=True), signed_fee_amount=100)
    trade = Trade(o.uid, 500)
    assert signed_fee(o, trade) == 50
    sold, bought = executed_amounts(o, trade, {A: 1, B: 1})
    assert (sold, bought) == (550, 500)
    assert limit_respected(o, sold - signed_fee(o, trade), bought)
    assert not limit_respected(o, sold, bought)


def test_gas_fee() -> None:
    assert gas_fee(100_000, 10**10, 10**18) == 10**15
    assert gas_fee(100_000, 10**10, 3 * 10**18) == 10**15 // 3  # rounded down
    assert gas_fee(1, 1, None) is None


def test_solution_to_dto() -> None:
    limit = order(A, B, 100, 90, order_class=OrderClass.LIMIT)
    market = order(B, A, 100, 90)
    legs = (Leg("pool-7", A, B, 95, 99),)  # type: ignore[arg-type]
    solution = Solution(
        id=4,
        prices={A: 99, B: 95},
        trades=(Trade(limit.uid, 95, 5), Trade(market.uid, 10)),
        legs=legs,
        gas=200_000,
    )
    wire = solution_to_dto(solution, {limit.uid: limit, market.uid: market})
    doc = json.loads(dto.encode(wire))
    assert doc["id"] == 4 and doc["gas"] == 200_000
    assert doc["prices"] == {A: "99", B: "95"}
    assert doc["trades"][0] == {
        "kind": "fulfillment",
        "order": "0x" + limit.uid.hex(),
        "executedAmount": "95",
        "fee": "5",
    }
    assert "fee" not in doc["trades"][1]  # a market order's: omitted, as serde skips None
    assert doc["interactions"] == [
        {
            "kind": "liquidity",
            "internalize": False,
            "id": "pool-7",
            "inputToken": A,
            "outputToken": B,
            "inputAmount": "95",
            "outputAmount": "99",
        }
    ]
    assert dto.decode_solver_response(
        dto.encode(dto.SolverResponse(solutions=[wire]))
    ).solutions == [wire]


def test_auction_to_dto_round_trips_the_mainnet_auction() -> None:
    legacy = load_auction(legacy_bytes(), now())
    wire = auction_to_dto(legacy)
    again = auction_from_dto(dto.decode_auction(dto.encode(wire)))
    assert {p.id: p for p in again.liquidity.pools} == {p.id: p for p in legacy.liquidity.pools}
    assert dict(again.tokens) == dict(legacy.tokens)
    assert again.gas_price == legacy.gas_price and again.id == legacy.id
    for a, b in zip(again.orders, legacy.orders, strict=True):
        assert (a.uid, a.owner, a.signed_sell_amount, a.signed_buy_amount, a.remaining) == (
            b.uid,
            b.owner,
            b.signed_sell_amount,
            b.signed_buy_amount,
            b.remaining,
        )
        assert (a.kind, a.partially_fillable, a.order_class) == (
            b.kind,
            b.partially_fillable,
            b.order_class,
        )
    # an order that came over the wire goes back out unchanged
    assert auction_to_dto(again).orders == wire.orders


@given(st.integers(-(10**30), 10**30), st.integers(0, 30), st.integers(0, 30))
def test_decimal_string_is_exact(numerator: int, twos: int, fives: int) -> None:
    value = Fraction(numerator, 2**twos * 5**fives)
    text = decimal_string(value)
    assert Fraction(text) == value
    assert "e" not in text.lower()
