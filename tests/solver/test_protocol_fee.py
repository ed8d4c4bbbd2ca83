"""The node's fee policies (``solver.protocol_fee``, ``solver.fee_policies``) against CoW's
formulas: the driver's ``fee.rs`` (surplus capped by volume, volume, price improvement, in
order), the autopilot's partner fee cap (CoW's own test vectors), and properties: a fee
never exceeds its cap, a surplus fee never breaks the limit price, every division rounds
in the user's favour, and what the charges record is exactly what the user no longer gets."""

from __future__ import annotations

import dataclasses
import json
from fractions import Fraction

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from intents.order import OrderClass, OrderKind
from intents.types import Address
from solver.book_auction import order_from_book
from solver.fee_policies import FeeConfig, order_policies, parse_policy, partner_policies
from solver.model import (
    PriceImprovementFee,
    Quote,
    Solution,
    SurplusFee,
    Trade,
    VolumeFee,
    trade_execution,
)
from solver.protocol_fee import charge_solution, charge_trade, quote_limits
from tests.intents.test_store import make_order
from tests.solver.test_checks import A, B, auction, order

R = Address("0x" + "fe" * 20)
P = Address("0x" + "ab" * 20)


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def f64(amount: int, factor: float) -> int:
    """CoW's ``checked_mul_f64``, written out here independently."""
    return amount if factor == 1.0 else amount * int(factor * 1e18) // 10**18


def with_policies(o, *policies):  # type: ignore[no-untyped-def]
    return dataclasses.replace(o, fee_policies=policies, order_class=OrderClass.LIMIT)


def test_sell_order_surplus_capped_by_volume_then_partner_volume() -> None:
    """The acceptance's setting worked by hand: 50% of surplus capped at 1% of volume, then
    25 bps of volume; prices 1 A = 0.99 B, limit 0.9 B."""
    sell, limit = 10**20, 9 * 10**19
    o = with_policies(
        order(1, sell_amount=sell, buy_amount=limit),
        SurplusFee(0.5, 0.01, R),
        VolumeFee(0.0025, P),
    )
    prices = {A: 99, B: 100}
    charged, charges = charge_trade(o, Trade(o.uid, sell, 0), prices)
    bought0 = ceil_div(sell * 99, 100)
    fee1 = min(f64(bought0 - limit, 0.5), f64(bought0, 0.01))
    assert fee1 == f64(bought0, 0.01)  # the cap binds
    e1 = sell - fee1 * 100 // 99
    bought1 = ceil_div(e1 * 99, 100)
    e2 = e1 - f64(bought1, 0.0025) * 100 // 99
    bought2 = ceil_div(e2 * 99, 100)
    assert (charged.executed, charged.fee) == (e2, sell - e2)
    assert [(c.recipient, c.token, c.amount) for c in charges] == [
        (R, B, bought0 - bought1),
        (P, B, bought1 - bought2),
    ]


def test_buy_order_fee_is_in_the_sell_token() -> None:
    o = with_policies(
        order(2, sell_amount=1000, buy_amount=500, kind=OrderKind.BUY), SurplusFee(0.5, 0.1, R)
    )
    prices = {A: 10, B: 15}  # 500 B cost 750 A, the limit is 1000: surplus 250
    charged, (charge,) = charge_trade(o, Trade(o.uid, 500, 0), prices)
    assert charge.token == A and charge.amount == min(f64(250, 0.5), f64(750, 0.1)) == 75
    assert (charged.executed, charged.fee) == (500, 75)


def test_price_improvement_measures_against_the_quote() -> None:
    o = order(3, sell_amount=10 * 10**18, buy_amount=10 * 10**18)
    # CoW's test_adjust_quote_to_in_market_sell_order_limits: the limit becomes 20 B
    assert quote_limits(o, Quote(10 * 10**18, 25 * 10**18, 2 * 10**18)) == (
        10 * 10**18,
        20 * 10**18,
    )
    buy = dataclasses.replace(o, kind=OrderKind.BUY, signed_sell_amount=20 * 10**18)
    assert quote_limits(buy, Quote(17 * 10**18, 10 * 10**18, 10**18)) == (18 * 10**18, 10**19)
    assert quote_limits(o, Quote(10, 0, 0)) == (o.signed_sell_amount, o.signed_buy_amount)


