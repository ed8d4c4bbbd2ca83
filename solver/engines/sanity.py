"""Reference-price sanity around an engine: it routes only through pools whose mid rate
between priced tokens is within a factor of the reference rate, and proposes only
solutions whose realised rates are (``routing.sanity``).

A pool whose state contradicts the market by orders of magnitude (a ``sqrtPrice`` that
does not match its ``tick``, a drained pair holding a few wei, a wrong decimals count) is
broken data, not an opportunity: an engine that trusts it promises amounts the chain will
not pay. Such pools are left out of the auction's liquidity before any engine sees it
(listed in ``Snapshot.skipped`` with code ``PriceDeviation``, one log line each), and a
solution trading an order at a rate off the reference by more than the bound is not
proposed. Tokens without a reference price are not judged.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Mapping, Sequence
from datetime import timedelta
from fractions import Fraction

from intents.order import OrderKind
from routing.pool import Pool, TokenAddress
from routing.sanity import (
    InsanePool,
    PriceDeviation,
    realised_deviation,
    sane_pools,
    scientific,
    with_sane_pools,
)
from solver.engines.base import BuildsOnEarlier, Engine, ReservesTime
from solver.model import Auction, Solution, order_index, trade_execution

logger = logging.getLogger(__name__)

_Inputs = tuple[tuple[Pool, ...], dict[TokenAddress, int | None], Fraction]
_Verdict = tuple[tuple[Pool, ...], tuple[InsanePool, ...]]

_lock = threading.Lock()
_last: tuple[_Inputs, _Verdict] | None = None
"""The last verdict on an auction's pools: several engines solving one auction judge (and
log) its pools once."""


def reference_prices(auction: Auction) -> dict[TokenAddress, int | None]:
    return {token: info.reference_price for token, info in auction.tokens.items()}


def sane_auction(auction: Auction, bound: Fraction) -> Auction:
    """``auction`` without the pools whose mid rate between two priced tokens is off the
    reference by more than ``bound`` (``routing.sanity.sane_pools``); each one left out
    or reduced is logged with why."""
    global _last
    prices = reference_prices(auction)
    inputs: _Inputs = (auction.liquidity.pools, prices, bound)
    with _lock:
        verdict = _last[1] if _last is not None and _last[0] == inputs else None
    if verdict is None:
        verdict = sane_pools(auction.liquidity.pools, prices, bound)
        _log(auction, verdict[1], bound)
        with _lock:
            _last = (inputs, verdict)
    return dataclasses.replace(auction, liquidity=with_sane_pools(auction.liquidity, *verdict))


def _log(auction: Auction, insane: tuple[InsanePool, ...], bound: Fraction) -> None:
    for found in insane:
        logger.info(
            "auction %s: pool %s %s: PriceDeviation: %s",
            auction.id,
            found.pool,
            "reduced" if found.tokens_left_out else "skipped",
            found.reason,
        )
    if insane:
        logger.info(
            "auction %s: %d of %d pools skipped or reduced, rates off the reference prices by "
            "more than a factor %s",
            auction.id,
            len(insane),
            len(auction.liquidity.pools),
            scientific(bound),
        )


def solution_deviation(
    solution: Solution, auction: Auction, bound: Fraction
) -> PriceDeviation | None:
    """The first trade of ``solution`` whose realised rate at its clearing prices (what
    the order pays, fees excluded, for what it receives: a route's ``amount_in`` and
    ``amount_out``) is off the reference by more than ``bound``, or ``None``."""
    prices: Mapping[TokenAddress, int | None] = reference_prices(auction)
    orders = order_index(auction)
    for trade in solution.trades:
        order = orders.get(trade.order)
        sell_price = solution.prices.get(order.sell_token) if order else None
        buy_price = solution.prices.get(order.buy_token) if order else None
        if order is None or not sell_price or not buy_price:
            continue  # not an auction order, or no clearing price: the checks reject it
        sold, bought = trade_execution(
            order.kind is OrderKind.SELL, trade.executed, sell_price, buy_price
        )
        found = realised_deviation(
            order.sell_token,
            order.buy_token,
            sold,
            bought,
            prices,
            bound,
            subject=f"order 0x{order.uid.hex()}",
        )
        if found is not None:
            return found
    return None


class PriceSanity:
    """``inner`` solving on the auction's sane liquidity, proposing its sane solutions
    only; ``bound`` is the factor a rate may be off the reference."""

    def __init__(self, inner: Engine, bound: Fraction) -> None:
        if bound < 1:
            raise ValueError(f"a price deviation bound is a factor of at least 1, not {bound}")
        self.inner = inner
        self.bound = bound

    @property
    def name(self) -> str:
        return self.inner.name

    def solve(self, auction: Auction) -> list[Solution]:
        return self.solve_after(auction, ())

    def reserve(self, auction: Auction) -> timedelta:
        """The time ``inner`` needs kept for it when it runs last (``ReservesTime``)."""
        return self.inner.reserve(auction) if isinstance(self.inner, ReservesTime) else timedelta()

    def solve_after(self, auction: Auction, earlier: Sequence[Solution]) -> list[Solution]:
        """``inner``'s sane solutions, given ``earlier`` when it builds on them."""
        sane = sane_auction(auction, self.bound)
        if isinstance(self.inner, BuildsOnEarlier) and earlier:
            proposed = self.inner.solve_after(sane, earlier)
        else:
            proposed = self.inner.solve(sane)
        kept: list[Solution] = []
        for solution in proposed:
            found = solution_deviation(solution, sane, self.bound)
            if found is None:
                kept.append(solution)
                continue
            logger.warning(
                "auction %s: %s solution %d not proposed: PriceDeviation: %s: %s",
                auction.id,
                self.name,
                solution.id,
                found.subject,
                found.reason,
            )
        return kept
