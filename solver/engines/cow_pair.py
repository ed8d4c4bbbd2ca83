"""Coincidence-of-wants clearing of a **pair** (orders both ways between A and B): the
candidate clearings ``clear_pair`` ranks, most user surplus first. The core (offers, fills,
exact execution, balancing) is ``solver.engines.cow``.

Any clearing needs overlapping limits (``may_clear``): every order of a side trades at the
same price. With AMMs, the long side's excess is sold on them at the price nearest that
side's market at which the AMM output still covers the short token (there the AMM trades
at the users' price), found by bisection on exact integers. Without AMMs, a pure CoW at
prices between the limits, the markets and the reference price, trimmed to balance.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from routing.pool import TokenAddress
from solver.engines.cow import (
    REFINE_STEPS,
    AmmQuote,
    Clearing,
    Offer,
    _ranked,
    _ratio_grid,
    _round_ratio,
    _snap,
    balance,
    execute,
    fill_respects_limit,
    is_valid,
    limit_holds,
    may_clear,
    net_flows,
    prices_of,
)


@dataclass(frozen=True, slots=True)
class PairBook:
    """The orders between two tokens: ``forward`` sell ``a`` for ``b``, ``backward`` the
    opposite way."""

    a: TokenAddress
    b: TokenAddress
    forward: tuple[Offer, ...]
    backward: tuple[Offer, ...]

    @property
    def offers(self) -> tuple[Offer, ...]:
        return self.forward + self.backward


def _limit_ratio(offer: Offer, a: TokenAddress) -> Fraction:
    """The price (``b`` per ``a``) at which ``offer``'s limit is exactly met: a forward
    offer needs at least it, a backward one at most it."""
    if offer.sell == a:
        return Fraction(offer.buy_amount, offer.sell_amount)
    return Fraction(offer.sell_amount, offer.buy_amount)


def _with_amm(book: PairBook, ratio: Fraction, quote: AmmQuote) -> Clearing | None:
    """All offers whose limit holds at ``ratio`` filled fully; the long token's excess sold
    on the AMMs; ``None`` unless every token balances."""
    prices = prices_of(ratio, book.a, book.b)
    offers = [o for o in book.offers if o.remaining > 0 and limit_holds(o, prices)]
    fills = [f for f in (execute(o, o.remaining, prices) for o in offers) if fill_respects_limit(f)]
    if {f.offer.sell for f in fills} != {book.a, book.b}:
        return None  # one side alone is routing, not a coincidence of wants
    flows = net_flows(fills)
    long, short = (book.a, book.b) if flows.get(book.a, 0) > 0 else (book.b, book.a)
    excess, deficit = flows.get(long, 0), -flows.get(short, 0)
    if deficit <= 0:
        return Clearing(prices, tuple(fills)) if excess >= 0 else None
    answer = quote(long, short, excess)
    if answer is None or answer[1] < deficit:
        return None
    swaps, _, gas = answer
    return Clearing(prices, tuple(fills), swaps, gas, ("CoW with the remainder on AMMs",))


def _pure_ratio(book: PairBook, ratio: Fraction) -> Fraction | None:
    """The price at which the offers whose limit holds at ``ratio`` balance without AMMs
    (value in equals value out for ``a``), or ``None`` if no positive one exists."""
    prices = prices_of(ratio, book.a, book.b)
    a_fixed = Fraction(0)  # a paid in (forward sell) minus a paid out (backward buy)
    b_fixed = Fraction(0)  # b paid in (backward sell) minus b paid out (forward buy)
    for o in book.offers:
        if o.remaining <= 0 or not limit_holds(o, prices):
            continue
        if o.sell == book.a:
            if o.is_sell:
                a_fixed += o.remaining
            else:
                b_fixed -= o.remaining
        elif o.is_sell:
            b_fixed += o.remaining
        else:
            a_fixed -= o.remaining
    # balance: a_fixed * p == b_fixed  (a's net value in b units is zero)
    if a_fixed <= 0 or b_fixed <= 0:
        return None
    return b_fixed / a_fixed


def clear_pair(
    book: PairBook,
    reference_ratio: Fraction,
    spot_ab: Fraction | None,
    spot_ba: Fraction | None,
    reference: Mapping[TokenAddress, int],
    quote: AmmQuote | None,
    refine: AmmQuote | None = None,
) -> list[Clearing]:
    """Valid clearings of a pair, most user surplus first (empty if none).

    ``reference_ratio`` is ``b`` per ``a`` by reference prices; ``spot_ab`` the AMMs' best
    marginal rate selling ``a`` (``b`` per ``a``), ``spot_ba`` selling ``b``. Candidates:
    the AMM-balanced price, bisected between the pure-CoW price and the market price of the
    long side, and pure CoWs (trimmed partial fills) at the limits' overlap and its ends."""
    if not may_clear([book.forward, book.backward]):
        return []
    candidates: list[Clearing] = []
    pure = _pure_ratio(book, reference_ratio)
    if quote is not None and spot_ab and spot_ba:
        for a_is_long in (True, False):  # the long side is not known before the price
            # the long side's market, but no further than the short side's loosest limit
            if a_is_long:
                market = min(spot_ab, max(_limit_ratio(o, book.a) for o in book.backward))
            else:
                market = max(1 / spot_ba, min(_limit_ratio(o, book.a) for o in book.forward))
            found = _amm_balanced(book, market, a_is_long, quote, refine)
            if found is not None:
                candidates.append(found)
    # prices where some order of each side can trade: between the loosest limits
    lo = min(_limit_ratio(o, book.a) for o in book.forward)
    hi = max(_limit_ratio(o, book.a) for o in book.backward)
    marks = sorted({_limit_ratio(o, book.a) for o in book.offers} | {lo, hi})
    marks = [m for m in marks if lo <= m <= hi]
    points = set(marks) | {(x + y) / 2 for x, y in itertools.pairwise(marks)}
    # the market (each direction's AMM rate, and their middle) and the reference price
    markets = [m for m in (spot_ab, 1 / spot_ba if spot_ba else None) if m]
    if len(markets) == 2:
        markets.append((markets[0] + markets[1]) / 2)
    points |= {min(max(m, lo), hi) for m in (reference_ratio, *markets)}
    if pure is not None:
        points.add(pure)
    snapped = {_round_ratio(_snap(r, lo, hi)) for r in points if lo <= r <= hi}
    # a fill-or-kill order converts exactly only at prices made of its own amounts
    whole = [o for o in book.offers if not o.partially_fillable]
    exact = {_exact_for(o, r, book.a) for o in whole for r in snapped}
    for ratio in snapped | {r for r in exact if lo <= r <= hi}:
        prices = prices_of(ratio, book.a, book.b)
        fills = balance([book.forward, book.backward], prices)
        if fills:
            candidates.append(Clearing(prices, fills, notes=("pure CoW",)))
    return _ranked(candidates, reference)


