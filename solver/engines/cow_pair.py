"""Coincidence-of-wants clearing of a **pair** (orders both ways between A and B): the
candidate clearings ``clear_pair`` ranks, most user surplus first. The core (offers, fills,
exact execution, balancing) is ``solver.engines.cow``.

Any clearing needs overlapping limits (``may_clear``): every order of a side trades at the
same price. With AMMs, the long side's excess is sold on them at the price nearest that
side's market at which the AMM output still covers the short token (there the AMM trades
at the users' price), found by bisection on exact integers. Without AMMs, a pure CoW at
prices between the limits (each with and without the order's fee), the markets and the
reference price, trimmed to balance; and every order executed whole inside the window of
prices where all limits hold with their fees and both tokens balance (``clear_whole``:
fill-or-kill pairs, perfect matches), for the whole book and for each forward-backward
pair of orders (``clear_whole_pairs``, each pair charged its fees as a group of two).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from routing.pool import TokenAddress
from routing.route import Leg
from solver.engines.cow import (
    _PRICE_BITS,
    REFINE_STEPS,
    AmmQuote,
    Clearing,
    Offer,
    _ratio_grid,
    _round_ratio,
    _snap,
    balance,
    execute,
    fill_respects_limit,
    is_valid,
    keeps_surplus,
    limit_holds,
    may_clear,
    net_flows,
    prices_of,
    ranked,
    simplest_between,
)

Along = Callable[[Sequence[Leg]], AmmQuote]
"""A clearing's AMM legs -> the exact quote along those legs for any amount."""

EXACT_STEPS = 2 * _PRICE_BITS
"""Bisection steps along the found legs (``along``): from ``2**-36`` of the price to one
step of its grid of about ``_PRICE_BITS`` bits."""
MAX_WHOLE_PAIRS = 64
"""Forward-backward order pairs ``clear_whole_pairs`` tries to match whole."""


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


def _fee_mark(offer: Offer, a: TokenAddress) -> Fraction | None:
    """The price (``b`` per ``a``) at which ``offer`` executed in full meets its limit with
    its fee included (rounding aside): a forward offer needs at least it, a backward one at
    most it; ``None`` if no price does."""
    e, f, s, b = offer.remaining, offer.fee, offer.sell_amount, offer.buy_amount
    forward = offer.sell == a
    if offer.is_sell:  # pays e + f, receives e at the price
        return Fraction(b * (e + f), s * e) if forward else Fraction(s * e, b * (e + f))
    # receives e, pays e at the price plus f: worth e * s / b in the sell token at most
    budget = e * s - f * b
    if budget <= 0:
        return None
    return Fraction(e * b, budget) if forward else Fraction(budget, e * b)


def _window(book: PairBook, rounding: bool) -> tuple[Fraction, Fraction] | None:
    """The prices (``b`` per ``a``) at which every offer executed in full meets its limit
    with its fee and both tokens balance without AMMs; with ``rounding``, each execution's
    rounding is assumed against the settlement (one unit per rounded amount), which makes
    the window safe but can close it when roundings happen to be exact."""
    lo, hi = Fraction(0), None
    for offer in book.offers:
        mark = _fee_mark(offer, book.a)
        if mark is None:
            return None
        limit = _limit_ratio(offer, book.a)
        if offer.sell == book.a:
            lo = max(lo, mark, limit)
        else:
            hi = min(mark, limit) if hi is None else min(hi, mark, limit)
    # token a: forward payments (sell orders e + f, buy orders e / r + f) cover what the
    # backward orders receive (sell orders e / r, buy orders e): a0 + a1 / r >= 0
    a0 = a1 = b0 = b1 = Fraction(0)
    for o in book.offers:
        cost = 1 if rounding else 0
        if o.sell == book.a:
            if o.is_sell:  # pays e + f of a, receives ceil(e r) of b
                a0 += o.remaining + o.fee
                b1 -= o.remaining
                b0 -= cost
            else:  # receives e of b, pays floor(e / r) + f of a
                a1 += o.remaining
                a0 += o.fee - cost
                b0 -= o.remaining
        elif o.is_sell:  # pays e + f of b, receives ceil(e / r) of a
            b0 += o.remaining + o.fee
            a1 -= o.remaining
            a0 -= cost
        else:  # receives e of a, pays floor(e r) + f of b
            b1 += o.remaining
            b0 += o.fee - cost
            a0 -= o.remaining
    # a0 + a1 x >= 0 with x = 1 / r, and b0 + b1 r >= 0
    for const, slope, inverse in ((a0, a1, True), (b0, b1, False)):
        if slope == 0:
            if const < 0:
                return None
            continue
        root = -const / slope
        if inverse:  # on x = 1 / r
            if slope > 0 and root > 0:
                hi = 1 / root if hi is None else min(hi, 1 / root)
            elif slope < 0:
                if root <= 0:
                    return None
                lo = max(lo, 1 / root)
        elif slope > 0:
            lo = max(lo, root)
        else:
            if root <= 0:
                return None
            hi = root if hi is None else min(hi, root)
    if hi is None or lo <= 0 or lo > hi:
        return None
    return lo, hi


