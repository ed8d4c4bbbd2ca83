"""Per-order engines: every order routed on its own through AMM liquidity, one solution per
order (CoW's single-order solvers); ``baseline`` routes along one path, ``optimal`` splits.

For each order:

* a sell order sells its whole remaining amount, a buy order buys its whole remaining amount;
  a ``limit``-class order also pays, in its sell token, a fee covering the gas of its trade
  (settlement overhead + the route's pools, at the auction's gas price, via the sell token's
  reference price, rounded down);
* the limit price must hold for what the user pays in total, fee included;
* a fill-or-kill order is filled completely or not at all: only all that is left of it is
  ever routed (along the search paths, then by the engine's router), never a part;
* a partially fillable order is filled with the amount that gives its user the most
  surplus over the limit price (CIP-38's score: what the user receives beyond what the limit
  price asks for what it pays, the solver fee counted as paid), among the amounts for which
  the limit price holds; all that is left when that is best. The surplus is unimodal in the
  amount along a path of AMMs (the marginal rate falls as the amount grows, the fee is
  fixed), so a geometric ladder down from the remaining amount brackets the best amount and
  a golden-section search on exact integer amounts (exact pool math along the best few
  token paths, a bounded number of routes: ``solver.engines.partial_fill``) narrows it to
  ``PARTIAL_PRECISION``; the engine's
  own router then routes that amount, and with ``refine_steps`` searches around it (splits
  may move the best amount), keeping whichever fill gives the user the most surplus;
* orders are tried until the deadline, the most valuable first, after a gas-inclusive
  screen (``solver.engines.screen``: estimated net surplus at marginal rates, which no
  route can beat, less a lower bound on the gas; orders that cannot pay their way are
  skipped without routing);
* clearing prices are ``price[sell] = bought``, ``price[buy] = sold`` (fee excluded), so the
  settlement contract pays exactly what the route produced.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import pairwise
from typing import TYPE_CHECKING

from intents.order import OrderClass, OrderKind
from intents.types import OrderUid
from routing import path_routing
from routing.baseline import baseline_route
from routing.graph import TokenGraph
from routing.path_routing import BestRates, Path, route_along
from routing.pool import TokenAddress
from routing.quotes import Quotes
from routing.route import NoRoute
from routing.route import OrderKind as RouteKind
from solver.engines.base import Deadline, token_graph
from solver.engines.partial_fill import (
    Attempt,
    RoutedFill,
    RouteFn,
    SurplusSearch,
    best_amount,
    golden,
    more_for_user,
    paid_fee,
)
from solver.engines.screen import GasScreen, Screened
from solver.engines.stats import SolveStats
from solver.engines.workers import fill_in_workers, worker_count, worth_starting
from solver.fee_price import FeePrices
from solver.model import (
    SETTLEMENT_OVERHEAD_GAS,
    Auction,
    Order,
    Solution,
    Trade,
    executed_amounts,
    gas_fee,
    limit_respected,
    signed_fee,
)

if TYPE_CHECKING:
    from routing.optimizer import RouterConfig

logger = logging.getLogger(__name__)

PathsFn = Callable[[TokenGraph, Order], list[tuple[TokenAddress, ...]]]
"""The token paths an order is screened and partially filled along (they depend on its
pair and size level only: ``OrderFiller`` keeps them per pair and level)."""

_PairLevel = tuple[TokenAddress, TokenAddress, int | None]

ROUTER_REFINE_STEPS = 8
"""Optimal engine: golden-section steps with the router around a partial fill found along
paths."""
SPLIT_HOPE = 0.98
"""A fill-or-kill order missing its limit price along single paths by less than this is
still given to the engine's router, whose splits may close the gap."""


