"""The per-order engines' gas-inclusive screen and ranking: which orders are worth routing,
most valuable first.

An order's net surplus is estimated without routing, optimistically by construction:

* ``rate`` is the best product of marginal rates after pool fees over paths of at most three
  hops (``routing.path_routing.BestRates``): no route, split or not, gets a better rate, so
  ``rate x amount`` bounds what any route returns;
* the gas is a lower bound: the settlement overhead of one trade plus the cheapest pool
  leaving the sell token (every route swaps through at least one);
* a ``limit`` order pays its gas as a fee in its sell token (``OrderFiller.fee`` at that
  lower bound, so at most the fee a route would charge): the surplus is what the limit
  price asks against ``rate x (amount - fee)`` (sell) or ``amount / rate + fee`` (buy).
  Over the partial amounts ``a`` of a partially fillable order the surplus,
  ``a (rate - limit) - rate x fee``, is largest at all that is left, so the estimate bounds
  every partial fill too;
* a ``market`` order's gas is the solver's cost, paid from its signed fee: the estimate is
  the surplus plus the signed fee minus the gas, in native wei.

Surplus is valued as CIP-38 scores it, in the buy token at its reference price (the
graph's prices: the auction's, else derived through pools), in native wei.

Dropping: a limit order is dropped when its limit price cannot hold net of the fee at
marginal rates (within ``MARGINAL_SLACK``); no route could fill it, so dropping loses
nothing the engine would fill. A market order is dropped when its optimistic surplus plus
fee, at marginal rates, does not cover ``1 - GAS_MARGIN`` of its gas lower bound; any fill
of it would cost the solver more gas than it brings, by at least that margin (a route's
surplus is below the estimate, its gas above it). Orders whose buy token has no price
cannot be valued: they pass with an estimate of 0 (ranked after every order worth
something).

Ranking: estimated net surplus, most valuable first (ties: the order's uid, so the order is
deterministic), at the rates of a swap of the order's size (``BestRates`` at the graph's
depth level of its sell amount: realised rates of probe swaps, so large orders that price
impact would stop rank below what they promise at the margin); this estimate only orders,
it drops nothing.

Estimates are kept per order for the last graph, reference prices and gas price, so the
engines that solve one auction one after the other (and ``batch`` routing what is left)
screen each order once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from intents.order import OrderClass, OrderKind
from intents.types import OrderUid
from routing.graph import TokenGraph
from routing.pool import TokenAddress
from solver.fee_price import PRICE_BASE
from solver.model import SETTLEMENT_OVERHEAD_GAS, Auction, Order

MARGINAL_SLACK = 1e-6
"""Relative slack on float marginal rates before an order is dropped as out of the money."""
GAS_MARGIN = 0.5
"""A market order passes when its optimistic surplus and fee cover this much less than its
gas lower bound."""


@dataclass(frozen=True, slots=True)
class Estimate:
    """An order's optimistic net surplus (native wei) and whether it passes the screen."""

    order: Order
    net: float
    """Estimated surplus net of gas, native wei (0 when the buy token has no price)."""
    passes: bool


@dataclass(frozen=True, slots=True)
class Screened:
    """The screen's verdict on an auction's orders."""

    orders: int
    candidates: int
    """Orders whose limit price holds at marginal rates, gas aside."""
    ranked: tuple[Order, ...]
    """The orders that pass, most valuable first."""


class Filler(Protocol):
    """What the screen reads of ``single_order.OrderFiller``."""

    auction: Auction
    graph: TokenGraph

    def promise(self, order: Order) -> float: ...

    def rate(self, sell: TokenAddress, buy: TokenAddress, level: int | None = None) -> float: ...

    def fee(self, order: Order, route_gas: int) -> int | None: ...


