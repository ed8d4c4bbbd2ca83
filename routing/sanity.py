"""Sanity of exchange rates against the auction's reference prices.

A reference price is CoW's ``referencePrice``: native wei for ``10**18`` base units of a
token. Between two priced tokens the reference rate (base units of ``token_out`` per base
unit of ``token_in``) is ``price_in / price_out``. A rate is *sane* within ``bound`` (a
factor, at least 1) when ``reference / bound <= rate <= reference * bound``; both sides are
compared as cross-multiplied integers, so the verdict is exact, symmetric in the direction
of the trade and exact at the boundary.

A pool's rate is its mid price before fee, exact per model (the price its math starts
from): reserves for constant-product pools, ``sqrtPrice`` *and* the price of ``tick`` for
concentrated liquidity (the swap walks from the first and finds liquidity ranges from the
second, so both must be sane), balances over weights for weighted pools, the StableSwap
derivative at the invariant for stable pools, maker over taker amount for limit orders. A
route's rate is what it realises: ``amount_out / amount_in``.

Tokens without a reference price are never judged. Everything here is pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from fractions import Fraction
from itertools import combinations
from typing import NamedTuple, TypeVar

from routing.balancer_weighted import WeightedPool
from routing.limit_order import LimitOrderPool
from routing.liquidity import Pools, SkippedLiquidity, Snapshot
from routing.pool import Pool, PoolId, PoolMathError, TokenAddress
from routing.route import Route
from routing.stable import AMP_PRECISION, StablePool, calculate_invariant
from routing.tick_math import sqrt_ratio_at_tick
from routing.uniswap_v2 import ConstantProductPool
from routing.uniswap_v3 import ConcentratedLiquidityPool

DEFAULT_MAX_DEVIATION = Fraction(100)
"""Rates more than 100 times off the reference are taken for broken data. Arbitrage keeps
live pools within fees and a few percent of the market, and a stale pool or a rough
reference price is off by a small factor; the faults this is for are off by orders of
magnitude (a ``sqrtPrice`` contradicting its ``tick``: 2e14 times; a pair drained to a few
wei). On the mainnet auction in ``../shared/data`` the pools off by more than 10, 100 and
1000 times number 52, 39 and 35 of 842: past 100 the count barely moves, so the bound
sits in the gap between the market's noise and broken state."""

PRICE_DEVIATION = "PriceDeviation"
"""The code of a pool left out of a snapshot by ``sane_snapshot``."""

_Q192 = 2**192


class Rate(NamedTuple):
    """``out / in_``: base units of one token per base unit of another. ``in_ == 0`` with
    ``out > 0`` is an infinite rate; ``0 / 0`` says nothing (and is within any bound)."""

    out: int
    in_: int


def within_bound(rate: Rate, price_in: int, price_out: int, bound: Fraction) -> bool:
    """``rate`` (of ``token_out`` per ``token_in``) is within a factor ``bound`` of the
    reference rate ``price_in / price_out``; both prices positive, ``bound >= 1``."""
    if price_in <= 0 or price_out <= 0:
        raise ValueError(f"reference prices must be positive: {price_in}, {price_out}")
    if bound < 1:
        raise ValueError(f"a bound is a factor of at least 1, not {bound}")
    if rate.out < 0 or rate.in_ < 0:
        raise ValueError(f"a rate cannot be negative: {rate}")
    n, d = bound.numerator, bound.denominator
    # rate / reference = out * price_out / (in * price_in), within [d / n, n / d]
    scaled_rate, scaled_reference = rate.out * price_out, rate.in_ * price_in
    return scaled_rate * d <= scaled_reference * n and scaled_reference * d <= scaled_rate * n


def deviation(rate: Rate, price_in: int, price_out: int) -> Fraction | None:
    """``rate`` over the reference rate (``None`` when the rate is infinite or 0/0)."""
    if rate.in_ == 0:
        return None
    return Fraction(rate.out * price_out, rate.in_ * price_in)


def _priced(prices: Mapping[TokenAddress, int | None], token: TokenAddress) -> int | None:
    price = prices.get(token)
    return price if price is not None and price > 0 else None


# -- pools -------------------------------------------------------------------------------------


def mid_rates(pool: Pool, token_in: TokenAddress, token_out: TokenAddress) -> tuple[Rate, ...]:
    """The pool's exact mid rates (before fee) of ``token_out`` per ``token_in``: one per
    price the model trades from (two for concentrated liquidity: ``sqrtPrice``, then the
    price of ``tick``); none for a kind this module does not know or a pool without one."""
    if isinstance(pool, ConstantProductPool):
        first = pool.tokens[0] == token_in
        reserve_in, reserve_out = pool.reserves if first else pool.reserves[::-1]
        return (Rate(reserve_out, reserve_in),)
    if isinstance(pool, ConcentratedLiquidityPool):
        squares = (pool.sqrt_price_x96**2, sqrt_ratio_at_tick(pool.tick) ** 2)
        if pool.tokens[0] == token_in:  # price = token1 per token0
            return tuple(Rate(square, _Q192) for square in squares)
        return tuple(Rate(_Q192, square) for square in squares)
    if isinstance(pool, WeightedPool):
        by_token = {t.address: t for t in pool.reserves}
        t_in, t_out = by_token[token_in], by_token[token_out]
        return (Rate(t_out.balance * t_in.weight, t_in.balance * t_out.weight),)
    if isinstance(pool, StablePool):
        return _stable_rate(pool, token_in, token_out)
    if isinstance(pool, LimitOrderPool):
        if (token_in, token_out) == pool.tokens:
            return (Rate(pool.maker_amount, pool.taker_amount),)
        return (Rate(pool.taker_amount, pool.maker_amount),)
    return ()