class OrderFiller:
    """Fills orders one at a time over one token graph with one routing function."""

    def __init__(
        self,
        auction: Auction,
        graph: TokenGraph,
        route: RouteFn | None,
        deadline: Deadline,
        *,
        search_paths: PathsFn | None = None,
        refine_steps: int = 0,
        max_hops: int = 3,
    ) -> None:
        self.auction = auction
        self.graph = graph
        self.route = route
        """The engine's router; ``None``: it routes along the search paths (the baseline's
        algorithm), which the order's routing already does."""
        self.search_paths = search_paths or best_paths
        self.refine_steps = refine_steps
        """Bisection steps with the engine's router beyond a partial fill found along paths."""
        self.deadline = deadline
        self.max_hops = max_hops
        self._gas_hint: dict[OrderUid, int] = {}
        """Gas of the order's last route: the first guess of its fee."""
        self.rates = BestRates(graph)
        self.fee_prices = FeePrices(graph)
        self._paths: dict[_PairLevel, list[Path]] = {}
        """``best_paths`` per pair and size level (orders on one pair share the search)."""
        self._least: dict[tuple[TokenAddress, TokenAddress], tuple[list[Path], list[Path], int]]
        self._least = {}
        self._searched: dict[_PairLevel, list[Path]] = {}
        self._cheapest: dict[tuple[TokenAddress, TokenAddress], int] = {}

    # -- pruning -------------------------------------------------------------------------

    def rate(self, sell: TokenAddress, buy: TokenAddress, level: int | None = None) -> float:
        """The best product of per-hop rates over paths of at most three hops."""
        return self.rates.rate(sell, buy, level)

    def promise(self, order: Order) -> float:
        """Best marginal rate over the limit rate (below 1: no fill is possible)."""
        if order.sell_token == order.buy_token or order.signed_buy_amount <= 0:
            return 0.0
        rate = self.rate(order.sell_token, order.buy_token)
        return rate * order.signed_sell_amount / order.signed_buy_amount

    # -- fees ----------------------------------------------------------------------------

    def fee(self, order: Order, route_gas: int) -> int | None:
        """The solver fee of a ``limit`` order whose route costs ``route_gas``; 0 for market
        orders; ``None`` when the sell token has no price to charge it in (``fee_price``:
        unpriced sell tokens are priced by a native-token swap)."""
        if order.order_class is not OrderClass.LIMIT:
            return 0
        price = self.fee_prices.price(
            order.sell_token, self.auction.reference_price(order.sell_token)
        )
        return gas_fee(SETTLEMENT_OVERHEAD_GAS + route_gas, self.auction.gas_price, price)

    # -- one amount ----------------------------------------------------------------------

    def attempt(self, order: Order, amount: int, route: RouteFn) -> Attempt:
        """Fill ``amount`` of the order (sell orders: total sell token paid, fee included;
        buy orders: buy token received) if its limit price holds. A sell order's fee is
        raised to its route's gas only while the limit holds at the lower fee (a higher fee
        routes less for more paid, so it cannot help); the quality is then the lower fee's."""
        sell, buy = order.sell_token, order.buy_token
        try:
            if order.kind is OrderKind.BUY:
                found = route(sell, buy, amount, RouteKind.BUY)
                fee = self.fee(order, found.gas)
                if fee is None or found.amount_out < amount:
                    return Attempt(None, 0.0)
                return self._judge(RoutedFill(order, Trade(order.uid, amount, fee), found))
            fee = self.fee(order, self._gas_hint.get(order.uid, 0))
            for _ in range(3):
                if fee is None or amount - fee <= 0:
                    return Attempt(None, 0.0)
                found = route(sell, buy, amount - fee, RouteKind.SELL)
                needed = self.fee(order, found.gas)
                self._gas_hint[order.uid] = found.gas
                if needed is None:
                    return Attempt(None, 0.0)
                judged = self._judge(RoutedFill(order, Trade(order.uid, amount - fee, fee), found))
                if needed <= fee or judged.fill is None:
                    return judged  # a larger fee only lowers what the user gets for it
                fee = needed
            return Attempt(None, 0.0)
        except NoRoute:
            return Attempt(None, 0.0)

    def _judge(self, fill: RoutedFill) -> Attempt:
        order = fill.order
        route, executed = fill.route, fill.trade.executed
        balanced = (
            route.amount_in == executed
            if order.kind is OrderKind.SELL
            else route.amount_out >= executed
        )
        if not balanced:  # the clearing prices would not match what the route moves
            logger.error("route of order 0x%s does not match its trade", order.uid.hex())
            return Attempt(None, 0.0)
        sold, bought = executed_amounts(order, fill.trade, fill.prices)
        sold -= signed_fee(order, fill.trade)
        quality = bought * order.signed_sell_amount / max(sold * order.signed_buy_amount, 1)
        return Attempt(fill if limit_respected(order, sold, bought) else None, quality)

    # -- one order -----------------------------------------------------------------------

    def fill(self, order: Order) -> RoutedFill | None:
        """The order filled completely, or (partially fillable) as far as found.

        Screens with exact pool math along the order's best paths first, searches a
        partial fill along the engine's search paths; the engine's
        router (which may split) is asked only for an amount that fills along a path, or
        that comes within ``SPLIT_HOPE`` of the limit price. The order's routes share one
        ``Quotes``: each exact pool answer is computed once for the order."""
        if order.remaining <= 0:
            return _skip(order, "Filled", "nothing left to fill")
        if order.needs_more_than_a_swap:
            return _skip(order, "Unsupported", "needs a flash loan or wrapper")
        screen_paths = self.best_paths(order)
        if not screen_paths:
            return _skip(order, "NoRoute", "no path between its tokens")
        paths = screen_paths if self.search_paths is best_paths else self._search_paths(order)
        if order.uid not in self._gas_hint:
            self._gas_hint[order.uid] = self._first_gas(order, screen_paths, paths)
        quotes = Quotes()
        screen_route = partial(route_along, self.graph, screen_paths, quotes=quotes)
        screen = self.attempt(order, order.remaining, screen_route)
        along = partial(route_along, self.graph, paths, quotes=quotes) if paths else None
        router = self.route or along
        if not order.partially_fillable:
            return self._fill_whole(order, screen, along, paths == screen_paths, router)
        if along is None or router is None:
            return _skip(order, "NoRoute", "no search path between its tokens")
        best = best_amount(self, order, along, screen if paths == screen_paths else None)
        if best is None:
            return _skip(order, "LimitPrice", "no partial amount meets it net of fee")
        if self.deadline.passed():
            return best
        return self._refine(order, best, router)

    def best_paths(self, order: Order) -> list[Path]:
        """``best_paths`` of the order, shared by the orders of its pair and size level."""
        return self._per_pair(self._paths, order, best_paths)

    def _search_paths(self, order: Order) -> list[Path]:
        """``search_paths`` of the order, shared by the orders of its pair and size level."""
        return self._per_pair(self._searched, order, self.search_paths)

    def _per_pair(
        self, kept: dict[_PairLevel, list[Path]], order: Order, find: PathsFn
    ) -> list[Path]:
        key = (
            order.sell_token,
            order.buy_token,
            self.graph.level(order.sell_token, order.remaining),
        )
        found = kept.get(key)
        if found is None:
            found = kept[key] = find(self.graph, order)
        return found

    def _first_gas(self, order: Order, screen_paths: list[Path], paths: list[Path]) -> int:
        """``_least_gas`` over the screen's and the search paths, kept per pair for the
        orders that share both (the screen's are kept per pair and size level)."""
        key = (order.sell_token, order.buy_token)
        kept = self._least.get(key)
        if kept is None or kept[0] is not screen_paths or kept[1] is not paths:
            kept = self._least[key] = (
                screen_paths,
                paths,
                self._least_gas([*screen_paths, *paths]),
            )
        return kept[2]

    def _least_gas(self, paths: list[Path]) -> int:
        """The least gas a route along ``paths`` can take (the cheapest pool of each hop):
        the first guess of a fee, never above the fee of the route found."""
        return min(sum(self._hop_gas(u, v) for u, v in pairwise(p)) for p in paths)

    def _hop_gas(self, u: TokenAddress, v: TokenAddress) -> int:
        """The gas of the cheapest pool trading ``u -> v`` (0: none), kept per hop."""
        found = self._cheapest.get((u, v))
        if found is None:
            found = self._cheapest[(u, v)] = min(
                (e.pool.gas for e in self.graph.edges(u, v)), default=0
            )
        return found

    def _fill_whole(
        self,
        order: Order,
        screen: Attempt,
        along: RouteFn | None,
        screened: bool,
        router: RouteFn | None,
    ) -> RoutedFill | None:
        """A fill-or-kill order: all that is left of it, or nothing. Only whole amounts are
        tried: along the search paths (``screened``: the screen was along them), then with
        the engine's router; the one better for the user is kept."""
        if screen.fill is None and screen.quality < SPLIT_HOPE:
            return _skip(order, "LimitPrice", f"best path gives {screen.quality:.4f} of it")
        found = screen.fill
        hint = self._gas_hint.get(order.uid)
        if not screened:
            found = self.attempt(order, order.remaining, along).fill if along else None
        if self.deadline.passed():
            return found
        if router is along and not screened and self._gas_hint.get(order.uid) == hint:
            return found or _skip(order, "LimitPrice", "no route fills all of it")  # the same again
        routed = self.attempt(order, order.remaining, router).fill if router else None
        if routed is not None and (found is None or more_for_user(routed, found)):
            found = routed
        return found or _skip(order, "LimitPrice", "no route fills all of it")

    def _refine(self, order: Order, found: RoutedFill, router: RouteFn) -> RoutedFill:
        """The engine's own router (which may split) at the amount found along paths, and
        with ``refine_steps``, a short golden-section search with it around that amount
        when it beats the paths there (splits may move the best amount; where they do not
        pay, nine router calls would not either); the fill with the most surplus is kept."""
        search = SurplusSearch(self, order, router)
        search.offer(found)
        amount = found.trade.executed + paid_fee(found)
        search.attempt(amount)
        # search around only where the router's splits beat the paths at that amount
        if self.refine_steps and search.best_fill is not found and not self.deadline.passed():
            low, high = amount // 2, min(2 * amount, order.remaining)
            golden(search.value, low, amount, high, self.refine_steps, self.deadline.passed)
        best = search.best_fill
        assert best is not None  # found is feasible
        return best

    # -- the auction ---------------------------------------------------------------------

    def fills(self) -> list[RoutedFill]:
        """Fills of the auction's orders that pass the screen, most valuable first, until
        the deadline."""
        return self.fill_each(self.candidates().ranked)[0]

    def candidates(self) -> Screened:
        """The auction's orders worth routing, ranked (``solver.engines.screen``)."""
        screened = GasScreen(self).screen(self.auction.orders, self.deadline.passed)
        logger.info(
            "%d of %d orders can meet their limit price at marginal rates, %d pay their gas",
            screened.candidates,
            screened.orders,
            len(screened.ranked),
        )
        return screened

    def fill_each(self, orders: Sequence[Order]) -> tuple[list[RoutedFill], int]:
        """(fills, orders routed): ``orders`` filled in turn until the deadline."""
        fills: list[RoutedFill] = []
        tried = 0
        for order in orders:
            if self.deadline.passed():
                logger.warning("deadline reached after %d of %d orders", tried, len(orders))
                break
            tried += 1
            found = self.fill_safely(order)
            if found is not None:
                fills.append(found)
        return fills, tried

    def fill_safely(self, order: Order) -> RoutedFill | None:
        """``fill``, logging (not raising) a failure: one order's must not lose the
        others' solutions."""
        try:
            return self.fill(order)
        except Exception:
            logger.exception("routing order 0x%s failed", order.uid.hex())
            return None


