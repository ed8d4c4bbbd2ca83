"""The node's quoter: prices ``POST /api/v1/quote`` with the routing engine.

The composition injects ``market``, an async callable returning the node's current
auction view (liquidity snapshot, reference prices, gas price) as a ``solver.model.Auction``
(its orders are ignored). A market is reused for ``max_age_seconds``; the token graph
(the engines' ``token_graph``) and router are rebuilt only when the market's pools,
reference prices or gas price change. Amounts are the routing engine's exact
re-simulated ones; the fee is the gas of a one-trade settlement through the route
(``SETTLEMENT_OVERHEAD_GAS`` + the route's pools) at the market's gas price, in the sell
token via its reference price, rounded down as the engines charge it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from intents.errors import ErrorCode
from intents.http.quote import QuoteError, QuoteQuery, QuoteResult
from routing.optimizer import Router, RouterConfig
from routing.pool import TokenAddress as RoutingToken
from routing.route import NoRoute, OrderKind, Route
from solver.engines.base import token_graph
from solver.fee_price import fee_price
from solver.model import SETTLEMENT_OVERHEAD_GAS, Auction, gas_fee

log = logging.getLogger(__name__)

MarketSource = Callable[[], Awaitable[Auction]]
Verifier = Callable[[QuoteQuery, QuoteResult], Awaitable[QuoteResult]]
"""Simulates a routed quote: the result verified (with the simulated amounts), or as it is
(``solver.quote_verifier.QuoteVerifier``)."""
_MAX_FEE_ROUNDS = 8


class AttachedMarket:
    """A ``MarketSource`` attached once it exists, e.g. ``attach(auctioneer.market)`` when
    the node's auctioneer runs (current pools, reference prices, gas price);
    ``NoLiquidity`` until then."""

    def __init__(self) -> None:
        self._market: MarketSource | None = None

    def attach(self, market: MarketSource) -> None:
        self._market = market

    async def __call__(self) -> Auction:
        if self._market is None:
            raise QuoteError(ErrorCode.NO_LIQUIDITY, "the node has not loaded liquidity yet")
        return await self._market()


def route_fee(router: Router, route: Route, gas_price: int) -> int:
    """Gas of settling ``route`` as one trade, in its sell token (priced by ``fee_price``);
    ``UnsupportedToken`` when the sell token has no price to charge it in."""
    price = fee_price(router.graph, route.sell_token)
    fee = gas_fee(SETTLEMENT_OVERHEAD_GAS + route.gas, gas_price, price)
    if fee is None:
        raise QuoteError(
            ErrorCode.UNSUPPORTED_TOKEN,
            f"sell token {route.sell_token} has no native price to charge the gas fee in",
        )
    return fee


def _route(router: Router, query: QuoteQuery, amount: int, kind: OrderKind) -> Route:
    try:
        sell, buy = RoutingToken(query.sell_token), RoutingToken(query.buy_token)
        return router.route(sell, buy, amount, kind)
    except NoRoute as exc:
        raise QuoteError(ErrorCode.NO_LIQUIDITY, f"no route fills the order: {exc}") from None


def price(router: Router, gas_price: int, query: QuoteQuery) -> QuoteResult:
    """Exact amounts of the quoted order over ``router``'s graph (pure, CPU-bound)."""
    for token in (query.sell_token, query.buy_token):
        if token not in router.graph:
            raise QuoteError(ErrorCode.UNSUPPORTED_TOKEN, f"no pool the node knows trades {token}")
    if query.side == "buyAfterFee":
        route = _route(router, query, query.amount, OrderKind.BUY)  # may yield a little more
        return QuoteResult(route.amount_in, query.amount, route_fee(router, route, gas_price))
    if query.side == "sellAfterFee":
        route = _route(router, query, query.amount, OrderKind.SELL)
        return QuoteResult(route.amount_in, route.amount_out, route_fee(router, route, gas_price))
    # sellBeforeFee: the fee comes out of the amount; find a fee that covers the gas of the
    # route of what is left (a smaller amount may take fewer pools, never more gas here).
    total = query.amount
    fee = route_fee(router, _route(router, query, total, OrderKind.SELL), gas_price)
    for _ in range(_MAX_FEE_ROUNDS):
        if fee >= total:
            raise QuoteError(
                ErrorCode.SELL_AMOUNT_DOES_NOT_COVER_FEE,
                f"the gas fee of {fee} exceeds the sell amount of {total}",
            )
        route = _route(router, query, total - fee, OrderKind.SELL)
        needed = route_fee(router, route, gas_price)
        if needed <= fee:
            return QuoteResult(route.amount_in, route.amount_out, total - route.amount_in)
        fee = needed
    raise QuoteError(
        ErrorCode.NO_LIQUIDITY, "no route whose gas fee fits in the sell amount was found"
    )


class RoutingQuoter:
    """The ``intents.http.quote.Quoter`` of the node (an async callable)."""

    def __init__(
        self,
        market: MarketSource,
        *,
        max_age_seconds: float = 2.0,
        config: RouterConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._market = market
        self._max_age = max_age_seconds
        self._config = config
        self._clock = clock
        self._fetched_at = float("-inf")
        self._router: tuple[Auction, Router] | None = None
        self._lock = asyncio.Lock()
        self.verifier: Verifier | None = None
        """Set once the node can simulate (its auctioneer runs); quotes asking for it are
        verified from then on."""

    async def __call__(self, query: QuoteQuery) -> QuoteResult:
        async with self._lock:  # one routing at a time: the router's caches are not shared
            auction, router = await self._current()
            result = await asyncio.to_thread(price, router, auction.gas_price, query)
        if self.verifier is not None and query.verify:
            result = await self.verifier(query, result)
        log.info(
            "quoted %s %d %s -> %s: sell %d, buy %d, fee %d, verified %s",
            query.side,
            query.amount,
            query.sell_token,
            query.buy_token,
            result.sell_amount,
            result.buy_amount,
            result.fee_amount,
            result.verified,
        )
        return result

    async def _current(self) -> tuple[Auction, Router]:
        if self._router is not None and self._clock() - self._fetched_at < self._max_age:
            return self._router
        auction = await self._market()
        self._fetched_at = self._clock()
        graph = await asyncio.to_thread(token_graph, auction)
        if self._router is None or self._router[1].graph is not graph:
            self._router = (auction, Router(graph, self._config))
        else:
            self._router = (auction, self._router[1])
        return self._router
