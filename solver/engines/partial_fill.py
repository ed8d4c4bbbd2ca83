"""The partial-fill search of the per-order engines: how much of a partially fillable order
to fill for its user's most surplus over the limit price (CIP-38's score, the solver fee
counted as paid), among the amounts for which the limit price holds.

The surplus is unimodal in the amount along a path of AMMs (the marginal rate falls as the
amount grows, the fee is fixed), so a geometric ladder down from the remaining amount
brackets the best amount and a golden-section search on exact integer amounts narrows it to
``PARTIAL_PRECISION``; every amount is routed once (``SurplusSearch``), and the best
feasible fill seen is kept. ``RoutedFill`` and ``Attempt`` are what one amount routed gives.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from intents.order import OrderKind
from routing.pool import TokenAddress
from routing.route import OrderKind as RouteKind
from routing.route import Route
from solver.engines.base import Deadline
from solver.model import SETTLEMENT_OVERHEAD_GAS, Order, Trade, executed_amounts, signed_fee
from solver.scoring import surplus

RouteFn = Callable[[TokenAddress, TokenAddress, int, RouteKind], Route]
"""``(sell, buy, amount, kind) -> Route``; raises ``NoRoute``."""

PARTIAL_PRECISION = 10**6
"""A partial fill stops bisecting when the bracket is within 1/this of the amount."""
MAX_LADDER_STEPS = 24
MAX_SEARCH_STEPS = 40
"""Golden-section steps (one route each) narrowing a partial fill along the search paths."""


@dataclass(frozen=True, slots=True)
class RoutedFill:
    """A feasible fill of one order: the trade and the route that balances it."""

    order: Order
    trade: Trade
    route: Route

    @property
    def gas(self) -> int:
        return SETTLEMENT_OVERHEAD_GAS + self.route.gas

    @property
    def prices(self) -> dict[TokenAddress, int]:
        if self.order.kind is OrderKind.SELL:
            return {
                self.order.sell_token: self.route.amount_out,
                self.order.buy_token: self.trade.executed,
            }
        return {
            self.order.sell_token: self.trade.executed,
            self.order.buy_token: self.route.amount_in,
        }


class Attempt(NamedTuple):
    fill: RoutedFill | None
    """Set when the limit price holds."""
    quality: float
    """What the user would get over what the limit price asks, net of fee (0: no route)."""


class Attempter(Protocol):
    """What the search uses of ``single_order.OrderFiller``."""

    deadline: Deadline

    def attempt(self, order: Order, amount: int, route: RouteFn) -> Attempt: ...


def best_amount(
    filler: Attempter, order: Order, route: RouteFn, screen: Attempt | None
) -> RoutedFill | None:
    """The feasible amount with the most surplus along ``route``: the ladder brackets
    it, a golden-section search narrows it (``screen``: the attempt at the whole
    remaining amount along ``route``, when already made)."""
    search = SurplusSearch(filler, order, route)
    if screen is not None:
        search.seed(order.remaining, screen)
    top = order.remaining
    if search.value(top) > search.value(top - tolerance(top)) and search.best_fill:
        return search.best_fill  # all of it fills and the surplus still grows there
    bracket = _ladder(search, filler.deadline)
    if bracket is not None and not filler.deadline.passed():
        golden(search.value, *bracket, MAX_SEARCH_STEPS, filler.deadline.passed)
    return search.best_fill


def _ladder(search: SurplusSearch, deadline: Deadline) -> tuple[int, int, int] | None:
    """``remaining / 2**k`` down while the surplus grows: a bracket ``(low, best,
    high)`` around the best rung, or ``None`` when no rung routes. Without a feasible
    rung it stops once halving no longer improves the rate net of fee (past that,
    smaller fills only lose more to the fee) and brackets the rungs around the best
    rate: the feasible amounts may all lie between two rungs; a rung without a route (a
    buy beyond the reserves) does not stop it."""
    rungs = [search.order.remaining]
    previous = search.attempt(rungs[0])
    for _ in range(MAX_LADDER_STEPS):
        amount = rungs[-1] // 2
        if amount <= 0 or deadline.passed():
            break
        current = search.attempt(amount)
        rungs.append(amount)
        if search.value(amount) < search.value(rungs[-2]) and search.best_fill:
            break  # past the best rung: the surplus falls again
        if search.best_fill is None and 0 < current.quality <= previous.quality:
            # the rate net of fee peaks above this rung: a feasible window may lie
            # between the rungs (impact breaks the limit above it, the fee below it)
            high = rungs[-3] if len(rungs) > 2 else rungs[0]
            return amount, (amount + high) // 2, high
        previous = current
    if search.best_fill is None:
        return None
    best = max(range(len(rungs)), key=lambda i: (search.value(rungs[i]), rungs[i]))
    high = rungs[best - 1] if best else rungs[0]
    low = rungs[best + 1] if best + 1 < len(rungs) else rungs[best] // 2
    return low, rungs[best], high


class SurplusSearch:
    """One order's surplus as a function of the amount routed (sell orders: paid, fee
    included; buy orders: bought), each amount routed once: exact integer surplus over the
    limit price (``solver.scoring.surplus``) where the limit holds, else the float
    shortfall from the attempt's rate (negative), ``-inf`` without a route. The best
    feasible fill seen is kept (ties: the larger amount)."""

    def __init__(self, filler: Attempter, order: Order, route: RouteFn) -> None:
        self.filler = filler
        self.order = order
        self.route = route
        self.seen: dict[int, Attempt] = {}
        self.values: dict[int, float] = {}
        self.best_fill: RoutedFill | None = None
        self._best_key: tuple[float, int] | None = None

    def seed(self, amount: int, attempt: Attempt) -> None:
        self._record(amount, attempt)

    def offer(self, fill: RoutedFill) -> None:
        """A feasible fill found elsewhere (another route) competing for the best."""
        self._keep(fill, float(fill_surplus(fill)), fill.trade.executed + paid_fee(fill))

    def attempt(self, amount: int) -> Attempt:
        if amount not in self.seen:
            self._record(amount, self.filler.attempt(self.order, amount, self.route))
        return self.seen[amount]

    def value(self, amount: int) -> float:
        if amount <= 0:
            return -math.inf
        self.attempt(amount)
        return self.values[amount]

    def _record(self, amount: int, attempt: Attempt) -> None:
        self.seen[amount] = attempt
        if attempt.fill is not None:
            value = float(fill_surplus(attempt.fill))
            self._keep(attempt.fill, value, amount)
        elif attempt.quality <= 0:
            value = -math.inf
        else:  # what the limit asks beyond what the route gives, in the surplus token
            order, q = self.order, attempt.quality
            if order.kind is OrderKind.SELL:
                value = amount * order.signed_buy_amount / order.signed_sell_amount * (q - 1)
            else:
                value = amount * order.signed_sell_amount / order.signed_buy_amount * (1 - 1 / q)
            value = min(value, -1.0)
        self.values[amount] = value

    def _keep(self, fill: RoutedFill, value: float, amount: int) -> None:
        key = (value, amount)
        if self._best_key is None or key > self._best_key:
            self._best_key, self.best_fill = key, fill


def fill_surplus(fill: RoutedFill) -> int:
    """The user's exact surplus over the limit price (``solver.scoring.surplus``: buy token
    of a sell order, sell token of a buy order; the solver fee counts as paid)."""
    sold, bought = executed_amounts(fill.order, fill.trade, fill.prices)
    return surplus(fill.order, sold - signed_fee(fill.order, fill.trade), bought)


def tolerance(amount: int) -> int:
    """The search's resolution near ``amount``: 1/``PARTIAL_PRECISION`` of it."""
    return max(1, amount // PARTIAL_PRECISION)


def golden(
    value: Callable[[int], float],
    low: int,
    inner: int,
    high: int,
    steps: int,
    stop: Callable[[], bool],
) -> None:
    """Golden-section search for the maximum of a unimodal ``value`` on integers in
    ``[low, high]`` from an ``inner`` point, at most ``steps`` new evaluations, until the
    bracket is within ``tolerance``; ``value`` keeps what it saw (the caller reads the
    best from it)."""
    if not low <= inner <= high:
        return
    for _ in range(steps):
        if high - low <= max(2, tolerance(high)) or stop():
            return
        if inner - low >= high - inner:  # probe the larger side at the golden point
            probe = inner - round((inner - low) * GOLDEN)
        else:
            probe = inner + round((high - inner) * GOLDEN)
        probe = min(max(probe, low + 1), high - 1)
        if probe == inner:
            probe = inner + 1 if inner + 1 < high else inner - 1
        left, right = min(inner, probe), max(inner, probe)
        if value(left) >= value(right):
            high, inner = right, left
        else:
            low, inner = left, right


GOLDEN = (3 - math.sqrt(5)) / 2
"""The golden section's smaller part (about 0.382)."""


def paid_fee(fill: RoutedFill) -> int:
    """The solver fee counted in a sell order's amount (0 for buy orders)."""
    return fill.trade.fee if fill.order.kind is OrderKind.SELL else 0


def more_for_user(a: RoutedFill, b: RoutedFill) -> bool:
    """``a`` fills more than ``b``, or as much at a better rate."""
    if a.trade.executed != b.trade.executed:
        return a.trade.executed > b.trade.executed
    if a.order.kind is OrderKind.SELL:
        return a.route.amount_out > b.route.amount_out
    return a.route.amount_in + a.trade.fee < b.route.amount_in + b.trade.fee