def _skip(order: Order, code: str, reason: str) -> RoutedFill | None:
    """Log why an order is not filled (``code`` machine-readable, ``reason`` for people);
    no fill."""
    logger.debug("order 0x%s not filled: %s (%s)", order.uid.hex(), code, reason)
    return None


def solution_of(fill: RoutedFill, solution_id: int, engine: str) -> Solution:
    return Solution(
        id=solution_id,
        prices=fill.prices,
        trades=(fill.trade,),
        legs=fill.route.legs,
        gas=fill.gas,
        engine=engine,
    )


def best_paths(graph: TokenGraph, order: Order) -> list[tuple[TokenAddress, ...]]:
    """The ``path_routing.SEARCH_PATHS`` best token paths at the order's size, and the
    direct pair."""
    return path_routing.best_paths(graph, order.sell_token, order.buy_token, order.remaining)


def base_paths(graph: TokenGraph, order: Order) -> list[tuple[TokenAddress, ...]]:
    """The baseline's paths: direct, or through up to two base tokens."""
    return path_routing.base_paths(graph, order.sell_token, order.buy_token)


@dataclass(frozen=True, slots=True)
class FillerSpec:
    """How an engine builds its ``OrderFiller`` (picklable: a worker builds its own)."""

    make_route: Callable[[TokenGraph], RouteFn] | None
    """``None``: the engine's router is its search paths (``OrderFiller.route``)."""
    search_paths: PathsFn
    refine_steps: int = 0
    max_hops: int = 3

    def build(self, auction: Auction, graph: TokenGraph, deadline: Deadline) -> OrderFiller:
        return OrderFiller(
            auction,
            graph,
            self.make_route(graph) if self.make_route else None,
            deadline,
            search_paths=self.search_paths,
            refine_steps=self.refine_steps,
            max_hops=self.max_hops,
        )


