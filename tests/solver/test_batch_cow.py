"""The coincidence-of-wants core: pair and ring clearings at one uniform price per token,
exact GPv2 amounts, limits, fill modes and token conservation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing.pool import PoolId, PoolMathError, TokenAddress
from routing.route import Leg
from routing.uniswap_v2 import ConstantProductPool
from solver.engines.cow import (
    AmmQuote,
    Clearing,
    Offer,
    clear_ring,
)
from solver.engines.cow_pair import PairBook, clear_pair

A = TokenAddress("0x" + "aa" * 20)
B = TokenAddress("0x" + "bb" * 20)
C = TokenAddress("0x" + "cc" * 20)
E18 = 10**18
REFERENCE = {A: 2000 * E18, B: E18, C: 4 * E18}
"""A is worth 2000 B, C is worth 4 B."""


def _pool(reserve_a: int = 1000 * E18, reserve_b: int = 2_000_000 * E18) -> ConstantProductPool:
    return ConstantProductPool(
        id=PoolId("ab"), tokens=(TokenAddress(A), TokenAddress(B)), reserves=(reserve_a, reserve_b)
    )


def _quote(pool: ConstantProductPool) -> AmmQuote:
    def quote(
        token_in: TokenAddress, token_out: TokenAddress, amount: int
    ) -> tuple[tuple[Leg, ...], int, int] | None:
        try:
            out = pool.amount_out(TokenAddress(token_in), TokenAddress(token_out), amount)
        except PoolMathError:
            return None
        return (Leg(pool.id, token_in, token_out, amount, out),), out, pool.gas

    return quote


def _along(pool: ConstantProductPool) -> Callable[[Sequence[Leg]], AmmQuote]:
    """The exact quote along a clearing's legs (one pool here: the pool's own quote), as
    the batch engine narrows an AMM-balanced price to one step of the grid with it: the
    bisection alone leaves the pool paying about ``2**-36`` of the price beyond the users'
    price, which the checks reject as undeclared surplus."""
    return lambda legs: _quote(pool)


def _spots(pool: ConstantProductPool) -> tuple[Fraction, Fraction]:
    return (
        Fraction(pool.spot_price(TokenAddress(A), TokenAddress(B))),
        Fraction(pool.spot_price(TokenAddress(B), TokenAddress(A))),
    )


def _sell(
    key: int,
    sell: TokenAddress,
    buy: TokenAddress,
    amount: int,
    limit: int,
    *,
    partial: bool = False,
) -> Offer:
    return Offer(key, sell, buy, amount, limit, True, partial, amount)


def _buy(
    key: int,
    sell: TokenAddress,
    buy: TokenAddress,
    limit: int,
    amount: int,
    *,
    partial: bool = False,
) -> Offer:
    return Offer(key, sell, buy, limit, amount, False, partial, amount)


def _assert_sound(clearing: Clearing, offers: Sequence[Offer]) -> None:
    """Re-derive everything the contract would compute, independently of the module."""
    prices = clearing.prices
    keys = [f.offer.key for f in clearing.fills]
    assert len(keys) == len(set(keys)), "an order is filled twice"
    assert all(f.offer in offers for f in clearing.fills)
    balance: dict[TokenAddress, int] = {}
    for fill in clearing.fills:
        o = fill.offer
        p_sell, p_buy = prices[o.sell], prices[o.buy]
        assert p_sell > 0 and p_buy > 0
        assert o.sell_amount * p_sell >= o.buy_amount * p_buy, "contract limit check"
        assert 0 < fill.executed <= o.remaining
        if not o.partially_fillable:
            assert fill.executed == o.remaining, "fill-or-kill filled partially"
        if o.is_sell:
            assert fill.sell == fill.executed
            assert fill.buy == (fill.executed * p_sell + p_buy - 1) // p_buy  # ceilDiv
        else:
            assert fill.buy == fill.executed
            assert fill.sell == fill.executed * p_buy // p_sell  # div
        # the realised rate (fee included) is at least the signed limit rate
        assert fill.buy * o.sell_amount >= o.buy_amount * (fill.sell + fill.fee)
        balance[o.sell] = balance.get(o.sell, 0) + fill.sell + fill.fee
        balance[o.buy] = balance.get(o.buy, 0) - fill.buy
    for swap in clearing.swaps:
        balance[swap.token_in] = balance.get(swap.token_in, 0) - swap.amount_in
        balance[swap.token_out] = balance.get(swap.token_out, 0) + swap.amount_out
    assert all(v >= 0 for v in balance.values()), f"settlement short: {balance}"


# -- pairs ----------------------------------------------------------------------------------


def test_opposite_orders_match_at_one_price_and_beat_routing_alone() -> None:
    pool = _pool()
    seller_a = _sell(1, A, B, 10 * E18, 19_000 * E18)  # 10 A for at least 19000 B
    seller_b = _sell(2, B, A, 15_000 * E18, 7 * E18)  # 15000 B for at least 7 A
    book = PairBook(A, B, (seller_a,), (seller_b,))
    spot_ab, spot_ba = _spots(pool)
    clearing = clear_pair(
        book, Fraction(2000), spot_ab, spot_ba, REFERENCE, _quote(pool), along=_along(pool)
    )[0]
    _assert_sound(clearing, book.offers)
    fills = {f.offer.key: f for f in clearing.fills}
    assert set(fills) == {1, 2}
    # one price for the pair: both orders trade at p_a / p_b, in opposite directions
    rate = Fraction(clearing.prices[A], clearing.prices[B])
    assert Fraction(fills[1].buy, fills[1].sell) >= rate
    assert Fraction(fills[2].sell, fills[2].buy) >= rate - Fraction(1, 10**9)
    # each gets more than its own swap on the same pool would give
    alone_1 = pool.amount_out(TokenAddress(A), TokenAddress(B), seller_a.sell_amount)
    alone_2 = pool.amount_out(TokenAddress(B), TokenAddress(A), seller_b.sell_amount)
    assert fills[1].buy > alone_1
    assert fills[2].buy > alone_2
    # only the imbalance went to the AMM, and it traded at (about) the users' price
    (swap,) = clearing.swaps
    assert swap.token_in == A
    assert swap.amount_in < seller_a.sell_amount
    assert abs(Fraction(swap.amount_out, swap.amount_in) / rate - 1) < Fraction(1, 10**6)


def test_pure_cow_without_amm_balances_exactly() -> None:
    seller_a = _sell(1, A, B, 10 * E18, 19_000 * E18)
    seller_b = _sell(2, B, A, 20_000 * E18, 9 * E18)  # limits overlap: 1900 <= p <= 2222
    book = PairBook(A, B, (seller_a,), (seller_b,))
    clearing = clear_pair(book, Fraction(2000), None, None, REFERENCE, None)[0]
    _assert_sound(clearing, book.offers)
    assert not clearing.swaps
    fills = {f.offer.key: f for f in clearing.fills}
    # both fill-or-kill: only the price where 10 A buys exactly 20000 B balances
    assert Fraction(clearing.prices[A], clearing.prices[B]) == 2000
    assert fills[1].buy == 20_000 * E18 and fills[2].buy == 10 * E18
    # exactly: nothing left in the settlement contract, nothing missing
    assert fills[1].sell == fills[2].buy and fills[2].sell == fills[1].buy


def test_non_overlapping_limits_are_not_matched() -> None:
    seller_a = _sell(1, A, B, 10 * E18, 21_000 * E18)  # wants p >= 2100
    seller_b = _sell(2, B, A, 20_000 * E18, 10 * E18)  # wants p <= 2000
    book = PairBook(A, B, (seller_a,), (seller_b,))
    assert clear_pair(book, Fraction(2000), None, None, REFERENCE, None) == []


def test_partially_fillable_side_is_trimmed_fill_or_kill_is_whole() -> None:
    fok = _sell(1, A, B, 10 * E18, 19_000 * E18)
    partial = _sell(2, B, A, 30_000 * E18, 14 * E18, partial=True)  # p <= 2142.8
    book = PairBook(A, B, (fok,), (partial,))
    clearing = clear_pair(book, Fraction(2000), None, None, REFERENCE, None)[0]
    _assert_sound(clearing, book.offers)
    fills = {f.offer.key: f for f in clearing.fills}
    assert fills[1].executed == fok.remaining
    assert 0 < fills[2].executed < partial.remaining
    # the same two orders both fill-or-kill cannot balance at any price inside the limits
    both_fok = PairBook(A, B, (fok,), (_sell(2, B, A, 30_000 * E18, 14 * E18),))
    assert clear_pair(both_fok, Fraction(2000), None, None, REFERENCE, None) == []


def test_buy_orders_pay_rounded_down_and_balance() -> None:
    buyer_b = _buy(1, A, B, 11 * E18, 20_000 * E18)  # pays at most 11 A for 20000 B
    buyer_a = _buy(2, B, A, 21_000 * E18, 10 * E18)  # pays at most 21000 B for 10 A
    book = PairBook(A, B, (buyer_b,), (buyer_a,))
    clearing = clear_pair(book, Fraction(2000), None, None, REFERENCE, None)[0]
    _assert_sound(clearing, book.offers)
    assert {f.offer.key for f in clearing.fills} == {1, 2}


# -- rings ----------------------------------------------------------------------------------


def test_three_token_ring_clears() -> None:
    # A -> B at >= 1900 B/A, B -> C at >= 0.24 C/B, C -> A at >= 1/520 A/C:
    # product of limits 1900 * 0.24 / 520 < 1, so the ring has slack to share
    ab = _sell(1, A, B, 2 * E18, 3_800 * E18, partial=True)
    bc = _sell(2, B, C, 5_000 * E18, 1_200 * E18, partial=True)
    ca = _sell(3, C, A, 1_000 * E18, E18 * 1_000 // 520, partial=True)
    clearing = clear_ring([A, B, C], [[ab], [bc], [ca]], REFERENCE)[0]
    _assert_sound(clearing, [ab, bc, ca])
    assert {f.offer.key for f in clearing.fills} == {1, 2, 3}
    assert set(clearing.prices) == {A, B, C}


def test_ring_without_slack_is_not_cleared() -> None:
    ab = _sell(1, A, B, E18, 2_100 * E18, partial=True)
    bc = _sell(2, B, C, 2_100 * E18, 525 * E18, partial=True)
    ca = _sell(3, C, A, 525 * E18, 2 * E18, partial=True)  # 2100 * 0.25 * 2/525 = 2 > 1
    assert clear_ring([A, B, C], [[ab], [bc], [ca]], REFERENCE) == []


# -- properties -----------------------------------------------------------------------------


@st.composite
def _offers(draw: st.DrawFn, sell: TokenAddress, buy: TokenAddress, first: int) -> list[Offer]:
    """Orders priced within a few percent of the reference rate, either kind and mode."""
    count = draw(st.integers(1, 3))
    rate = Fraction(REFERENCE[sell], REFERENCE[buy])  # buy units per sell unit
    offers = []
    for i in range(count):
        sell_amount = draw(st.integers(10**15, 50 * E18))
        bp = draw(st.integers(-300, 300))
        buy_amount = max(int(sell_amount * rate * (10_000 + bp) / 10_000), 1)
        is_sell = draw(st.booleans())
        partial = draw(st.booleans())
        remaining = sell_amount if is_sell else buy_amount
        remaining = draw(st.integers(remaining // 100, remaining)) if partial else remaining
        offers.append(
            Offer(first + i, sell, buy, sell_amount, buy_amount, is_sell, partial, remaining)
        )
    return offers


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    forward=_offers(A, B, 0),
    backward=_offers(B, A, 10),
    depth=st.integers(1, 5000),
    with_amm=st.booleans(),
)
def test_pair_clearings_are_sound(
    forward: list[Offer], backward: list[Offer], depth: int, with_amm: bool
) -> None:
    pool = _pool(depth * E18, depth * 2000 * E18)
    book = PairBook(A, B, tuple(forward), tuple(backward))
    spot_ab, spot_ba = _spots(pool)
    clearings = clear_pair(
        book, Fraction(2000), spot_ab, spot_ba, REFERENCE, _quote(pool) if with_amm else None
    )
    for clearing in clearings:  # every candidate offered to the engine is sound
        _assert_sound(clearing, book.offers)
        assert {f.offer.sell for f in clearing.fills} == {A, B}
        for swap in clearing.swaps:  # AMM legs are the pool's exact math
            assert swap.amount_out == pool.amount_out(swap.token_in, swap.token_out, swap.amount_in)


@settings(max_examples=60, deadline=None)
@given(ab=_offers(A, B, 0), bc=_offers(B, C, 10), ca=_offers(C, A, 20))
def test_ring_clearings_are_sound(ab: list[Offer], bc: list[Offer], ca: list[Offer]) -> None:
    for clearing in clear_ring([A, B, C], [ab, bc, ca], REFERENCE):
        _assert_sound(clearing, [*ab, *bc, *ca])
        assert {f.offer.sell for f in clearing.fills} == {A, B, C}
        assert not clearing.swaps


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(10**16, 40 * E18), min_size=2, max_size=4),
    spreads=st.lists(st.integers(30, 300), min_size=4, max_size=4),
    depth=st.integers(50, 5000),
)
def test_amm_balanced_pairs_are_sound_and_beat_the_pool(
    sizes: list[int], spreads: list[int], depth: int
) -> None:
    """Partially fillable sell orders on both sides below the market: a CoW always exists
    (a pure one, trimmed, if not with the pool), and whatever is chosen is sound; the long
    side's excess goes to the pool and the users' price is never worse than the pool's
    rate for that excess."""
    pool = _pool(depth * E18, depth * 2000 * E18)
    forward = [
        _sell(i, A, B, size, size * 2000 * (10_000 - spreads[i % 4]) // 10_000, partial=True)
        for i, size in enumerate(sizes[: len(sizes) // 2])
    ]
    backward = [
        _sell(
            10 + i,
            B,
            A,
            size * 2000,
            size * (10_000 - spreads[(i + 2) % 4]) // 10_000,
            partial=True,
        )
        for i, size in enumerate(sizes[len(sizes) // 2 :])
    ]
    book = PairBook(A, B, tuple(forward), tuple(backward))
    spot_ab, spot_ba = _spots(pool)
    clearings = clear_pair(
        book, Fraction(2000), spot_ab, spot_ba, REFERENCE, _quote(pool), along=_along(pool)
    )
    assert clearings, "overlapping limits around the market must clear"
    for clearing in clearings:
        _assert_sound(clearing, book.offers)
        rate = Fraction(clearing.prices[A], clearing.prices[B])
        for swap in clearing.swaps:
            assert swap.amount_out == pool.amount_out(swap.token_in, swap.token_out, swap.amount_in)
            pool_rate = Fraction(swap.amount_out, swap.amount_in)
            users = rate if swap.token_in == A else 1 / rate
            assert users <= pool_rate  # the AMM leg pays for the users' side of the excess


def test_an_amm_balanced_pair_capped_by_the_short_sides_limit_keeps_nothing() -> None:
    """The long side's excess sold on the pool at a price the short side's limit caps
    below the pool's own rate: the pool pays more than the users' uniform price hands
    out, and the settlement would keep it (``solver.checks``: ``UndeclaredSurplus``).
    Every clearing offered gives the users what the pools pay, up to rounding."""
    pool = _pool()
    seller_a = _sell(1, A, B, 10 * E18, 19_000 * E18)  # the long side: 10 A, >= 1900 B/A
    # the short side, fill-or-kill: 1000 B for at least 0.52 A, at most ~1923 B per A,
    # below the pool's ~1980 B per A for the 9.5 A of excess
    seller_b = _sell(2, B, A, 1000 * E18, 52 * E18 // 100)
    book = PairBook(A, B, (seller_a,), (seller_b,))
    spot_ab, spot_ba = _spots(pool)
    clearings = clear_pair(
        book, Fraction(2000), spot_ab, spot_ba, REFERENCE, _quote(pool), along=_along(pool)
    )
    for clearing in clearings:
        _assert_sound(clearing, book.offers)
        prices = clearing.prices
        kept = {A: 0, B: 0}
        for fill in clearing.fills:
            kept[fill.offer.sell] += fill.sell
            kept[fill.offer.buy] -= fill.buy
        for swap in clearing.swaps:
            kept[swap.token_in] -= swap.amount_in
            kept[swap.token_out] += swap.amount_out
        value = sum(kept[t] * prices[t] for t in kept)
        units = sum(prices[f.offer.sell] + prices[f.offer.buy] for f in clearing.fills)
        units += sum(prices[s.token_in] + prices[s.token_out] for s in clearing.swaps)
        assert value <= 2 * units, f"{clearing.notes}: keeps {kept}"
