"""The node's ``intents.http.market.NativePricer``: a token's price in native wei per
``10**18`` base units over the auctioneer's current market, as the engines price solver
fees (``solver.fee_price``: the reference price, else a probe swap to the wrapped native
token). A market is reused for ``max_age_seconds``; no route: None (404 ``NoLiquidity``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from intents.types import TokenAddress
from routing.graph import TokenGraph
from routing.pool import TokenAddress as RoutingToken
from solver.engines.base import token_graph
from solver.fee_price import WAIVED, fee_price
from solver.quoter import MarketSource


class NativePrices:
    def __init__(
        self,
        market: MarketSource,
        *,
        max_age_seconds: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._market = market
        self._max_age = max_age_seconds
        self._clock = clock
        self._graph: tuple[float, TokenGraph] | None = None
        self._lock = asyncio.Lock()

    async def _current(self) -> TokenGraph:
        async with self._lock:
            if self._graph is None or self._clock() - self._graph[0] >= self._max_age:
                auction = await self._market()
                graph = await asyncio.to_thread(token_graph, auction)
                self._graph = (self._clock(), graph)
            return self._graph[1]

    async def __call__(self, token: TokenAddress) -> int | None:
        graph = await self._current()
        price = await asyncio.to_thread(fee_price, graph, RoutingToken(token))
        return None if price is None or price == WAIVED else price
