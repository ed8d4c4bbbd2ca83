"""From a solution to a ``Settlement``: orders as the book keeps them, prices, AMM legs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from intents.order import StoredOrder
from intents.types import Address, TokenAddress
from settlement.encoding import EncodingError, Settlement, token_indices, trade_for_order
from settlement.interactions import Leg, route_interactions


@dataclass(frozen=True, slots=True)
class Execution:
    """An order to settle; ``executed_amount`` only for a partially fillable order (sell
    amount of a sell order, buy amount of a buy order, fee excluded)."""

    order: StoredOrder
    executed_amount: int = 0


def build_settlement(
    executions: Sequence[Execution],
    prices: Mapping[TokenAddress, int],
    legs: Sequence[Leg] = (),
    *,
    settlement: Address,
    v3_router: Address | None = None,
    deadline: int = 2**32 - 1,
) -> Settlement:
    """The settlement executing ``executions`` at the uniform clearing ``prices`` (one per
    token, in the order of the settlement's token list), with ``legs`` swapped on AMMs
    between pulling the sellers' tokens and paying the buyers."""
    for execution in executions:
        order = execution.order.order
        for token in (order.sell_token, order.buy_token):
            if prices.get(token, 0) <= 0:
                raise EncodingError(f"no clearing price for {token}, traded by an order")
    tokens = tuple(prices)
    index = token_indices(tokens)
    trades = tuple(
        trade_for_order(
            e.order.order,
            index,
            e.order.signing_scheme,
            e.order.owner,
            e.order.signature,
            e.executed_amount,
        )
        for e in executions
    )
    return Settlement(
        tokens=tokens,
        clearing_prices=tuple(prices.values()),
        trades=trades,
        intra=route_interactions(legs, settlement, v3_router=v3_router, deadline=deadline),
    )
