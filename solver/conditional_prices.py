"""The stop-loss price source of the node: the order's two Chainlink-style oracles on chain
(ComposableCoW's ``StopLoss`` rule), or, when both are the zero address, the node's own
auction prices (``NativePrices``: native wei per ``10**18`` base units of each token)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from intents.conditional import StopLoss, scale_price
from intents.types import TokenAddress
from settlement.jsonrpc import BatchingRpcClient
from settlement.price_oracle import latest_answers
from solver.conditional_release import PriceUnavailable

NativePricer = Callable[[TokenAddress], Awaitable[int | None]]


class NodePrices:
    def __init__(self, rpc: BatchingRpcClient, native: NativePricer | None) -> None:
        self.rpc = rpc
        self.native = native

    async def strike_price(self, stop: StopLoss, now: float) -> int:
        if stop.uses_auction_prices:
            sell, buy = await self._auction_prices(stop)
        else:
            sell, buy = await self._oracle_prices(stop, now)
        return sell * 10**18 // buy

    async def _auction_prices(self, stop: StopLoss) -> tuple[int, int]:
        if self.native is None:
            raise PriceUnavailable("this node runs no auctions: it has no auction prices")
        sell, buy = await self.native(stop.sell_token), await self.native(stop.buy_token)
        if not sell or not buy:
            raise PriceUnavailable("no auction price for the sell or the buy token")
        return sell, buy

    async def _oracle_prices(self, stop: StopLoss, now: float) -> tuple[int, int]:
        oracles = [stop.sell_token_price_oracle, stop.buy_token_price_oracle]
        answers = await latest_answers(self.rpc, list(oracles))
        prices = []
        for oracle, answer in zip(oracles, answers, strict=True):
            if answer is None or answer.answer <= 0:
                raise PriceUnavailable(
                    f"oracle {oracle} gives no usable answer (a positive latestRoundData "
                    "answer and uint8 decimals)"
                )
            if answer.updated_at < now - stop.max_time_since_last_oracle_update:
                raise PriceUnavailable(
                    f"oracle {oracle} was last updated at {answer.updated_at}, more than "
                    f"{stop.max_time_since_last_oracle_update} s ago"
                )
            prices.append(scale_price(answer.answer, answer.decimals))
        if prices[1] == 0:  # StopLoss divides by it: on chain the call reverts
            raise PriceUnavailable(f"oracle {oracles[1]}'s answer is 0 when scaled to 18 decimals")
        return prices[0], prices[1]
