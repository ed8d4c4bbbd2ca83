"""What every engine shares: the ``Engine`` protocol, the deadline, and the token graph of an
auction (built again only when its inputs change)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol, runtime_checkable

from routing.graph import TokenGraph
from routing.pool import Pool, TokenAddress
from solver.model import Auction, Solution, now

logger = logging.getLogger(__name__)

DEADLINE_MARGIN_S = 0.25
"""Engines stop this long before the auction's deadline, to hand their answer back in time
(at most ``DEADLINE_MARGIN_SHARE`` of the time left: a short deadline keeps most of it)."""
DEADLINE_MARGIN_SHARE = 0.1


class Engine(Protocol):
    """Solves an auction; returns the solutions found before the auction's deadline."""

    @property
    def name(self) -> str: ...

    def solve(self, auction: Auction) -> list[Solution]: ...


@runtime_checkable
class BuildsOnEarlier(Protocol):
    """An engine that also takes the solutions engines before it found for the same
    auction (``solve_all``): the ``batch`` engine merges them into settlements of many
    orders and measures its merged pairs against them."""

    def solve_after(self, auction: Auction, earlier: Sequence[Solution]) -> list[Solution]: ...


@runtime_checkable
class ReservesTime(Protocol):
    """An engine that needs ``reserve(auction)`` of the auction's time kept for it when it
    runs last in a set (``solve_all``, ``solver.engines.budget``): ``batch``'s merge of the
    earlier engines' fills."""

    def reserve(self, auction: Auction) -> timedelta: ...


class Deadline:
    """The auction's deadline on the monotonic clock, less a safety margin (``margin_s``, at
    most ``DEADLINE_MARGIN_SHARE`` of the time left)."""

    def __init__(self, auction: Auction, margin_s: float = DEADLINE_MARGIN_S) -> None:
        left = (auction.deadline - now()).total_seconds()
        left -= min(margin_s, DEADLINE_MARGIN_SHARE * max(left, 0.0))
        self.stop_at = time.monotonic() + max(left, 0.0)

    @classmethod
    def at(cls, stop_at: float) -> Deadline:
        """The deadline at ``stop_at`` on the monotonic clock (system-wide: another process's
        deadline)."""
        deadline = cls.__new__(cls)
        deadline.stop_at = stop_at
        return deadline

    def left(self) -> float:
        """Seconds left (negative once passed)."""
        return self.stop_at - time.monotonic()

    def passed(self) -> bool:
        return time.monotonic() >= self.stop_at


_GraphInputs = tuple[tuple[Pool, ...], dict[TokenAddress, int | None], int]
"""What a token graph is built from: pools, reference prices, gas price."""

_cache_lock = threading.Lock()
_cache: tuple[_GraphInputs, TokenGraph] | None = None


def token_graph(auction: Auction) -> TokenGraph:
    """The token graph of the auction's liquidity, with its reference prices and gas price;
    the last one built is reused while its pools, prices and gas price are unchanged
    (several engines solving one auction, the next round on an unchanged market, the
    quoter): comparing them costs a fraction of building the graph anew."""
    global _cache
    prices = {token: info.reference_price for token, info in auction.tokens.items()}
    inputs = (auction.liquidity.pools, prices, auction.gas_price)
    with _cache_lock:
        if _cache is not None and _cache[0] == inputs:
            return _cache[1]
    graph = TokenGraph(auction.liquidity.pools, prices, gas_price=auction.gas_price)
    with _cache_lock:
        _cache = (inputs, graph)
    return graph


def forget_token_graph() -> None:
    """Drop the cached token graph (a benchmark timing a cold solve builds it again)."""
    global _cache
    with _cache_lock:
        _cache = None
