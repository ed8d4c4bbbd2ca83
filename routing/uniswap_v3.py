"""Uniswap V3 concentrated-liquidity pools: the ``UniswapV3Pool.swap`` loop on a snapshot.

The snapshot holds the current sqrt price, tick, in-range liquidity and the ``liquidityNet``
of every initialized tick. The swap walks exactly the steps the contract walks — including
the stops at tick-bitmap word boundaries (256 compressed ticks), which change rounding — so
amounts are bit-exact. The price limit is the contract's extreme (``MIN_SQRT_RATIO + 1`` /
``MAX_SQRT_RATIO - 1``); a swap that cannot be filled completely within it raises
``InsufficientLiquidity`` rather than filling partially.
"""

from __future__ import annotations

import copy
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import InitVar, dataclass, field
from fractions import Fraction
from typing import NamedTuple

from routing.full_math import MAX_UINT128, mul_div_rounding_up
from routing.pool import (
    InsufficientLiquidity,
    LiquidityFormatError,
    PoolId,
    PoolMathError,
    TokenAddress,
    UnknownToken,
    frozen_state,
    restore_frozen,
    scaled,
)
from routing.sqrt_price_math import amount0_delta, amount1_delta
from routing.swap_math import PIPS, compute_swap_step
from routing.tick_math import (
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    MIN_TICK,
    sqrt_ratio_at_tick,
    tick_at_sqrt_ratio,
)

TICK_SPACING_BY_FEE = {100: 1, 500: 10, 3000: 60, 10000: 200}
"""The factory's enabled fee tiers (pips) and their tick spacings."""

_MAX_INT256 = 2**255 - 1


@dataclass(slots=True)
class _Walk:
    """The steps a swap in one direction completes in full, from the snapshot's state on,
    computed as far as swaps have needed. Before step ``j`` the swap has spent
    ``spent[j]`` (fees included), paid ``paid[j]`` and is in ``states[j]``; an exact-input
    amount completes steps ``0..j`` iff it is at least ``need_in[j]`` (exact output:
    ``need_out[j]``), both running maxima."""

    sqrt_price: InitVar[int]
    tick: InitVar[int]
    liquidity: InitVar[int]
    spent: list[int] = field(default_factory=lambda: [0])
    paid: list[int] = field(default_factory=lambda: [0])
    need_in: list[int] = field(default_factory=list)
    need_out: list[int] = field(default_factory=list)
    states: list[tuple[int, int, int]] = field(default_factory=list)
    complete: bool = False
    """No further step can be completed in full (price limit, no liquidity, or a revert)."""

    def __post_init__(self, sqrt_price: int, tick: int, liquidity: int) -> None:
        self.states.append((sqrt_price, tick, liquidity))


_Swapped = tuple[int, int, int, int | None, int]
"""(amount in, amount out, sqrt price, tick or ``None``: to read from the price, liquidity)."""


class SwapResult(NamedTuple):
    amount_in: int
    """Including the fee."""
    amount_out: int
    sqrt_price_x96: int
    tick: int
    liquidity: int


def _result(swapped: _Swapped) -> SwapResult:
    """A swap's result, its tick read from the end price where the loop left it."""
    total_in, total_out, sqrt_price, tick, liquidity = swapped
    if tick is None:
        tick = tick_at_sqrt_ratio(sqrt_price)
    return SwapResult(total_in, total_out, sqrt_price, tick, liquidity)