def _stable_rate(
    pool: StablePool, token_in: TokenAddress, token_out: TokenAddress
) -> tuple[Rate, ...]:
    """The StableSwap marginal rate ``(A n^n + D_P / x_in) / (A n^n + D_P / x_out)`` on
    upscaled balances (``D_P = D^(n+1) / (n^n prod x)``), back in base units."""
    tokens = pool.tokens
    i, o = tokens.index(token_in), tokens.index(token_out)
    upscaled = tuple(t.balance * t.scaling_factor // 10**18 for t in pool.reserves)
    if min(upscaled) == 0:
        return ()
    try:
        invariant = calculate_invariant(pool.amp, upscaled)
    except PoolMathError:
        return ()
    n = len(upscaled)
    product = 1
    for balance in upscaled:
        product *= balance
    d_p = Fraction(invariant ** (n + 1), n**n * product)
    a_nn = Fraction(pool.amp * n, AMP_PRECISION)
    rate = (a_nn + d_p / upscaled[i]) / (a_nn + d_p / upscaled[o])
    rate *= Fraction(pool.reserves[i].scaling_factor, pool.reserves[o].scaling_factor)
    return (Rate(rate.numerator, rate.denominator),)


@dataclass(frozen=True, slots=True)
class PriceDeviation:
    """A rate of ``token_out`` per ``token_in`` more than ``bound`` times off the reference
    ``price_in / price_out``; ``what`` says whose rate it is."""

    subject: str
    what: str
    token_in: TokenAddress
    token_out: TokenAddress
    rate: Rate
    price_in: int
    price_out: int
    bound: Fraction

    @property
    def reason(self) -> str:
        ratio = deviation(self.rate, self.price_in, self.price_out)
        reference = Fraction(self.price_in, self.price_out)
        rate = "inf" if self.rate.in_ == 0 else scientific(Fraction(*self.rate))
        return (
            f"{self.what} rate {rate} {self.token_out} per {self.token_in} vs reference "
            f"{scientific(reference)}: {'inf' if ratio is None else scientific(ratio)} times "
            f"the reference, outside a factor {scientific(self.bound)}"
        )


def pool_deviations(
    pool: Pool, prices: Mapping[TokenAddress, int | None], bound: Fraction
) -> list[PriceDeviation]:
    """Every pair of priced tokens of ``pool`` whose mid rate (the first that fails, for a
    pool with two) is not within ``bound`` of the reference; empty when the pool is sane
    or not judged."""
    found: list[PriceDeviation] = []
    labels = ("sqrtPrice", "tick") if isinstance(pool, ConcentratedLiquidityPool) else ()
    for token_in, token_out in combinations(pool.tokens, 2):
        price_in, price_out = _priced(prices, token_in), _priced(prices, token_out)
        if price_in is None or price_out is None:
            continue
        for index, rate in enumerate(mid_rates(pool, token_in, token_out)):
            if not within_bound(rate, price_in, price_out, bound):
                what = labels[index] if index < len(labels) else "spot"
                found.append(
                    PriceDeviation(
                        str(pool.id), what, token_in, token_out, rate, price_in, price_out, bound
                    )
                )
                break
    return found


def pool_deviation(
    pool: Pool, prices: Mapping[TokenAddress, int | None], bound: Fraction
) -> PriceDeviation | None:
    """The first of ``pool_deviations``, or ``None`` (the pool is sane, or not judged)."""
    found = pool_deviations(pool, prices, bound)
    return found[0] if found else None


@dataclass(frozen=True, slots=True)
class InsanePool:
    """A pool off the reference: left out of the snapshot, or (a weighted pool, whose
    swaps involve only the two tokens traded) kept without ``tokens_left_out``."""

    pool: PoolId
    kind: str
    deviation: PriceDeviation
    tokens_left_out: tuple[TokenAddress, ...] = ()

    @property
    def reason(self) -> str:
        if not self.tokens_left_out:
            return self.deviation.reason
        left_out = ", ".join(self.tokens_left_out)
        return f"kept without {left_out}: {self.deviation.reason}"


def _sane_part(
    pool: WeightedPool, prices: Mapping[TokenAddress, int | None], bound: Fraction
) -> WeightedPool | None:
    """``pool`` without the fewest tokens that make its priced rates sane (each time the
    token in most insane pairs, the one holding least reference value first), or ``None``
    when fewer than two would be left."""
    reserves = list(pool.reserves)
    while len(reserves) > 2:
        found = pool_deviations(replace(pool, reserves=tuple(reserves)), prices, bound)
        if not found:
            break
        counts: dict[TokenAddress, int] = {}
        for deviation in found:
            for token in (deviation.token_in, deviation.token_out):
                counts[token] = counts.get(token, 0) + 1
        value = {r.address: r.balance * (_priced(prices, r.address) or 0) for r in reserves}
        worst = max(counts, key=lambda token: (counts[token], -value[token], token))
        reserves = [r for r in reserves if r.address != worst]
    part = replace(pool, reserves=tuple(reserves))
    return part if not pool_deviations(part, prices, bound) else None


def sane_pools(
    pools: Iterable[Pool], prices: Mapping[TokenAddress, int | None], bound: Fraction
) -> tuple[tuple[Pool, ...], tuple[InsanePool, ...]]:
    """(the pools whose mid rates between priced tokens are within ``bound`` of the
    reference, weighted pools reduced to their sane tokens; the insane ones and why), in
    the order given."""
    kept: list[Pool] = []
    insane: list[InsanePool] = []
    for pool in pools:
        found = pool_deviation(pool, prices, bound)
        if found is None:
            kept.append(pool)
            continue
        part = _sane_part(pool, prices, bound) if isinstance(pool, WeightedPool) else None
        if part is None:
            insane.append(InsanePool(pool.id, type(pool).__name__, found))
            continue
        left_out = tuple(t for t in pool.tokens if t not in part.tokens)
        insane.append(InsanePool(pool.id, type(pool).__name__, found, left_out))
        kept.append(part)
    return tuple(kept), tuple(insane)


_Liquidity = TypeVar("_Liquidity", Pools, Snapshot)


def with_sane_pools(
    snapshot: _Liquidity, kept: tuple[Pool, ...], insane: tuple[InsanePool, ...]
) -> _Liquidity:
    """``snapshot`` with the pools ``sane_pools`` kept; those it left out are listed in
    ``skipped`` with code ``PriceDeviation``."""
    if not insane:
        return snapshot
    skipped = tuple(
        SkippedLiquidity(str(found.pool), found.kind, PRICE_DEVIATION, found.reason)
        for found in insane
        if not found.tokens_left_out
    )
    return replace(snapshot, pools=kept, skipped=snapshot.skipped + skipped)


def sane_snapshot(
    snapshot: Snapshot, prices: Mapping[TokenAddress, int | None], bound: Fraction
) -> tuple[Snapshot, tuple[InsanePool, ...]]:
    """``snapshot`` with only its sane pools (``sane_pools``, ``with_sane_pools``), and
    the insane pools found."""
    kept, insane = sane_pools(snapshot.pools, prices, bound)
    return with_sane_pools(snapshot, kept, insane), insane


# -- routes ------------------------------------------------------------------------------------


def realised_deviation(
    token_in: TokenAddress,
    token_out: TokenAddress,
    amount_in: int,
    amount_out: int,
    prices: Mapping[TokenAddress, int | None],
    bound: Fraction,
    subject: str = "route",
) -> PriceDeviation | None:
    """Why trading ``amount_in`` of ``token_in`` for ``amount_out`` of ``token_out`` is
    not within ``bound`` of the reference rate, or ``None`` (sane, or a token unpriced)."""
    price_in, price_out = _priced(prices, token_in), _priced(prices, token_out)
    if price_in is None or price_out is None or token_in == token_out:
        return None
    rate = Rate(amount_out, amount_in)
    if within_bound(rate, price_in, price_out, bound):
        return None
    return PriceDeviation(
        subject, "realised", token_in, token_out, rate, price_in, price_out, bound
    )


def route_deviation(
    route: Route, prices: Mapping[TokenAddress, int | None], bound: Fraction
) -> PriceDeviation | None:
    """``realised_deviation`` of a route's totals (``amount_out / amount_in``)."""
    return realised_deviation(
        route.sell_token, route.buy_token, route.amount_in, route.amount_out, prices, bound
    )


# -- display -----------------------------------------------------------------------------------


def scientific(value: Fraction, digits: int = 3) -> str:
    """``value`` in scientific notation with ``digits`` significant digits (exact
    rounding, for messages)."""
    if value == 0:
        return "0"
    sign, value = ("-", -value) if value < 0 else ("", value)
    exponent = len(str(value.numerator)) - len(str(value.denominator))
    while Fraction(10) ** exponent > value:
        exponent -= 1
    while Fraction(10) ** (exponent + 1) <= value:
        exponent += 1
    mantissa = round(value / Fraction(10) ** exponent * 10 ** (digits - 1))
    if mantissa >= 10**digits:
        mantissa //= 10
        exponent += 1
    text = str(mantissa)
    head, tail = text[0], text[1:].rstrip("0")
    return f"{sign}{head}{'.' + tail if tail else ''}e{exponent}"