class GasScreen:
    """Estimates over one ``OrderFiller``'s graph, rates and fee prices."""

    def __init__(self, filler: Filler) -> None:
        self.filler = filler
        self._min_gas: dict[TokenAddress, int] = {}

    def min_gas(self, order: Order) -> int:
        """A lower bound on the gas of any settlement of the order alone."""
        sell = order.sell_token
        if sell not in self._min_gas:
            graph = self.filler.graph
            pools = [e.pool.gas for v in graph.successors(sell) for e in graph.edges(sell, v)]
            self._min_gas[sell] = SETTLEMENT_OVERHEAD_GAS + min(pools, default=0)
        return self._min_gas[sell]

    def estimate(self, order: Order) -> Estimate | None:
        """``None`` when the limit price cannot hold at marginal rates, gas aside (not a
        candidate at all)."""
        if self.filler.promise(order) * (1 + MARGINAL_SLACK) < 1.0:
            return None
        gas = self.min_gas(order)
        fee = self.filler.fee(order, gas - SETTLEMENT_OVERHEAD_GAS)
        if fee is None:  # a limit order whose fee cannot be charged is never filled
            return Estimate(order, 0.0, False)
        surplus, asked = self._surplus_in_buy_token(order, fee, None)
        if surplus < -MARGINAL_SLACK * asked:
            return Estimate(order, 0.0, False)
        graph = self.filler.graph
        if not graph.prices.get(order.buy_token):
            return Estimate(order, 0.0, True)
        gas_wei = gas * self.filler.auction.gas_price
        best = self._net_wei(order, surplus, gas_wei)
        if order.order_class is OrderClass.MARKET and best < -GAS_MARGIN * gas_wei:
            return Estimate(order, best, False)
        sell_amount = order.remaining_amounts()[0]
        level = graph.level(order.sell_token, sell_amount)
        at_size = self._surplus_in_buy_token(order, fee, level)[0] if level is not None else surplus
        return Estimate(order, self._net_wei(order, at_size, gas_wei), True)

    def _net_wei(self, order: Order, surplus: float, gas_wei: int) -> float:
        """``surplus`` (buy token) in native wei, net of the gas a market order costs the
        solver (its signed fee paying part of it)."""
        prices = self.filler.graph.prices
        net = surplus * (prices.get(order.buy_token) or 0) / PRICE_BASE
        if order.order_class is OrderClass.LIMIT:
            return net  # the fee paid the gas
        signed_fee = order.signed_fee_amount * order.remaining / max(order.signed_amount, 1)
        return net + signed_fee * (prices.get(order.sell_token) or 0) / PRICE_BASE - gas_wei

    def _surplus_in_buy_token(
        self, order: Order, fee: int, level: int | None
    ) -> tuple[float, float]:
        """(surplus over the limit price at the best rate at ``level``, what the limit
        asks), both in the buy token (a buy order's surplus in its sell token converted at
        its limit rate); ``level`` ``None``: marginal rates, an upper bound."""
        rate = self.filler.rate(order.sell_token, order.buy_token, level)
        sell, buy = order.signed_sell_amount, order.signed_buy_amount
        amount = order.remaining
        if order.kind is OrderKind.SELL:
            asked = amount * buy / sell
            return rate * (amount - fee) - asked, asked
        allowed = amount * sell / buy
        paid = amount / rate + fee if rate > 0 else float("inf")
        return (allowed - paid) * buy / sell, float(amount)

    def screen(self, orders: Iterable[Order], stop: Callable[[], bool] | None = None) -> Screened:
        """The orders that pass, ranked by estimated net surplus. Once ``stop`` says the
        time is up the orders not yet estimated are left out: on a contended CPU screening
        5,000 orders has taken seconds, past the engine's deadline."""
        everything = list(orders)
        estimates = []
        for order in everything:
            if stop is not None and stop():
                break
            if (estimate := self._shared_estimate(order)) is not None:
                estimates.append(estimate)
        passed = [e for e in estimates if e.passes]
        passed.sort(key=lambda e: (-e.net, e.order.uid))
        return Screened(len(everything), len(estimates), tuple(e.order for e in passed))

    def _shared_estimate(self, order: Order) -> Estimate | None:
        """``estimate``, kept for the engines that screen the same orders over the same
        graph, reference prices and gas price (``solve_all``'s engines one after the other,
        ``batch`` screening what is left of them)."""
        auction, graph = self.filler.auction, self.filler.graph
        inputs = (graph, auction.tokens, auction.gas_price)
        with _shared_lock:
            global _shared
            if _shared is None or not _same(_shared[0], inputs):
                _shared = (inputs, {})
            kept = _shared[1]
            found = kept.get(order.uid)
        if found is not None and found[0] is order:
            return found[1]
        estimate = self.estimate(order)
        with _shared_lock:
            kept[order.uid] = (order, estimate)
        return estimate


_Inputs = tuple[TokenGraph, object, int]
_shared_lock = threading.Lock()
_shared: tuple[_Inputs, dict[OrderUid, tuple[Order, Estimate | None]]] | None = None
"""The last inputs' estimates per order (the one graph of ``base.token_graph``'s cache)."""


def _same(a: _Inputs, b: _Inputs) -> bool:
    return a[0] is b[0] and a[1] is b[1] and a[2] == b[2]
