"""A buy order's route in a merged solution (``solver.merge``), given the least input at
which its pair's orders are paid out of their legs.

A directed pair's orders trade at one rate, which two things bound from above: what the
legs produce of the buy token must pay the sell orders (and the buy orders' amounts), what
the buy orders pay of the sell token must cover their legs' input
(``solver.merge_prices``). A rate meets only the lower bound exactly; the difference stays
in the settlement. A buy order's legs can take any input: with more, the first bound
rises and the second falls, so the least input at which the first is not below the
second (``merge_prices.balance_gap`` not negative) meets both, up to one unit of input.
``least_input`` finds it: steps doubling away from the candidate's own input bracket it,
then false position on integers (with the Illinois halving, and a bisection step when it
stalls) narrows it to one unit; each probe replays the route on a copy of the pools.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction

from routing.pool import TokenAddress
from routing.route import Leg
from solver.merge_legs import PoolState, Replayed, ReplayFailed, replay_route

BALANCE_STEPS = 64
"""Probes, at most, of each stage (bracketing, narrowing): a route's replays are cheap
(exact pool math), and false position needs a few where the gap is smooth."""


def least_input(
    state: PoolState,
    legs: Sequence[Leg],
    source: TokenAddress,
    gap_of: Callable[[Replayed], Fraction | None],
) -> Replayed | None:
    """``legs`` replayed on ``state`` (modified in place) with the least total input out of
    ``source`` whose ``gap_of`` is not negative (``None``: the route does not balance
    there); ``None`` if no input within reach has one."""
    start = sum(leg.amount_in for leg in legs if leg.token_in == source)
    tried: dict[int, tuple[Fraction | None, PoolState, Replayed | None]] = {}

    def gap(amount: int) -> Fraction | None:
        if amount not in tried:
            attempt = state.fork()
            try:
                replayed = replay_route(attempt, legs, source, Fraction(amount, start))
            except ReplayFailed:
                tried[amount] = (None, attempt, None)
                return None
            tried[amount] = (gap_of(replayed), attempt, replayed)
        return tried[amount][0]

    low, high = bracket(gap, start)
    if high is None:
        return None
    _, after, replayed = tried[least(gap, low, high)]
    state.changed, state.totals = after.changed, after.totals
    return replayed


Gap = Callable[[int], Fraction | None]
"""A pair's balance gap for an integer input (``None``: the input cannot run)."""


def bracket(gap: Gap, start: int) -> tuple[int, int | None]:
    """``(low, high)`` around the least input whose gap is not negative: ``high``'s is not,
    ``low``'s is (or ``low`` cannot run, or is 0), found by steps doubling away from
    ``start``; ``high`` is ``None`` when none within ``BALANCE_STEPS // 2`` steps up pays."""
    step = max(start >> 20, 1)
    found = gap(start)
    if found is not None and found >= 0:
        high = start
        while True:
            low = max(high - step, 0)
            if low == 0:
                return 0, high
            found = gap(low)
            if found is None or found < 0:
                return low, high
            high, step = low, step * 2
    low = start
    for _ in range(BALANCE_STEPS // 2):
        high = low + step
        found = gap(high)
        if found is not None and found >= 0:
            return low, high
        low, step = high, step * 2
    return low, None


def least(gap: Gap, low: int, high: int) -> int:
    """The least integer in ``(low, high]`` whose gap is not negative (``high``'s is,
    ``low``'s not): false position with the Illinois halving, a bisection step whenever
    it stalls (a gap of ``None`` counts as negative), at most ``BALANCE_STEPS`` steps."""
    g_low = gap(low) if low > 0 else None
    g_high = gap(high)
    assert g_high is not None
    side = 0
    for _ in range(BALANCE_STEPS):
        if high - low <= 1:
            break
        width = high - low
        probe = (low + high) // 2
        if g_low is not None and g_high > g_low:
            guess = low + width * -g_low / (g_high - g_low)
            probe = min(max(int(guess), low + 1), high - 1)
        found = gap(probe)
        if found is not None and found >= 0:
            high, g_high = probe, found
            if side == 1 and g_low is not None:
                g_low /= 2
            side = 1
        else:
            low, g_low = probe, found
            if side == -1:
                g_high /= 2
            side = -1
        if high - low > width // 2 and g_low is not None:
            mid = (low + high) // 2  # stalled: halve the bracket once
            found = gap(mid)
            if found is not None and found >= 0:
                high, g_high = mid, found
            else:
                low, g_low = mid, found
    return high