def test_partner_fee_cap_matches_cows_vectors() -> None:
    def doc(*bps: int) -> str:
        fees = ",".join(f'{{"bps": {b}, "recipient": "0x{"01" * 20}"}}' for b in bps)
        return f'{{"metadata": {{"partnerFee": [{fees}]}}}}'

    def factors(document: str, cap: float) -> list[float]:
        return [p.factor for p in partner_policies(document, cap, Quote(0, 0, 0))]  # type: ignore[union-attr]

    assert factors(doc(500, 2000), 0.3) == [0.05, 0.2]
    assert factors(doc(5000), 0.3) == [0.3]
    assert factors(doc(1000, 2500), 0.3) == [0.1, 0.18181818181818182]
    assert factors(doc(1000, 2000, 1500), 0.3) == [0.1, 0.18181818181818182, 0.0]
    assert factors(doc(1000, 2000), 0.0) == [0.0, 0.0]
    assert factors(doc(25), 0.01) == [0.0025]


def partner_doc(fee: object) -> str:
    return json.dumps({"metadata": {"partnerFee": fee}})


def test_partner_fee_kinds_and_malformed_documents() -> None:
    q = Quote(1, 2, 0)
    surplus = {"surplusBps": 5000, "maxVolumeBps": 500, "recipient": P}
    assert partner_policies(partner_doc(surplus), 0.01, q) == (SurplusFee(0.5, 0.01, P),)
    improvement = {"priceImprovementBps": 5000, "maxVolumeBps": 500, "recipient": P}
    assert partner_policies(partner_doc(improvement), 0.01, q) == (
        PriceImprovementFee(0.5, 0.01, q, P),
    )
    volume = {"volumeBps": 30, "recipient": P}
    assert partner_policies(partner_doc(volume), 0.01, q) == (VolumeFee(0.003, P),)
    for bad in ({"volumeBps": 30, "bps": 1, "recipient": P}, {"bps": 1.5, "recipient": P}, {}):
        assert partner_policies(partner_doc(bad), 0.01, q) == ()
    assert partner_policies("{}", 0.01, q) == ()


def test_node_policies_come_first_with_the_node_recipient() -> None:
    config = FeeConfig.parse(["surplus:0.5:0.01", "volume:0.001"], "0x" + "FE" * 20, 0.01)
    volume = partner_doc({"bps": 25, "recipient": P})
    assert order_policies(config, volume, 100) == (
        SurplusFee(0.5, 0.01, R),
        VolumeFee(0.001, R),
        VolumeFee(0.0025, P),
    )
    with pytest.raises(ValueError, match="fee recipient"):
        FeeConfig.parse(["volume:0.1"], None, 0.01)
    for bad in ("surplus:0.5", "volume:1.0", "tip:0.1", "volume:x"):
        with pytest.raises(ValueError):
            parse_policy(bad)


def test_a_solution_without_policies_is_left_alone() -> None:
    o = order(4)
    solution = Solution(1, {A: 1, B: 1}, (Trade(o.uid, 1000, 0),), (), 0)
    assert charge_solution(auction(o), solution) is solution


amounts = st.integers(10**3, 10**27)
factors = st.floats(0.0, 0.99, allow_nan=False)


