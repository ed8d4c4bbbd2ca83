"""Coincidence-of-wants clearing: orders matched against each other at one uniform price
per token, the net imbalance swapped on AMMs, everything exact with GPv2's rounding.

The pure core of the ``batch`` engine. A clearing is a price vector (integers, one per
token) and one fill per order; ``GPv2Settlement.computeTradeExecution`` fixes the amounts:

* a sell order executing ``s`` pays ``s`` (+ its fee) and receives ``ceil(s * p_sell / p_buy)``;
* a buy order executing ``b`` receives ``b`` and pays ``floor(b * p_buy / p_sell)`` (+ fee);
* its limit holds iff ``sell_amount * p_sell >= buy_amount * p_buy`` (the contract's check)
  and, with a fee charged from the sell token, the fee-inclusive rate still meets the limit.

Rounding favours the users, so the settlement contract must end each token with a
non-negative balance: users' inflows plus AMM outputs cover payouts plus AMM inputs.

Two shapes are cleared, each into a list of candidate clearings (most user surplus first;
the engine keeps the first that beats routing alone):

* a **pair** (orders both ways between A and B): ``solver.engines.cow_pair``;
* a **ring** of three tokens (A->B, B->C, C->A), as a pure CoW: prices split the ring's
  limit slack evenly (or give it to one hop), volumes are trimmed to the smallest hop.

At uniform prices every user trade is value neutral up to rounding in the user's favour,
so a pure CoW balances only if the fills convert exactly or the cycle has slack to pay the
roundings with (solver fees stay in the settlement): partial fills are whole *lots*,
prices are snapped to the simplest nearby fraction (small lots), and a fill-or-kill order
is also tried at the price made of its own amounts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

from routing.pool import TokenAddress
from routing.route import Leg
from solver.kept import ROUNDING_UNITS
from solver.model import trade_execution

PRICE_UNIT = 10**18
"""Reference prices are native wei for ``10**18`` base units (CoW's ``referencePrice``)."""

_PRICE_BITS = 96
"""Bisection resolution: candidate prices are ``k / 2**shift`` with ``k`` near ``2**96``."""

_UINT256 = 1 << 256

REFINE_STEPS = 12
"""Bisection steps with the refining AMM quote, after the cheap quote's bisection."""

_SNAP = Fraction(1, 10**5)
"""Pure-CoW prices move at most this (0.1 bp) to the simplest nearby fraction."""


@dataclass(frozen=True, slots=True)
class Offer:
    """One order as the matcher sees it.

    ``sell_amount``/``buy_amount`` are the signed limit amounts; ``remaining`` is what may
    still be executed (sell units for a sell order, buy units for a buy order, fee
    excluded); ``fee`` is charged in the sell token on any fill, full or partial: a
    trade's gas does not depend on its size (CoW's baseline charges it so too)."""

    key: int
    sell: TokenAddress
    buy: TokenAddress
    sell_amount: int
    buy_amount: int
    is_sell: bool
    partially_fillable: bool
    remaining: int
    fee: int = 0


def with_fee(offer: Offer, fee: int) -> Offer | None:
    """``offer`` charged ``fee`` instead of its current one: a sell order's fee comes out of
    what is left to sell; ``None`` if nothing is left to execute."""
    remaining = offer.remaining
    if offer.is_sell:
        remaining += offer.fee - fee
    if remaining <= 0 or fee < 0:
        return None
    return replace(offer, remaining=remaining, fee=fee)


@dataclass(frozen=True, slots=True)
class OfferFill:
    """An offer executed at the clearing prices: ``executed`` in the order's own units,
    ``sell`` paid by the user (fee excluded), ``buy`` received, ``fee`` in the sell token."""

    offer: Offer
    executed: int
    sell: int
    buy: int
    fee: int


@dataclass(frozen=True, slots=True)
class Clearing:
    """Uniform prices, fills and AMM swaps that balance every token."""

    prices: Mapping[TokenAddress, int]
    fills: tuple[OfferFill, ...]
    swaps: tuple[Leg, ...] = ()
    gas: int = 0
    notes: tuple[str, ...] = ()


AmmQuote = Callable[[TokenAddress, TokenAddress, int], tuple[tuple[Leg, ...], int, int] | None]
"""``(sell, buy, amount_in) -> (swaps, amount_out, gas)`` or ``None``: exact AMM output for
selling ``amount_in``; must be cheap (called during bisection)."""


# -- GPv2 trade execution ----------------------------------------------------------------


def limit_holds(offer: Offer, prices: Mapping[TokenAddress, int]) -> bool:
    """``GPv2Settlement``'s limit check: ``sellAmount * p_sell >= buyAmount * p_buy``."""
    return offer.sell_amount * prices[offer.sell] >= offer.buy_amount * prices[offer.buy]


def execute(offer: Offer, executed: int, prices: Mapping[TokenAddress, int]) -> OfferFill:
    """Amounts of executing ``executed`` (order units) as ``computeTradeExecution`` does."""
    sell, buy = trade_execution(offer.is_sell, executed, prices[offer.sell], prices[offer.buy])
    return OfferFill(offer, executed, sell, buy, offer.fee if executed > 0 else 0)


def fill_respects_limit(fill: OfferFill) -> bool:
    """The fee-inclusive rate meets the signed limit: ``buy / (sell + fee) >=
    buy_amount / sell_amount``, and nothing beyond what remains is executed."""
    offer = fill.offer
    return (
        0 < fill.executed <= offer.remaining
        and fill.sell > 0
        and fill.buy > 0
        and fill.buy * offer.sell_amount >= offer.buy_amount * (fill.sell + fill.fee)
    )


def net_flows(fills: Iterable[OfferFill], swaps: Iterable[Leg] = ()) -> dict[TokenAddress, int]:
    """Per token, what the settlement contract keeps: users' payments and fees plus AMM
    outputs, minus payouts and AMM inputs (every value must be ``>= 0``)."""
    flows: dict[TokenAddress, int] = {}
    for f in fills:
        flows[f.offer.sell] = flows.get(f.offer.sell, 0) + f.sell + f.fee
        flows[f.offer.buy] = flows.get(f.offer.buy, 0) - f.buy
    for s in swaps:
        flows[s.token_in] = flows.get(s.token_in, 0) - s.amount_in
        flows[s.token_out] = flows.get(s.token_out, 0) + s.amount_out
    return flows


def surplus(fill: OfferFill, reference: Mapping[TokenAddress, int]) -> Fraction:
    """The user's surplus over the limit price in native wei (CoW: in the buy token for
    sell orders, in the sell token for buy orders), fee included in what was paid."""
    offer = fill.offer
    paid = fill.sell + fill.fee
    if offer.is_sell:
        floor_buy = Fraction(offer.buy_amount * paid, offer.sell_amount)
        return (fill.buy - floor_buy) * reference.get(offer.buy, 0) / PRICE_UNIT
    cap_sell = Fraction(offer.sell_amount * fill.buy, offer.buy_amount)
    return (cap_sell - paid) * reference.get(offer.sell, 0) / PRICE_UNIT


def total_surplus(fills: Iterable[OfferFill], reference: Mapping[TokenAddress, int]) -> Fraction:
    return sum((surplus(f, reference) for f in fills), Fraction(0))


def kept_value(clearing: Clearing) -> Fraction:
    """What the settlement keeps beyond the fees the fills declare, in value at the
    clearing prices (tokens without a clearing price, a route's intermediates, aside):
    an AMM that pays more than the users' uniform price hands them is this."""
    prices = clearing.prices
    kept = net_flows(clearing.fills, clearing.swaps)
    for fill in clearing.fills:
        kept[fill.offer.sell] -= fill.fee
    return Fraction(sum(amount * prices[t] for t, amount in kept.items() if t in prices))


def keeps_surplus(clearing: Clearing) -> bool:
    """Whether ``clearing`` keeps more than exact rounding beyond its fees
    (``kept_value`` over ``solver.kept.ROUNDING_UNITS`` units of every token each fill and
    swap moves): ``solver.checks`` rejects such a settlement (``UndeclaredSurplus``)."""
    prices = clearing.prices
    units = sum(prices[f.offer.sell] + prices[f.offer.buy] for f in clearing.fills)
    units += sum(prices.get(s.token_in, 0) + prices.get(s.token_out, 0) for s in clearing.swaps)
    return kept_value(clearing) > ROUNDING_UNITS * units


def is_valid(clearing: Clearing) -> bool:
    """Every fill within its limit and remaining amount, prices positive, tokens balanced."""
    prices = clearing.prices
    if any(not 0 < p < _UINT256 for p in prices.values()):
        return False
    for fill in clearing.fills:
        offer = fill.offer
        # the contract's SafeMath reverts if a limit or execution product overflows
        widest = max(offer.sell_amount, offer.buy_amount) * max(
            prices[offer.sell], prices[offer.buy]
        )
        if widest >= _UINT256:
            return False
        if not limit_holds(offer, prices) or not fill_respects_limit(fill):
            return False
        if fill != execute(offer, fill.executed, prices):
            return False
        if not offer.partially_fillable and fill.executed != offer.remaining:
            return False
    return all(v >= 0 for v in net_flows(clearing.fills, clearing.swaps).values())


def may_clear(hops: Sequence[Sequence[Offer]]) -> bool:
    """Whether uniform prices can meet some limit on every hop of a cycle (a pair's two
    directions, a ring's three): the product of the hops' loosest limit rates is at most
    one. Necessary for any clearing, with AMMs or without, since every order of a hop
    trades at the same price."""
    product = Fraction(1)
    for hop in hops:
        live = [Fraction(o.buy_amount, o.sell_amount) for o in hop if o.remaining > 0]
        if not live:
            return False
        product *= min(live)
    return product <= 1


# -- balancing by trimming ---------------------------------------------------------------


def lot(offer: Offer, prices: Mapping[TokenAddress, int]) -> int:
    """The step (in the order's units) at which its execution converts exactly: a pure CoW
    has no other source of dust to pay the users' roundings with."""
    p_sell, p_buy = prices[offer.sell], prices[offer.buy]
    g = math.gcd(p_sell, p_buy)
    return p_buy // g if offer.is_sell else p_sell // g


def _fill_hop(
    hop: Sequence[Offer], payout: int, prices: Mapping[TokenAddress, int]
) -> list[OfferFill]:
    """Fills of one hop paying users at most ``payout`` of its buy token: fill-or-kill
    offers whole while they fit (largest first), then partially fillable ones, most
    generous limit first, in whole lots as far as it goes. A whole fill need not convert
    exactly: its rounding is paid from the cycle's slack (fees, other roundings), which
    ``balance`` checks."""
    fills: list[OfferFill] = []
    whole = [execute(o, o.remaining, prices) for o in hop if not o.partially_fillable]
    for fill in sorted(whole, key=lambda f: -f.buy):
        if fill.buy <= payout and fill_respects_limit(fill):
            fills.append(fill)
            payout -= fill.buy
    partial = sorted(
        (o for o in hop if o.partially_fillable),
        key=lambda o: Fraction(o.buy_amount, o.sell_amount),
    )
    for offer in partial:
        step = lot(offer, prices)
        # a lot pays out ``step * p_sell / p_buy`` (sell order) or ``step`` (buy order)
        per_lot = execute(offer, step, prices).buy
        executed = min(payout // per_lot, offer.remaining // step) * step
        if executed <= 0:
            continue
        fill = execute(offer, executed, prices)
        if fill_respects_limit(fill):
            fills.append(fill)
            payout -= fill.buy
    return fills


def balance(
    hops: Sequence[Sequence[Offer]], prices: Mapping[TokenAddress, int]
) -> tuple[OfferFill, ...]:
    """Fill a cycle of hops (a pair's two directions, a ring's three; hop ``i`` sells the
    token hop ``i-1`` buys) as a pure CoW, every token balanced.

    The first hop pays out up to a target value; going backwards round the cycle each hop
    pays out at most what the hop after it paid in; if the first hop then pays out more
    than the second paid in (roundings, a fill-or-kill offer that did not fit), the
    target drops by the shortfall plus one unit of the dearest token and the cycle is
    refilled. The result is empty if no volume balances."""
    live = [[o for o in hop if o.remaining > 0 and limit_holds(o, prices)] for hop in hops]
    if any(not hop for hop in live):
        return ()
    # every exact fill on hop X->Y moves a multiple of lcm(p_X, p_Y) in value
    step = math.lcm(*(math.lcm(prices[h[0].sell], prices[h[0].buy]) for h in live))
    capacity = min(
        sum(execute(o, o.remaining, prices).sell * prices[o.sell] for o in hop) for hop in live
    )
    target = capacity // step * step
    for _ in range(32):
        if target <= 0:
            return ()
        first = live[0][0].buy
        per_hop = [_fill_hop(live[0], target // prices[first], prices)]
        paid_in = sum(f.sell for f in per_hop[0])
        for hop in reversed(live[1:]):
            fills = _fill_hop(hop, paid_in, prices)
            per_hop.append(fills)
            paid_in = sum(f.sell for f in fills)
        flat = [f for fills in per_hop for f in fills]
        short = sum(-v * prices[t] for t, v in net_flows(flat).items() if v < 0)
        if short == 0 and all(per_hop):
            return tuple(flat)
        target -= max(-(-short // step), 1) * step
    return ()


# -- prices ------------------------------------------------------------------------------


def prices_of(ratio: Fraction, a: TokenAddress, b: TokenAddress) -> dict[TokenAddress, int]:
    """Integer prices with ``p_a / p_b == ratio`` (units of ``b`` per unit of ``a``)."""
    return {a: ratio.numerator, b: ratio.denominator}


def simplest_between(lo: Fraction, hi: Fraction) -> Fraction:
    """The fraction with the smallest denominator in ``[lo, hi]`` (``0 < lo <= hi``), by
    continued fractions: small price integers make exact lots small."""
    whole = lo.numerator // lo.denominator
    if whole == lo or whole + 1 <= hi:
        return Fraction(whole if whole == lo else whole + 1)
    return whole + 1 / simplest_between(1 / (hi - whole), 1 / (lo - whole))


def _snap(ratio: Fraction, lo: Fraction, hi: Fraction) -> Fraction:
    """The simplest price within ``_SNAP`` of ``ratio`` and inside ``[lo, hi]``."""
    low, high = max(ratio * (1 - _SNAP), lo), min(ratio * (1 + _SNAP), hi)
    return simplest_between(low, high) if 0 < low <= high else ratio


def _ratio_grid(value: Fraction) -> int:
    """The power-of-two denominator that gives ``value`` about ``_PRICE_BITS`` bits."""
    bits = max(value.numerator.bit_length() - value.denominator.bit_length(), -4096)
    return max(_PRICE_BITS - bits, 0)


# -- pairs -------------------------------------------------------------------------------


def _round_ratio(ratio: Fraction) -> Fraction:
    """``ratio`` itself when its terms are small, else rounded onto a power-of-two grid of
    about ``_PRICE_BITS`` significant bits, so prices times amounts stay far inside
    ``uint256`` (limits are checked again, exactly, at the rounded price)."""
    if max(ratio.numerator, ratio.denominator).bit_length() <= _PRICE_BITS + 32:
        return ratio
    shift = _ratio_grid(ratio)
    return Fraction(max(round(ratio * (1 << shift)), 1), 1 << shift)


def ranked(candidates: Iterable[Clearing], reference: Mapping[TokenAddress, int]) -> list[Clearing]:
    """The valid candidates, most user surplus first, one per price vector."""
    unique = {tuple(sorted(c.prices.items())): c for c in candidates if is_valid(c)}
    return sorted(unique.values(), key=lambda c: -total_surplus(c.fills, reference))


# -- rings -------------------------------------------------------------------------------


def _ring_prices(
    tokens: Sequence[TokenAddress], ratios: Sequence[Fraction]
) -> dict[TokenAddress, int]:
    """Integer prices with ``p[t_i] / p[t_i+1] == ratios[i]`` for the first two hops (the
    third hop's ratio follows)."""
    a, b, c = tokens
    p_a = Fraction(1)
    p_b = p_a / ratios[0]
    p_c = p_b / ratios[1]
    denominator = math.lcm(p_a.denominator, p_b.denominator, p_c.denominator)
    values = [int(p * denominator) for p in (p_a, p_b, p_c)]
    common = math.gcd(*values)
    return {t: v // common for t, v in zip((a, b, c), values, strict=True)}


def clear_ring(
    tokens: Sequence[TokenAddress],
    legs: Sequence[Sequence[Offer]],
    reference: Mapping[TokenAddress, int],
) -> list[Clearing]:
    """Clear a ring ``tokens[0] -> tokens[1] -> tokens[2] -> tokens[0]`` (``legs[i]`` the
    offers selling ``tokens[i]`` for the next token) as a pure CoW: valid clearings, most
    user surplus first.

    With ``l_i`` the loosest limit on hop ``i`` (next token per token), the ring can clear
    iff ``l_0 l_1 l_2 <= 1``; the candidates give each hop ``l_i g`` with the slack
    ``g = (l_0 l_1 l_2)**(-1/3)`` split evenly, or all the slack to one hop, or are the
    reference prices when every hop's loosest limit allows them. Volumes are then trimmed
    to the smallest hop by ``balance``."""
    if len(tokens) != 3 or not may_clear(legs):
        return []
    limits = [
        min(Fraction(o.buy_amount, o.sell_amount) for o in leg if o.remaining > 0) for leg in legs
    ]
    product = limits[0] * limits[1] * limits[2]
    slack = 1 / product
    options: list[list[Fraction]] = []
    even = _round_ratio(Fraction(float(slack) ** (1 / 3)))
    options.append([limits[0] * even, limits[1] * even])
    options.append([limits[0], limits[1]])  # all slack to the third hop
    options.append([limits[0] * slack, limits[1]])
    options.append([limits[0], limits[1] * slack])
    refs = [reference.get(t, 0) for t in tokens]
    if all(refs):  # the reference prices themselves, when every hop's limit allows them
        at_reference = [Fraction(refs[i], refs[(i + 1) % 3]) for i in range(3)]
        if all(r >= limit for r, limit in zip(at_reference, limits, strict=True)):
            options.append(at_reference[:2])
    candidates: list[Clearing] = []
    for ratios in options:
        snapped = [_snap(r, limits[i], r) for i, r in enumerate(ratios)]
        prices = _ring_prices(tokens, [_round_ratio(r) for r in snapped])
        fills = balance(legs, prices)
        if {f.offer.sell for f in fills} == set(tokens):
            candidates.append(Clearing(prices, fills, notes=("ring CoW",)))
    return ranked(candidates, reference)