def clear_whole(book: PairBook, reference_ratio: Fraction | None = None) -> list[Clearing]:
    """Every offer of ``book`` executed in full as a pure CoW (fill-or-kill pairs, perfect
    matches: one side sells what the other buys): prices inside the window where every
    limit holds with its fee and both tokens balance (``_window``, with and without
    assuming the roundings against the settlement): the simplest fraction, the reference
    price moved inside and the window's middle; the valid clearings, unranked."""
    if not book.forward or not book.backward:
        return []
    candidates: list[Clearing] = []
    for rounding in (True, False):
        window = _window(book, rounding)
        if window is None:
            continue
        lo, hi = window
        ratios = {simplest_between(lo, hi), (lo + hi) / 2}
        if reference_ratio:
            ratios.add(_snap(min(max(reference_ratio, lo), hi), lo, hi))
        for ratio in ratios:
            prices = prices_of(_round_ratio(ratio), book.a, book.b)
            fills = tuple(execute(o, o.remaining, prices) for o in book.offers)
            clearing = Clearing(prices, fills, notes=("pure CoW, every order whole",))
            if is_valid(clearing):
                candidates.append(clearing)
    return candidates


def clear_whole_pairs(
    book: PairBook,
    reference_ratio: Fraction,
    reference: Mapping[TokenAddress, int],
    charge: Callable[[Sequence[Offer]], Sequence[Offer]],
    *,
    whole: bool = True,
) -> list[Clearing]:
    """Fill-or-kill pairs and perfect matches among the book's orders: each forward offer
    with each backward one (at most ``MAX_WHOLE_PAIRS``, loosest limits first), both
    executed in full (``clear_whole``) after ``charge`` has charged them their fees for a
    settlement of just the two, and with ``whole`` the book itself, every order executed
    in full (as charged); valid clearings, most user surplus first."""
    forward = sorted(book.forward, key=lambda o: _limit_ratio(o, book.a))
    backward = sorted(book.backward, key=lambda o: -_limit_ratio(o, book.a))
    candidates = clear_whole(book, reference_ratio) if whole else []
    for one, other in itertools.islice(itertools.product(forward, backward), MAX_WHOLE_PAIRS):
        charged = charge([one, other])
        pair = PairBook(
            book.a,
            book.b,
            tuple(o for o in charged if o.sell == book.a),
            tuple(o for o in charged if o.sell == book.b),
        )
        candidates += clear_whole(pair, reference_ratio)
    return ranked(candidates, reference)


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
    along: Along | None = None,
) -> list[Clearing]:
    """Valid clearings of a pair, most user surplus first (empty if none).

    ``reference_ratio`` is ``b`` per ``a`` by reference prices; ``spot_ab`` the AMMs' best
    marginal rate selling ``a`` (``b`` per ``a``), ``spot_ba`` selling ``b``. Candidates:
    the AMM-balanced price, bisected between the pure-CoW price and the market price of the
    long side, and pure CoWs (trimmed partial fills) at the limits' overlap and its ends;
    ``along`` (a clearing's legs -> a quote along them) narrows the AMM-balanced price to
    one step of the price grid, so the AMMs' output goes to the users, not the settlement."""
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
            found = _amm_balanced(book, market, a_is_long, quote, refine, along)
            if found is not None:
                candidates.append(found)
    # prices where some order of each side can trade: between the loosest limits
    lo = min(_limit_ratio(o, book.a) for o in book.forward)
    hi = max(_limit_ratio(o, book.a) for o in book.backward)
    # each order's own limit, and where it holds with its fee on a full fill
    fee_marks = {m for o in book.offers if (m := _fee_mark(o, book.a)) is not None}
    marks = sorted({_limit_ratio(o, book.a) for o in book.offers} | fee_marks | {lo, hi})
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
    candidates += clear_whole(book, reference_ratio)
    return ranked(candidates, reference)


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
    along: Along | None = None,
) -> Clearing | None:
    """Bisect between a pure-CoW price and the long side's market price for the price
    nearest the market at which the AMMs still balance the long side's excess.

    The offers are those whose limit holds at the market. At the market the excess sold
    on the AMMs returns less than the market rate (fee and slippage), so the short token
    ends short; at the pure price (moved inside the long side's limits) the excess is
    smallest. The last feasible price from the market end is where the AMM trades at the
    users' price. The bisection stops within 2**-36 of the price; with ``along``, the
    found legs are replayed at the prices beyond (exact pool math, no routing) down to one
    step of the grid, where what the AMMs pay beyond the deficit is a few base units."""
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
                return None if keeps_surplus(found) else found
            best = found
    market_k = bad
    good, best = _bisect(book, quote, scale, good, bad, best, 48)
    if refine is not None and best is not None:  # a better, slower quote: nearer the market
        good, best = _bisect(book, refine, scale, good, market_k, best, REFINE_STEPS)
    if along is not None and best is not None and best.swaps:
        good, best = _bisect(
            book, along(best.swaps), scale, good, market_k, best, EXACT_STEPS, precision=None
        )
    # the AMMs pay more than the users' price hands out (the price stopped at the short
    # side's limit, short of the market): no uniform price gives the users what the pools
    # pay, and the settlement would keep it undeclared
    return None if best is None or keeps_surplus(best) else best


def _bisect(
    book: PairBook,
    quote: AmmQuote,
    scale: int,
    good: int,
    bad: int,
    best: Clearing | None,
    steps: int,
    precision: int | None = 36,
) -> tuple[int, Clearing | None]:
    """Move ``good`` toward ``bad`` while feasible (``best``: the clearing at ``good``, if
    it is feasible), until they are within ``2**-precision`` of ``bad`` (``None``: one step
    of the grid)."""
    for _ in range(steps):
        if abs(bad - good) <= max(abs(bad) >> precision if precision else 0, 1):
            break
        mid = (good + bad) // 2
        found = _with_amm(book, Fraction(mid, scale), quote)
        if found is not None and is_valid(found):
            good, best = mid, found
        else:
            bad = mid
    return good, best