@given(
    sell=amounts,
    limit_num=st.integers(1, 1000),
    price_num=st.integers(1, 10**6),
    price_den=st.integers(1, 10**6),
    factor=factors,
    cap=factors,
    kind=st.sampled_from([OrderKind.SELL, OrderKind.BUY]),
)
def test_surplus_fee_is_capped_keeps_the_limit_and_rounds_for_the_user(
    sell: int,
    limit_num: int,
    price_num: int,
    price_den: int,
    factor: float,
    cap: float,
    kind: OrderKind,
) -> None:
    p_sell, p_buy = price_num, price_den
    is_sell = kind is OrderKind.SELL
    _, bought = trade_execution(True, sell, p_sell, p_buy)
    executed = sell if is_sell else bought
    sold0, got0 = trade_execution(is_sell, executed, p_sell, p_buy)
    if got0 == 0 or sold0 == 0:
        return
    # the limit is at most the execution price, so the trade has surplus >= 0
    signed_sell = sold0 if is_sell else ceil_div(sold0 * 1000, limit_num)
    signed_buy = max(1, got0 * limit_num // 1000) if is_sell else got0
    o = with_policies(order(5, sell_amount=signed_sell, buy_amount=signed_buy, kind=kind),
                      SurplusFee(factor, cap, R))  # fmt: skip
    charged, (charge,) = charge_trade(o, Trade(o.uid, executed, 0), {A: p_sell, B: p_buy})
    sold1, got1 = trade_execution(is_sell, charged.executed, p_sell, p_buy)
    sold1 += charged.fee
    volume = got0 if is_sell else sold0
    assert charge.amount >= 0
    if is_sell:
        assert sold1 == sold0  # the user pays what it signed to sell ...
        assert charge.amount == got0 - got1  # ... and the fee is what it no longer gets
        fee_in_surplus_token = min(
            f64(max(0, got0 - ceil_div(signed_buy * sold0, signed_sell)), factor), f64(volume, cap)
        )
        # the sell-token fee is rounded down: the user keeps at least the exact share
        assert charged.fee <= Fraction(fee_in_surplus_token * p_buy, p_sell)
        assert charge.amount <= f64(volume, cap) + 1
    else:
        assert got1 == got0 and charge.amount == sold1 - sold0
        assert charge.amount <= f64(volume, cap)
    # a surplus fee never takes the user beyond its limit price
    assert sold1 * o.signed_buy_amount <= got1 * o.signed_sell_amount


def test_market_orders_pay_no_fee_and_quotes_reach_price_improvement() -> None:
    config = FeeConfig.parse(["priceImprovement:0.5:0.01"], R, 0.01)
    partner = partner_doc({"bps": 25, "recipient": P})
    assert order_policies(config, partner, 100, limit_class=False) == ()
    quote = Quote(100, 90, 1)
    assert order_policies(config, None, 100, quote) == (PriceImprovementFee(0.5, 0.01, quote, R),)
    # without a quote, CoW's stand-in: the order's sell amount for nothing
    assert order_policies(config, None, 100) == (
        PriceImprovementFee(0.5, 0.01, Quote(100, 0, 0), R),
    )


def test_book_orders_carry_the_policies_and_their_quote() -> None:
    config = FeeConfig.parse(["priceImprovement:0.5:0.01", "volume:0.001"], R, 0.01)
    document = partner_doc({"bps": 25, "recipient": P})
    limit = msgspec.structs.replace(make_order(1), app_data_json=document)
    market = msgspec.structs.replace(limit, order_class=OrderClass.MARKET)
    quote = Quote(10**24, 4 * 10**21, 10**20)
    assert order_from_book(limit, None, fees=config, quote=quote).fee_policies == (
        PriceImprovementFee(0.5, 0.01, quote, R),
        VolumeFee(0.001, R),
        VolumeFee(0.0025, P),
    )
    assert order_from_book(market, None, fees=config, quote=quote).fee_policies == ()
    assert order_from_book(limit).fee_policies == ()  # a node without a fee configuration


def test_serve_flags_configure_the_fees() -> None:
    from solver.cli import _build_parser
    from solver.network import settings_from_args

    parser = _build_parser()
    flags = ["serve", "--fee-policy", "surplus:0.5:0.01", "--fee-policy", "volume:0.001"]
    args = parser.parse_args(
        [*flags, "--fee-recipient", "0x" + "FE" * 20, "--fee-sweep-every", "5"]
    )
    settings = settings_from_args(args, "devnet.json")
    assert settings is not None
    assert settings.fees == FeeConfig((SurplusFee(0.5, 0.01), VolumeFee(0.001)), R, 0.01, 5)
    default = settings_from_args(parser.parse_args(["serve"]), "devnet.json")
    assert default is not None and default.fees == FeeConfig()  # partner fees only, 1% cap
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", "--fee-policy", "surplus:2"])
    with pytest.raises(SystemExit, match="fee recipient"):
        settings_from_args(parser.parse_args(["serve", "--fee-policy", "volume:0.1"]), "d.json")