def _exact_for(offer: Offer, ratio: Fraction, a: TokenAddress) -> Fraction:
    """The price next to ``ratio`` (``b`` per ``a``) at which executing all of ``offer``
    converts without rounding: its own amount over its proceeds (or payment)."""
    amount = offer.remaining
    forward = offer.sell == a
    if offer.is_sell:  # receives amount * p_sell / p_buy, rounded up
        other = math.ceil(amount * ratio) if forward else math.ceil(amount / ratio)
        return Fraction(other, amount) if forward else Fraction(amount, max(other, 1))
    # a buy order pays amount * p_buy / p_sell, rounded down
    other = math.floor(amount / ratio) if forward else math.floor(amount * ratio)
    return Fraction(amount, max(other, 1)) if forward else Fraction(other, amount)


def _amm_balanced(
    book: PairBook,
    market: Fraction,
    a_is_long: bool,
    quote: AmmQuote,
    refine: AmmQuote | None = None,
) -> Clearing | None:
    """Bisect between a pure-CoW price and the long side's market price for the price
    nearest the market at which the AMMs still balance the long side's excess.

    The offers are those whose limit holds at the market. At the market the excess sold
    on the AMMs returns less than the market rate (fee and slippage), so the short token
    ends short; at the pure price (moved inside the long side's limits) the excess is
    smallest. The last feasible price from the market end is where the AMM trades at the
    users' price."""
    pure = _pure_ratio(book, market)
    if pure is None:
        return None
    prices = prices_of(market, book.a, book.b)
    long_side = book.forward if a_is_long else book.backward
    bounds = [_limit_ratio(o, book.a) for o in long_side if limit_holds(o, prices)]
    if not bounds:
        return None
    start = max(pure, *bounds) if a_is_long else min(pure, *bounds)
    if (start >= market) if a_is_long else (start <= market):
        return None  # no excess left for the AMMs at the market: a pure CoW
    shift = max(_ratio_grid(market), _ratio_grid(start))
    scale = 1 << shift
    good = math.ceil(start * scale) if a_is_long else math.floor(start * scale)
    bad = math.floor(market * scale) if a_is_long else math.ceil(market * scale)
    best: Clearing | None = None
    for k in (bad, good):
        found = _with_amm(book, Fraction(k, scale), quote)
        if found is not None and is_valid(found):
            if k == bad:
                return found
            best = found
    market_k = bad
    good, best = _bisect(book, quote, scale, good, bad, best, 48)
    if refine is not None and best is not None:  # a better, slower quote: nearer the market
        good, best = _bisect(book, refine, scale, good, market_k, best, REFINE_STEPS)
    return best


def _bisect(
    book: PairBook,
    quote: AmmQuote,
    scale: int,
    good: int,
    bad: int,
    best: Clearing | None,
    steps: int,
) -> tuple[int, Clearing | None]:
    """Move ``good`` toward ``bad`` while feasible (``best``: the clearing at ``good``, if
    it is feasible)."""
    for _ in range(steps):
        if abs(bad - good) <= max(abs(bad) >> 36, 1):
            break
        mid = (good + bad) // 2
        found = _with_amm(book, Fraction(mid, scale), quote)
        if found is not None and is_valid(found):
            good, best = mid, found
        else:
            bad = mid
    return good, best
