"""The least input whose exact forward output covers a wanted output.

Pools round amount-in-given-out and amount-out-given-in each in the pool's favour, and
Balancer's ``pow`` approximations differ between the two directions, so paying exactly
the quoted input of a Balancer pool can give back a few wei short of the wanted output
(CoW's baseline bumps the input in ``converge_in_amount`` for the same reason). From the
quote, the input is bumped by the shortfall priced at the quote's rate, the bump growing
geometrically until the output covers ``wanted``; bisection between the last short input
and the covering one then finds the least covering input (outputs grow with inputs).
"""

from __future__ import annotations

from collections.abc import Callable

MAX_BUMPS = 64
"""Geometric bumps of the input before giving up (each at least doubles the bump)."""


def covering_input(out: Callable[[int], int | None], quoted: int, wanted: int) -> int | None:
    """The least input ``>= quoted`` whose output ``out(input)`` is ``>= wanted``;
    ``None`` when ``out`` refuses an input (``None``) or no bump within ``MAX_BUMPS``
    covers it."""
    got = out(quoted)
    if got is None:
        return None
    if got >= wanted:
        return quoted
    short = quoted
    bump = max(1, -(-(wanted - got) * quoted // max(got, 1)))
    for _ in range(MAX_BUMPS):
        trial = quoted + bump
        got = out(trial)
        if got is None:
            return None
        if got >= wanted:
            return _least(out, short, trial, wanted)
        short = trial
        bump *= 2
    return None


def _least(out: Callable[[int], int | None], short: int, covers: int, wanted: int) -> int:
    """Bisect ``(short, covers]``: ``out(short) < wanted <= out(covers)``."""
    while covers - short > 1:
        mid = (short + covers) // 2
        got = out(mid)
        if got is not None and got >= wanted:
            covers = mid
        else:
            short = mid
    return covers
