"""A matched group is one settlement: its ``limit`` orders share one base cost.

Coincidences of wants between orders with no AMM leg (fill-or-kill pairs, perfect matches)
are found when a uniform price exists that every order accepts net of its fee, the fee
being its share of the group's gas (``solver.engines.group_fees``): its own trade plus an
equal part of the settlement's base. The expected fees, amounts and limits are derived
here from the GPv2 formulas, independently of the engine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intents.order import OrderClass, OrderKind
from routing.pool import PoolId, TokenAddress
from routing.uniswap_v2 import ConstantProductPool
from solver.checks import check_solution
from solver.engines.batch import BatchEngine
from solver.engines.cow import Offer
from solver.engines.group_fees import GroupFees
from solver.model import (
    SETTLEMENT_OVERHEAD_GAS,
    Auction,
    Order,
    Solution,
    Trade,
    gas_fee,
    settlement_gas,
)
from tests.solver.engine_fixtures import numbered_order, snapshot_auction

E18 = 10**18
D = TokenAddress("0x" + "d1" * 20)
E = TokenAddress("0x" + "e1" * 20)
X = TokenAddress("0x" + "0a" * 20)
Y = TokenAddress("0x" + "0b" * 20)
REFERENCE = {D: E18, E: E18 // 2, X: E18, Y: E18}
"""D is worth 2 E. D and E have no pool: a CoW is their only way to trade."""
GAS_PRICE = 20 * 10**9
ELSEWHERE = ConstantProductPool(id=PoolId("xy"), tokens=(X, Y), reserves=(10**24, 10**24))


def _auction(*orders: Order, gas_price: int = GAS_PRICE) -> Auction:
    return snapshot_auction(
        orders, (ELSEWHERE,), REFERENCE, gas_price, D, datetime(2030, 1, 1, tzinfo=UTC)
    )


def _order(
    n: int,
    sell: TokenAddress,
    buy: TokenAddress,
    sell_amount: int,
    buy_amount: int,
    *,
    kind: OrderKind = OrderKind.SELL,
    partial: bool = False,
    order_class: OrderClass = OrderClass.LIMIT,
) -> Order:
    """Order ``n``, a ``limit`` order unless told."""
    return numbered_order(
        n, sell, buy, sell_amount, buy_amount, kind, partial=partial, order_class=order_class
    )


def _shared_fee(token: TokenAddress, gas_price: int = GAS_PRICE) -> Fraction:
    """The exact share of one of two trades settled together, in ``token`` base units."""
    return Fraction(settlement_gas(2, 0) * gas_price * E18, 2 * REFERENCE[token])


def _full_fee(token: TokenAddress, gas_price: int = GAS_PRICE) -> Fraction:
    """What one trade settled alone pays for its settlement, without any AMM leg."""
    return Fraction(SETTLEMENT_OVERHEAD_GAS * gas_price * E18, REFERENCE[token])


def _paid_and_bought(
    order: Order, trade: Trade, prices: dict[TokenAddress, int]
) -> tuple[int, int]:
    """GPv2's ``computeTradeExecution``, fee included in what is paid."""
    p_sell, p_buy = prices[order.sell_token], prices[order.buy_token]
    if order.kind is OrderKind.SELL:
        return trade.executed + trade.fee, -(-trade.executed * p_sell // p_buy)
    return trade.executed * p_buy // p_sell + trade.fee, trade.executed


def _assert_settled_together(auction: Auction, solutions: list[Solution]) -> Solution:
    """One solution trading every order of the auction, sound, its fees covering its
    declared gas and none above the fee of a lone settlement."""
    assert len(solutions) == 1, solutions
    (solution,) = solutions
    orders = {o.uid: o for o in auction.orders}
    assert {t.order for t in solution.trades} == set(orders)
    check_solution(auction, solution, solver="test")  # raises if any check fails
    assert not solution.legs
    assert solution.gas == settlement_gas(len(orders), 0)
    paid_fees = 0
    for trade in solution.trades:
        order = orders[trade.order]
        paid, bought = _paid_and_bought(order, trade, dict(solution.prices))
        assert paid * order.signed_buy_amount <= bought * order.signed_sell_amount, "limit"
        used = trade.executed + (trade.fee if order.kind is OrderKind.SELL else 0)
        assert used <= order.remaining
        if not order.partially_fillable:
            assert used == order.remaining, "fill-or-kill filled partially"
        if order.order_class is OrderClass.MARKET:
            assert trade.fee == 0
        else:
            assert trade.fee <= _full_fee(order.sell_token, auction.gas_price)
        paid_fees += trade.fee * REFERENCE[order.sell_token]
    if all(o.order_class is OrderClass.LIMIT for o in orders.values()):
        assert paid_fees >= solution.gas * auction.gas_price * E18, "fees short of the gas"
    return solution


# -- (a) fill-or-kill limit orders facing each other ---------------------------------------


def test_fill_or_kill_limit_pair_shares_one_overhead() -> None:
    """1 D against 2 E, both fill-or-kill limit orders. Their limits leave, together, more
    than the two shares of one settlement (``settlement_gas(2, 0)``) but less than two full
    settlement overheads: each paying a lone overhead no price works; sharing, one does."""
    overlap_d = (_shared_fee(D) + _full_fee(D)) / 2  # each side gives up this much value
    assert 2 * _shared_fee(D) < 2 * overlap_d < 2 * _full_fee(D)
    sells_d = _order(1, D, E, E18, int(2 * (E18 - overlap_d)))
    sells_e = _order(2, E, D, 2 * E18, int(E18 - overlap_d))
    auction = _auction(sells_d, sells_e)
    solution = _assert_settled_together(auction, BatchEngine().solve(auction))
    fees = {t.order: t.fee for t in solution.trades}
    # each pays its share: its trade and half the base, rounded up to a whole base unit
    assert fees[sells_d.uid] == -(-_shared_fee(D).numerator // _shared_fee(D).denominator)
    assert fees[sells_e.uid] == -(-_shared_fee(E).numerator // _shared_fee(E).denominator)


def test_fill_or_kill_pair_without_enough_overlap_is_not_matched() -> None:
    """Less overlap than the two shares: no price both accept, nothing is settled."""
    overlap_d = _shared_fee(D) * 9 / 10
    sells_d = _order(1, D, E, E18, int(2 * (E18 - overlap_d)))
    sells_e = _order(2, E, D, 2 * E18, int(E18 - overlap_d))
    auction = _auction(sells_d, sells_e)
    assert BatchEngine().solve(auction) == []


# -- (b) perfect matches: one side sells exactly what the other buys ----------------------


def test_perfect_match_limit_seller_and_market_buyer() -> None:
    """A limit order sells 1 D (fill-or-kill); a market order buys exactly 1 D for at most
    2 E. The limit order asks for 2 E less than a value between its shared and its lone
    fee: it can pay only its share."""
    give_up = (_shared_fee(D) + _full_fee(D)) / 2
    seller = _order(1, D, E, E18, int(2 * (E18 - give_up)))
    buyer = _order(2, E, D, 2 * E18, E18, kind=OrderKind.BUY, order_class=OrderClass.MARKET)
    auction = _auction(seller, buyer)
    solution = _assert_settled_together(auction, BatchEngine().solve(auction))
    trades = {t.order: t for t in solution.trades}
    assert trades[buyer.uid].executed == E18  # the buyer gets exactly what it buys
    assert trades[seller.uid].executed + trades[seller.uid].fee == E18  # all the seller has


def test_perfect_match_market_seller_and_limit_buyer() -> None:
    """A market order sells 1 D for at least 2 E; a fill-or-kill limit order buys exactly
    1 D and pays at most 2 E plus a value between its shared and its lone fee."""
    extra_e = (_shared_fee(E) + _full_fee(E)) / 2
    seller = _order(1, D, E, E18, 2 * E18, order_class=OrderClass.MARKET)
    buyer = _order(2, E, D, int(2 * E18 + extra_e), E18, kind=OrderKind.BUY)
    auction = _auction(seller, buyer)
    solution = _assert_settled_together(auction, BatchEngine().solve(auction))
    trades = {t.order: t for t in solution.trades}
    assert trades[seller.uid].executed == E18
    assert trades[buyer.uid].executed == E18


# -- the fee rule ---------------------------------------------------------------------------


def _offer(key: int, token: TokenAddress, amount: int) -> Offer:
    return Offer(key, token, D if token != D else E, amount, amount, True, False, amount)


def test_group_fees_cover_the_gas_and_never_exceed_a_lone_settlement() -> None:
    prices = {0: REFERENCE[D], 1: REFERENCE[E], 2: 3 * E18}  # 2: a token worth 3 native
    fees = GroupFees(GAS_PRICE, prices, lambda key: None)
    for trades in (2, 3):
        for gas in (0, 150_000):
            due = settlement_gas(trades, gas) * GAS_PRICE * E18
            charged = [fees.fee(k, trades, gas) for k in range(trades)]
            assert sum(f * prices[k] for k, f in enumerate(charged)) >= due
            for k, fee in enumerate(charged):  # at most one base unit over the exact share
                assert fee - 1 < Fraction(due, trades * prices[k]) <= fee
    # a token whose base unit is worth more than a settlement: the share rounds up to one
    # unit, a lone settlement's fee rounds down to none; the user pays what it would alone
    dear = GroupFees(GAS_PRICE, {0: 10**40}, lambda key: None)
    assert dear.fee(0, 2, 0) == gas_fee(settlement_gas(1, 0), GAS_PRICE, 10**40) == 0
    # with AMM legs, never more than routed alone
    cheap_alone = GroupFees(GAS_PRICE, {0: E18}, lambda key: 1000)
    assert cheap_alone.fee(0, 2, 10**6) == 1000
    assert GroupFees(GAS_PRICE, {}, lambda key: None).fee(0, 2, 0) == 0  # a market order


def test_a_partial_fill_pays_its_whole_share() -> None:
    """A trade's gas does not depend on its size: a partially fillable limit order filled
    in part still pays its full share of the group's gas."""
    give_up = _full_fee(D)  # plenty of room for the fee on either fill
    big = _order(1, D, E, 3 * E18, int(2 * (3 * E18 - 3 * give_up)), partial=True)
    small = _order(2, E, D, 2 * E18, E18, kind=OrderKind.BUY, order_class=OrderClass.MARKET)
    auction = _auction(big, small)
    solution = _assert_settled_together(auction, BatchEngine().solve(auction))
    trade = next(t for t in solution.trades if t.order == big.uid)
    assert trade.executed + trade.fee < big.remaining  # a partial fill
    assert trade.fee == -(-_shared_fee(D).numerator // _shared_fee(D).denominator)


# -- (c) random facing limit-order pairs ----------------------------------------------------


@dataclass(frozen=True)
class _Side:
    """One order of a pair as the witness trades it: ``traded`` of its sell token at the
    price (fee excluded), ``received`` of its buy token, ``fee`` its share of the gas."""

    sell: TokenAddress
    buy: TokenAddress
    traded: Fraction
    received: Fraction
    fee: int


def _make(
    n: int,
    side: _Side,
    kind: OrderKind,
    partial: bool,
    scale: Fraction,
    slack: Fraction,
) -> Order:
    """An order that accepts the witness with relative ``slack`` to spare (negative: it
    does not accept it), sized ``scale`` times the witness's volume if partially fillable."""
    rate = side.received / (side.traded + side.fee) * (1 - slack)  # buy per sell, fee in
    if kind is OrderKind.SELL:
        sell = int((side.traded + side.fee) * (scale if partial else 1))
        return _order(n, side.sell, side.buy, sell, int(sell * rate), kind=kind, partial=partial)
    buy = int(side.received * (scale if partial else 1))
    sell = -(-(buy * rate.denominator) // rate.numerator)
    return _order(n, side.sell, side.buy, sell, buy, kind=kind, partial=partial)


@st.composite
def _facing_pairs(draw: st.DrawFn) -> tuple[Auction, bool]:
    """A D->E and an E->D limit order, either kind and fill mode, built around a witness:
    a price ``r`` (E per D, within 2% of the reference) and volumes at which both tokens
    balance with each paying its shared fee (order 2's volume in the middle of the band
    the fees leave). Each order's limit accepts the witness with a relative slack drawn
    from -1% to +1%; the flag says whether both accept it with room for rounding."""
    gas_price = draw(st.sampled_from([10**9, 2 * 10**10, 10**11]))
    r = Fraction(2) * (1 + Fraction(draw(st.integers(-200, 200)), 10_000))
    fee_d = -(-settlement_gas(2, 0) * gas_price * E18 // (2 * REFERENCE[D]))
    fee_e = -(-settlement_gas(2, 0) * gas_price * E18 // (2 * REFERENCE[E]))
    traded_d = Fraction(draw(st.integers(E18 // 50, 50 * E18)))
    # E paid in (traded_e + fee_e) covers E paid out (traded_d r); D paid in
    # (traded_d + fee_d) covers D paid out (traded_e / r): the middle of that band
    traded_e = traded_d * r + (r * fee_d - fee_e) / 2
    one = _Side(D, E, traded_d, traded_d * r, fee_d)
    two = _Side(E, D, traded_e, traded_e / r, fee_e)
    slacks = [Fraction(draw(st.integers(-100, 100)), 10_000) for _ in range(2)]
    orders = [
        _make(
            n + 1,
            side,
            draw(st.sampled_from([OrderKind.SELL, OrderKind.BUY])),
            draw(st.booleans()),
            Fraction(draw(st.integers(100, 300)), 100),
            slack,
        )
        for n, (side, slack) in enumerate(zip((one, two), slacks, strict=True))
    ]
    return _auction(*orders, gas_price=gas_price), all(s >= Fraction(1, 10**6) for s in slacks)


@pytest.mark.xfail(
    strict=False,
    reason="issue 11 item 4: hypothesis finds facing pairs (a partially fillable limit sell "
    "against a fill-or-kill one) whose witness price suits both net of shared fees, yet the "
    "engine finds the group and no clearing that beats routing alone: a real gap, open",
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=_facing_pairs())
def test_facing_limit_pairs_settle_together_whenever_a_price_suits_both(
    case: tuple[Auction, bool],
) -> None:
    """Whenever the witness price suits both orders net of their shared fees, the engine
    settles them together (at that price or another); whatever it settles passes the
    checks, keeps every limit with its fee, and its fees cover its declared gas."""
    auction, suits_both = case
    solutions = BatchEngine().solve(auction)
    if suits_both:
        _assert_settled_together(auction, solutions)
    for solution in solutions:
        _assert_settled_together(auction, [solution])