@dataclass(frozen=True, slots=True)
class ConcentratedLiquidityPool:
    """A V3 pool snapshot; ``fee_pips`` is the fee in millionths (3000 = 0.3%).

    The state never changes; per-direction caches (``capacity``, the completed-step walk)
    fill in lazily, so one object should not be shared between threads."""

    id: PoolId
    tokens: tuple[TokenAddress, TokenAddress]
    sqrt_price_x96: int
    liquidity: int
    tick: int
    liquidity_net: Mapping[int, int]
    fee_pips: int
    tick_spacing: int = 0
    """0 means: the standard spacing of the fee tier."""
    gas: int = 110_000
    _ticks: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _nets: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _capacity: dict[bool, int] = field(init=False, repr=False, compare=False)
    _walks: dict[bool, _Walk] = field(init=False, repr=False, compare=False)

    def __getstate__(self) -> dict[str, object]:
        return frozen_state(self)

    def __setstate__(self, state: dict[str, object]) -> None:
        restore_frozen(self, state)

    def __post_init__(self) -> None:
        if self.tokens[0] >= self.tokens[1]:
            raise PoolMathError(f"pool {self.id}: tokens must be sorted (token0 < token1)")
        if not 0 <= self.fee_pips < PIPS:
            raise PoolMathError(f"pool {self.id}: fee {self.fee_pips} pips not in [0, 1e6)")
        if self.tick_spacing == 0:
            spacing = TICK_SPACING_BY_FEE.get(self.fee_pips)
            if spacing is None:
                raise PoolMathError(
                    f"pool {self.id}: no standard tick spacing for fee {self.fee_pips}"
                )
            object.__setattr__(self, "tick_spacing", spacing)
        if self.tick_spacing < 0:
            raise PoolMathError(f"pool {self.id}: negative tick spacing")
        if not MIN_SQRT_RATIO <= self.sqrt_price_x96 < MAX_SQRT_RATIO:
            raise PoolMathError(f"pool {self.id}: sqrt price outside the tick range")
        if not 0 <= self.liquidity <= MAX_UINT128:
            raise PoolMathError(f"pool {self.id}: liquidity outside uint128")
        ticks = tuple(sorted(self.liquidity_net))
        for tick in ticks:
            if tick % self.tick_spacing or not MIN_TICK <= tick <= MAX_TICK:
                raise PoolMathError(f"pool {self.id}: tick {tick} not on the spacing grid")
        object.__setattr__(self, "_ticks", ticks)
        object.__setattr__(self, "_nets", tuple(self.liquidity_net[t] for t in ticks))
        object.__setattr__(self, "_capacity", {})
        object.__setattr__(self, "_walks", {})

    def _direction(self, token_in: TokenAddress, token_out: TokenAddress) -> bool:
        if (token_in, token_out) == self.tokens:
            return True
        if (token_out, token_in) == self.tokens:
            return False
        raise UnknownToken(f"pool {self.id} does not trade {token_in} -> {token_out}")

    def _next_tick(self, tick: int, zero_for_one: bool) -> tuple[int, int | None]:
        """``TickBitmap.nextInitializedTickWithinOneWord``: the next tick to stop at, and the
        index of its ``liquidityNet`` when it is initialized."""
        spacing = self.tick_spacing
        compressed = tick // spacing
        if zero_for_one:
            word_start = compressed - (compressed & 255)
            i = bisect_right(self._ticks, compressed * spacing) - 1
            if i >= 0 and self._ticks[i] >= word_start * spacing:
                return self._ticks[i], i
            return word_start * spacing, None
        compressed += 1
        word_end = compressed - (compressed & 255) + 255
        i = bisect_left(self._ticks, compressed * spacing)
        if i < len(self._ticks) and self._ticks[i] <= word_end * spacing:
            return self._ticks[i], i
        return word_end * spacing, None

    def swap(self, zero_for_one: bool, amount_specified: int) -> SwapResult:
        """The pool's ``swap`` on this snapshot: ``amount_specified > 0`` is exact input,
        ``< 0`` exact output. Returns the amounts (input including the fee) and the pool's
        state afterwards.

        The steps a swap completes in full do not depend on its amount, so they are
        computed once per direction (``_Walk``) and skipped by bisection; the contract's
        loop then runs from the first step the amount does not complete."""
        return _result(self._swap(zero_for_one, amount_specified))

    def _swap(self, zero_for_one: bool, amount_specified: int) -> _Swapped:
        """``swap``'s amounts and end state; the tick is ``None`` where the contract would
        compute it from the end price (the amounts alone never need it)."""
        if amount_specified == 0 or abs(amount_specified) > _MAX_INT256:
            raise PoolMathError(f"amount {amount_specified} is zero or outside int256")
        exact_in = amount_specified > 0
        amount = abs(amount_specified)
        if not exact_in and amount > self.capacity(zero_for_one):
            raise InsufficientLiquidity(f"pool {self.id}: {amount} out exceeds what its ticks hold")
        walk = self._walks.get(zero_for_one)
        if walk is None:
            walk = self._walks[zero_for_one] = _Walk(self.sqrt_price_x96, self.tick, self.liquidity)
        needs, done = (walk.need_in, walk.spent) if exact_in else (walk.need_out, walk.paid)
        while not walk.complete and (not needs or needs[-1] <= amount):
            self._extend(walk, zero_for_one)
        full = bisect_right(needs, amount)
        # The loop also stops before a step once nothing remains.
        exhausted = bisect_left(done, amount, 0, full + 1)
        if exhausted <= full and done[exhausted] == amount:
            full = exhausted
        remaining = amount - done[full]
        sqrt_price, tick, liquidity = walk.states[full]
        return self._loop(
            zero_for_one,
            remaining if exact_in else -remaining,
            walk.spent[full],
            walk.paid[full],
            sqrt_price,
            tick,
            liquidity,
        )

    def _stop(self, tick: int, liquidity: int, zero_for_one: bool) -> tuple[int, int | None] | None:
        """Where the loop's next step ends: a tick and the index of its ``liquidityNet`` when
        initialized; ``None`` when nothing is left to trade against."""
        if liquidity == 0:
            # Empty range: every step up to the next initialized tick trades nothing, so jump
            # there directly (the contract's word-by-word walk ends in the same state).
            tick_next, index = self._next_initialized(tick, zero_for_one)
            return None if index is None else (tick_next, index)
        tick_next, index = self._next_tick(tick, zero_for_one)
        return min(max(tick_next, MIN_TICK), MAX_TICK), index

    def _crossed(self, liquidity: int, index: int | None, zero_for_one: bool, tick: int) -> int:
        if index is None:
            return liquidity
        liquidity += -self._nets[index] if zero_for_one else self._nets[index]
        if not 0 <= liquidity <= MAX_UINT128:
            raise InsufficientLiquidity(f"pool {self.id}: liquidity turns negative at tick {tick}")
        return liquidity

    def _extend(self, walk: _Walk, zero_for_one: bool) -> None:
        """Append the next step the loop takes when the amount suffices to complete it."""
        limit = MIN_SQRT_RATIO + 1 if zero_for_one else MAX_SQRT_RATIO - 1
        sqrt_price, tick, liquidity = walk.states[-1]
        stop = None if sqrt_price == limit else self._stop(tick, liquidity, zero_for_one)
        if stop is None:
            walk.complete = True
            return
        tick_next, index = stop
        price_next = sqrt_ratio_at_tick(tick_next)
        beyond = price_next < limit if zero_for_one else price_next > limit
        target = limit if beyond else price_next
        lo, hi = (target, sqrt_price) if zero_for_one else (sqrt_price, target)
        delta_in, delta_out = (
            (amount0_delta, amount1_delta) if zero_for_one else (amount1_delta, amount0_delta)
        )
        step_in = delta_in(lo, hi, liquidity, True)
        step_out = delta_out(lo, hi, liquidity, False)
        fee = mul_div_rounding_up(step_in, self.fee_pips, PIPS - self.fee_pips)
        if target == price_next:
            try:
                liquidity = self._crossed(liquidity, index, zero_for_one, tick_next)
            except InsufficientLiquidity:
                # Completing this step reverts: leave it to the loop.
                walk.complete = True
                return
            tick = tick_next - 1 if zero_for_one else tick_next
        elif target != sqrt_price:
            tick = tick_at_sqrt_ratio(target)
        # Exact in completes the step iff floor(rest * (1e6 - fee) / 1e6) >= step_in;
        # exact out iff rest >= step_out (rest: what remains of the amount at its start).
        need_in = walk.spent[-1] + mul_div_rounding_up(step_in, PIPS, PIPS - self.fee_pips)
        need_out = walk.paid[-1] + step_out
        walk.need_in.append(max(need_in, walk.need_in[-1]) if walk.need_in else need_in)
        walk.need_out.append(max(need_out, walk.need_out[-1]) if walk.need_out else need_out)
        walk.spent.append(walk.spent[-1] + step_in + fee)
        walk.paid.append(walk.paid[-1] + step_out)
        walk.states.append((target, tick, liquidity))

    def _run(self, zero_for_one: bool, remaining: int, *state: int) -> SwapResult:
        """The contract's swap loop from the given state (``_loop``'s: total in, total
        out, sqrt price, tick, liquidity)."""
        return _result(self._loop(zero_for_one, remaining, *state))

    def _loop(
        self,
        zero_for_one: bool,
        remaining: int,
        total_in: int,
        total_out: int,
        sqrt_price: int,
        tick: int,
        liquidity: int,
    ) -> _Swapped:
        """``_run``'s loop. A step ending inside a tick
        range almost always ends the loop (the amount or the price limit is reached), so
        the tick the contract reads from its price is computed only when the loop goes on
        or the caller needs it (``None`` returned)."""
        limit = MIN_SQRT_RATIO + 1 if zero_for_one else MAX_SQRT_RATIO - 1
        exact_in = remaining > 0
        current: int | None = tick
        while remaining != 0 and sqrt_price != limit:
            if current is None:  # an exact output's rounding left some amount
                current = tick_at_sqrt_ratio(sqrt_price)
            tick = current
            stop = self._stop(tick, liquidity, zero_for_one)
            if stop is None:
                break
            tick_next, index = stop
            price_next = sqrt_ratio_at_tick(tick_next)
            beyond = price_next < limit if zero_for_one else price_next > limit
            start = sqrt_price
            step = compute_swap_step(
                sqrt_price, limit if beyond else price_next, liquidity, remaining, self.fee_pips
            )
            sqrt_price = step.sqrt_price_next_x96
            total_in += step.amount_in + step.fee_amount
            total_out += step.amount_out
            if exact_in:
                remaining -= step.amount_in + step.fee_amount
            else:
                remaining += step.amount_out
            if sqrt_price == price_next:
                liquidity = self._crossed(liquidity, index, zero_for_one, tick_next)
                current = tick_next - 1 if zero_for_one else tick_next
            elif sqrt_price != start:
                current = None
        if remaining != 0:
            raise InsufficientLiquidity(f"pool {self.id}: the swap does not fit in the tick range")
        return total_in, total_out, sqrt_price, current, liquidity

    def after(self, result: SwapResult) -> ConcentratedLiquidityPool:
        """This pool in the state a swap left it in (for a second trade through it): its
        ticks as they are (not sorted and checked again), the new state checked, fresh
        caches."""
        if not MIN_SQRT_RATIO <= result.sqrt_price_x96 < MAX_SQRT_RATIO:
            raise PoolMathError(f"pool {self.id}: sqrt price outside the tick range")
        if not 0 <= result.liquidity <= MAX_UINT128:
            raise PoolMathError(f"pool {self.id}: liquidity outside uint128")
        twin = copy.copy(self)
        for name, value in (
            ("sqrt_price_x96", result.sqrt_price_x96),
            ("tick", result.tick),
            ("liquidity", result.liquidity),
            ("_capacity", {}),
            ("_walks", {}),
        ):
            object.__setattr__(twin, name, value)
        return twin

    def capacity(self, zero_for_one: bool) -> int:
        """An upper bound on the output a swap in this direction can pay: the exact token
        deltas of every liquidity segment up to the price limit, plus the rounding slack.
        Exact-output swaps beyond it fail without walking the (possibly thousands of)
        bitmap-word steps."""
        cached = self._capacity.get(zero_for_one)
        if cached is not None:
            return cached
        limit = MIN_SQRT_RATIO + 1 if zero_for_one else MAX_SQRT_RATIO - 1
        if zero_for_one:
            indices = range(bisect_right(self._ticks, self.tick) - 1, -1, -1)
        else:
            indices = range(bisect_right(self._ticks, self.tick), len(self._ticks))
        price, liquidity, total = self.sqrt_price_x96, self.liquidity, 0
        for i in indices:
            boundary = sqrt_ratio_at_tick(self._ticks[i])
            total += self._segment_out(price, boundary, liquidity, zero_for_one)
            price = boundary
            liquidity += -self._nets[i] if zero_for_one else self._nets[i]
            if liquidity < 0:  # the swap reverts crossing here; nothing beyond counts
                liquidity = 0
                break
        total += self._segment_out(price, limit, liquidity, zero_for_one)
        self._capacity[zero_for_one] = total
        return total

    @staticmethod
    def _segment_out(price: int, target: int, liquidity: int, zero_for_one: bool) -> int:
        # Every step rounds its output down, so the exact delta (+2 for its own rounding)
        # bounds the sum over the steps inside the segment.
        if liquidity == 0 or price == target:
            return 0
        if zero_for_one:
            return amount1_delta(target, price, liquidity, False) + 2
        return amount0_delta(price, target, liquidity, False) + 2

    def _next_initialized(self, tick: int, zero_for_one: bool) -> tuple[int, int | None]:
        if zero_for_one:
            i = bisect_right(self._ticks, tick) - 1
            return (self._ticks[i], i) if i >= 0 else (MIN_TICK, None)
        i = bisect_right(self._ticks, tick)
        return (self._ticks[i], i) if i < len(self._ticks) else (MAX_TICK, None)

    def amount_out(self, token_in: TokenAddress, token_out: TokenAddress, amount_in: int) -> int:
        zero_for_one = self._direction(token_in, token_out)
        if amount_in < 0:
            raise PoolMathError(f"negative amount in: {amount_in}")
        if amount_in == 0:
            return 0
        return self._swap(zero_for_one, amount_in)[1]

    def amount_in(self, token_in: TokenAddress, token_out: TokenAddress, amount_out: int) -> int:
        zero_for_one = self._direction(token_in, token_out)
        if amount_out < 0:
            raise PoolMathError(f"negative amount out: {amount_out}")
        if amount_out == 0:
            return 0
        return self._swap(zero_for_one, -amount_out)[0]

    def spot_price(self, token_in: TokenAddress, token_out: TokenAddress) -> float:
        price = (self.sqrt_price_x96 / 2**96) ** 2
        after_fee = (PIPS - self.fee_pips) / PIPS
        return (price if self._direction(token_in, token_out) else 1 / price) * after_fee


def concentrated_liquidity_pool(
    ident: str,
    tokens: Sequence[TokenAddress],
    sqrt_price_x96: int,
    liquidity: int,
    tick: int,
    liquidity_net: Mapping[int, int],
    fee: Fraction,
    gas: int,
) -> ConcentratedLiquidityPool:
    """A pool from its two tokens in any order (ordered by address, as token0/token1), its
    state and its exact fee (a whole number of pips)."""
    pair = sorted(tokens)
    if len(pair) != 2:
        raise LiquidityFormatError(f"a pool needs two tokens, got {len(pair)}")
    return ConcentratedLiquidityPool(
        id=PoolId(ident),
        tokens=(pair[0], pair[1]),
        sqrt_price_x96=sqrt_price_x96,
        liquidity=liquidity,
        tick=tick,
        liquidity_net=dict(liquidity_net),
        fee_pips=scaled(fee, 10**6, "fee"),
        gas=gas,
    )