MIN_PARALLEL = 8
"""Fewer screened candidates than this are routed in-process (workers would cost more)."""


class SingleOrderEngine:
    """One solution per fillable order: screened along ``search_paths``, routed by
    ``make_route(graph)``, in ``workers`` processes (``None``: ``workers.worker_count()``;
    1, few candidates, or too little time left: in-process). ``last_stats``: what the last
    solve did."""

    def __init__(self, name: str, spec: FillerSpec, *, workers: int | None = None) -> None:
        self._name = name
        self.spec = spec
        self.workers = workers
        self.last_stats: SolveStats | None = None

    @property
    def name(self) -> str:
        return self._name

    def solve(self, auction: Auction) -> list[Solution]:
        started = time.perf_counter()
        deadline = Deadline(auction)
        filler = self.spec.build(auction, token_graph(auction), deadline)
        screened = filler.candidates()
        count = self.workers or worker_count()
        if count > 1 and len(screened.ranked) >= MIN_PARALLEL and worth_starting(deadline):
            outcome = fill_in_workers(self.spec, filler, screened.ranked, count)
            fills, routed = outcome.fills, outcome.routed
        else:
            count = 1
            fills, routed = filler.fill_each(screened.ranked)
        solutions = [solution_of(fill, i, self.name) for i, fill in enumerate(fills)]
        self.last_stats = SolveStats(
            engine=self.name,
            orders=screened.orders,
            candidates=screened.candidates,
            screened=len(screened.ranked),
            routed=routed,
            fills=len(fills),
            seconds=time.perf_counter() - started,
            workers=count,
        )
        logger.info("%s", self.last_stats)
        return solutions


def baseline_router(graph: TokenGraph) -> RouteFn:
    """The baseline's routing function over ``graph``."""
    return partial(baseline_route, graph)


@dataclass(frozen=True, slots=True)
class OptimalRouter:
    """The optimizer's routing function over a graph (a class: workers unpickle it)."""

    config: RouterConfig

    def __call__(self, graph: TokenGraph) -> RouteFn:
        from routing.optimizer import Router

        return Router(graph, self.config).route


def baseline_engine() -> SingleOrderEngine:
    """CoW's baseline: the best single path over base tokens per order — its router is
    its search paths (``baseline_router`` routes along the same paths, so asking it
    again would route the same amounts again)."""
    return SingleOrderEngine("baseline", FillerSpec(None, base_paths))


def optimal_engine(config: RouterConfig | None = None) -> SingleOrderEngine:
    """Split routing per order with the routing optimizer (OR-Tools is imported only here)."""
    from routing.optimizer import RouterConfig

    cfg = config or RouterConfig()
    spec = FillerSpec(
        OptimalRouter(cfg), best_paths, refine_steps=ROUTER_REFINE_STEPS, max_hops=cfg.max_hops
    )
    return SingleOrderEngine("optimal", spec)
