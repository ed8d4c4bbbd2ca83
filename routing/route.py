"""The answer of a router: legs with exact amounts, totals, gas and why each split was taken."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from routing.errors import RoutingError
from routing.pool import PoolId, TokenAddress


class OrderKind(StrEnum):
    SELL = "sell"
    """Sell exactly ``amount`` of the sell token for as much buy token as possible."""
    BUY = "buy"
    """Buy exactly ``amount`` of the buy token for as little sell token as possible."""


class NoRoute(RoutingError, LookupError):
    """No candidate path can fill the order; ``code`` is machine-readable."""

    code = "NoRoute"


@dataclass(frozen=True, slots=True)
class Leg:
    """One swap through one pool, with the exact integer amounts of the pool math."""

    pool: PoolId
    token_in: TokenAddress
    token_out: TokenAddress
    amount_in: int
    amount_out: int


@dataclass(frozen=True, slots=True)
class Route:
    """A way to fill an order; legs are in execution (topological) order and conserve
    tokens: at every intermediate token the legs' inflow equals their outflow.

    ``gas_cost`` is the gas of the pools used, priced in the order's *objective* token: the
    buy token of a sell order (subtracted from the output) or the sell token of a buy order
    (added to the input). ``price_impact_bp`` compares the realised rate with the best spot
    rate of the candidate paths.
    """

    strategy: str
    kind: OrderKind
    sell_token: TokenAddress
    buy_token: TokenAddress
    legs: tuple[Leg, ...]
    amount_in: int
    amount_out: int
    gas: int
    gas_cost: int
    price_impact_bp: float
    explanation: tuple[str, ...] = ()

    @property
    def net(self) -> int:
        """Output after gas (sell orders) or input plus gas (buy orders)."""
        if self.kind is OrderKind.SELL:
            return self.amount_out - self.gas_cost
        return self.amount_in + self.gas_cost

    @property
    def net_output(self) -> int:
        """Output minus gas in the buy token (sell orders); for buy orders the output."""
        return self.net if self.kind is OrderKind.SELL else self.amount_out

    @property
    def pools(self) -> tuple[PoolId, ...]:
        return tuple(dict.fromkeys(leg.pool for leg in self.legs))

    def better_than(self, other: Route | None) -> bool:
        """Strictly better net of gas than ``other`` (any route beats ``None``)."""
        if other is None:
            return True
        if self.kind is OrderKind.SELL:
            return self.net > other.net
        return self.net < other.net
