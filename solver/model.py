"""The solver's exact domain model: the auction the engines solve and the solutions they
return. It knows no wire format: ``solver.dto_convert`` converts the solver-engine DTOs,
``solver.auction_file`` reads auction files of either format, ``solver.book_auction``
builds an auction from the order book.

Amounts are ``int`` base units, named for what they are: an order's ``signed_*`` amounts
as the user signed them, its ``remaining`` amount left to fill, a trade's ``executed``
amount. Addresses are lowercase hex, UIDs ``bytes``. Liquidity is routing's ``Pools`` (the
pools, and the entries left out); tokens and the gas price live on the auction.
GPv2 semantics (``GPv2Settlement.computeTradeExecution``):

* a sell order trades ``executed`` of its sell token (fee excluded) and receives
  ``ceil(executed * price[sell] / price[buy])`` of its buy token;
* a buy order receives ``executed`` of its buy token and pays
  ``floor(executed * price[buy] / price[sell])`` of its sell token (fee excluded);
* a ``limit``-class order additionally pays ``fee`` in its sell token, chosen by the solver;
  its limit price must hold for what it pays in total.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from intents.order import BuyTokenBalance, OrderClass, OrderKind, SellTokenBalance, SigningScheme
from intents.types import Address, OrderUid
from routing.liquidity import Pools
from routing.pool import TokenAddress
from routing.route import Leg

SETTLEMENT_BASE_GAS = 58_242
"""Gas a settlement pays once, however many trades it holds: the transaction's 21,000,
calldata outside the trades, ``isSolver``, the call. Measured on the devnet with the
published GPv2Settlement (``python -m bench.interaction_gas``, 2026-12-07): one buffer-paid
eip712 trade's gasUsed minus ``TRADE_GAS``. CoW counts 7,365 (``isSolver`` alone)."""
TRADE_GAS = 64_367
"""Gas each trade of a settlement pays: signature recovery, ``filledAmount``, the two ERC-20
transfers (the payout into a fresh balance slot), the ``Trade`` event. Measured as above:
two buffer-paid trades' gasUsed minus one's. CoW counts 99,026 (44,000 + 2 x 27,513); mainnet
tokens' transfers cost more than the devnet's OpenZeppelin ERC-20s."""
SETTLEMENT_OVERHEAD_GAS = SETTLEMENT_BASE_GAS + TRADE_GAS
"""Gas of a settlement with one trade beyond its interactions (CoW's ``SETTLEMENT_OVERHEAD``)."""


MAX_SETTLEMENT_GAS = 15_000_000
"""Gas one settlement (one solution) may declare. CoW's driver rejects a solution above
half the block gas limit or the chain's per-transaction cap, whichever is lower
(``GasLimitExceeded``; mainnet's EIP-7825 cap is 16,777,215): half of a 30M block, so it
fits beside other transactions and a block holds two winners."""


def settlement_gas(trades: int, interactions_gas: int) -> int:
    """Gas of one settlement of ``trades`` trades whose interactions cost ``interactions_gas``:
    the trades share the base cost."""
    return SETTLEMENT_BASE_GAS + TRADE_GAS * trades + interactions_gas


@dataclass(frozen=True, slots=True)
class Token:
    address: TokenAddress
    decimals: int | None
    symbol: str | None
    reference_price: int | None
    """Native wei for ``10**18`` base units (CoW's ``referencePrice``)."""
    available_balance: int
    trusted: bool


@dataclass(frozen=True, slots=True)
class Interaction:
    """A call the settlement contract makes before or after an order's trade."""

    target: Address
    value: int
    call_data: bytes


@dataclass(frozen=True, slots=True)
class Wrapper:
    """A wrapper contract the order's settlement goes through; ``is_omittable``: a
    solution may leave it out."""

    address: Address
    data: bytes
    is_omittable: bool = False


@dataclass(frozen=True, slots=True)
class FlashloanHint:
    """A flash loan the order's settlement needs."""

    liquidity_provider: Address
    protocol_adapter: Address
    receiver: Address
    token: TokenAddress
    amount: int


@dataclass(frozen=True, slots=True)
class SurplusFee:
    """Protocol fee: ``factor`` of the surplus, at most ``max_volume_factor`` of the volume."""

    factor: float
    max_volume_factor: float
    recipient: Address | None = None
    """Whom the fee is owed to (the node's fee recipient, or a partner's); ``None`` in an
    auction read from the wire (it only scores)."""


@dataclass(frozen=True, slots=True)
class Quote:
    sell_amount: int
    buy_amount: int
    fee: int


@dataclass(frozen=True, slots=True)
class PriceImprovementFee:
    """Protocol fee: ``factor`` of the improvement over ``quote``, at most
    ``max_volume_factor`` of the volume."""

    factor: float
    max_volume_factor: float
    quote: Quote
    recipient: Address | None = None


@dataclass(frozen=True, slots=True)
class VolumeFee:
    """Protocol fee: ``factor`` of the volume."""

    factor: float
    recipient: Address | None = None


FeePolicy = SurplusFee | PriceImprovementFee | VolumeFee


@dataclass(frozen=True, slots=True)
class Order:
    """An auction order: the signed limit amounts, and what is left to fill.

    ``remaining`` is in the sell token for sell orders and in the buy token for buy orders
    (the unit of a trade's executed amount). ``signed_fee_amount`` is the signed fee (0 for
    every order of the current protocol). ``valid_to`` is ``None`` when the document does
    not say (the legacy format). The fields from ``receiver`` on are what the settlement
    of the order involves beyond its trade."""

    uid: OrderUid
    owner: Address
    sell_token: TokenAddress
    buy_token: TokenAddress
    signed_sell_amount: int
    signed_buy_amount: int
    kind: OrderKind
    partially_fillable: bool
    order_class: OrderClass
    remaining: int
    signed_fee_amount: int = 0
    valid_to: int | None = None
    fee_policies: tuple[FeePolicy, ...] = ()
    """Protocol fees, applied first to last by the node (``solver.protocol_fee``); scoring
    counts them back last to first."""
    receiver: Address | None = None
    app_data: bytes = bytes(32)
    signing_scheme: SigningScheme = SigningScheme.EIP712
    signature: bytes = b""
    sell_token_source: SellTokenBalance = SellTokenBalance.ERC20
    buy_token_destination: BuyTokenBalance = BuyTokenBalance.ERC20
    pre_interactions: tuple[Interaction, ...] = ()
    post_interactions: tuple[Interaction, ...] = ()
    hooks_gas: int = 0
    """The gas the order's pre- and post-interactions (its appData hooks) add to a settlement
    filling it (``settlement.hooks.hooks_gas``); the node adds it to its engines' solutions."""
    flashloan_hint: FlashloanHint | None = None
    wrappers: tuple[Wrapper, ...] = ()

    @property
    def signed_amount(self) -> int:
        """The signed amount in the unit of ``remaining``."""
        return self.signed_sell_amount if self.kind is OrderKind.SELL else self.signed_buy_amount

    def remaining_amounts(self) -> tuple[int, int]:
        """(sell, buy) left to fill: ``remaining`` on the order's side, the other side pro
        rata to the signed amounts, rounded down."""
        if self.kind is OrderKind.SELL:
            buy = self.signed_buy_amount * self.remaining // max(self.signed_sell_amount, 1)
            return self.remaining, buy
        sell = self.signed_sell_amount * self.remaining // max(self.signed_buy_amount, 1)
        return sell, self.remaining

    @property
    def needs_more_than_a_swap(self) -> bool:
        """A flash loan or a wrapper contract must be part of its settlement, which a plain
        AMM route does not provide."""
        return self.flashloan_hint is not None or bool(self.wrappers)


@dataclass(frozen=True, slots=True)
class Auction:
    id: str | None
    orders: tuple[Order, ...]
    tokens: Mapping[TokenAddress, Token]
    liquidity: Pools
    gas_price: int
    """Effective gas price, wei per gas unit."""
    deadline: datetime
    surplus_capturing_jit_order_owners: tuple[Address, ...] = ()

    def reference_price(self, token: TokenAddress) -> int | None:
        info = self.tokens.get(token)
        return info.reference_price if info else None

    def with_deadline(self, deadline: datetime) -> Auction:
        return dataclasses.replace(self, deadline=deadline)


_order_index: tuple[tuple[Order, ...], dict[OrderUid, Order]] | None = None


def order_index(auction: Auction) -> Mapping[OrderUid, Order]:
    """The auction's orders by uid. The last index built is reused while the auction's
    orders are the same tuple (one auction checked solution by solution, under new
    deadlines): building it anew cost 0.4 ms per check at 5,000 orders."""
    global _order_index
    found = _order_index
    if found is not None and found[0] is auction.orders:
        return found[1]
    index = {order.uid: order for order in auction.orders}
    _order_index = (auction.orders, index)
    return index


@dataclass(frozen=True, slots=True)
class Trade:
    """A fill of an auction order: ``executed`` in the unit of ``Order.remaining`` (fee
    excluded) and ``fee`` in the sell token (solver-chosen, ``limit`` orders only)."""

    order: OrderUid
    executed: int
    fee: int = 0


@dataclass(frozen=True, slots=True)
class Solution:
    """Uniform clearing prices, trades and the AMM legs that balance them."""

    id: int
    prices: Mapping[TokenAddress, int]
    trades: tuple[Trade, ...]
    legs: tuple[Leg, ...]
    gas: int
    engine: str = ""
    internalized: frozenset[int] = frozenset()
    """Indices into ``legs`` of the legs the settlement pays from its own buffers instead of
    swapping (CoW's ``internalize``; decided by ``solver.internalization``)."""
    charges: tuple[FeeCharge, ...] = ()
    """The protocol and partner fees the node applied (``solver.protocol_fee``)."""


@dataclass(frozen=True, slots=True)
class FeeCharge:
    """What one fee policy of one order leaves in the settlement: ``amount`` of ``token``
    (the surplus token), owed to ``recipient`` (the node's fee recipient, or a partner's)."""

    uid: OrderUid
    recipient: Address
    token: TokenAddress
    amount: int
    policy: FeePolicy | None = None
    """The policy that charged it (CoW's ``executedProtocolFees`` lists them)."""


class Executed(Protocol):
    """A trade as it executes (``solver.checks.CheckedTrade``): what the user pays in the
    sell token, all fees included, and receives in the buy token."""

    @property
    def order(self) -> Order: ...
    @property
    def trade(self) -> Trade: ...
    @property
    def sold(self) -> int: ...
    @property
    def bought(self) -> int: ...


def signed_fee(order: Order, trade: Trade) -> int:
    """The signed fee's share the contract charges for ``trade`` (pro rata, rounded down)."""
    if not order.signed_fee_amount:
        return 0
    return order.signed_fee_amount * trade.executed // order.signed_amount


def trade_execution(
    is_sell: bool, executed: int, sell_price: int, buy_price: int
) -> tuple[int, int]:
    """(sell token paid, fees excluded; buy token received) for ``executed`` in the order's
    unit, as ``GPv2Settlement.computeTradeExecution`` rounds (in the user's favour)."""
    if is_sell:
        return executed, -(-executed * sell_price // buy_price)
    return executed * buy_price // sell_price, executed


def executed_amounts(
    order: Order, trade: Trade, prices: Mapping[TokenAddress, int]
) -> tuple[int, int]:
    """(sell token paid including all fees, buy token received) by ``order`` for ``trade``
    at ``prices``, rounded as ``GPv2Settlement`` rounds (``trade_execution``)."""
    sold, bought = trade_execution(
        order.kind is OrderKind.SELL,
        trade.executed,
        prices[order.sell_token],
        prices[order.buy_token],
    )
    return sold + trade.fee + signed_fee(order, trade), bought


def limit_respected(order: Order, sold: int, bought: int) -> bool:
    """The order's limit price holds for paying ``sold`` for ``bought``. ``sold`` includes
    the solver fee; the signed fee is outside the limit price, as in ``GPv2Settlement``
    (subtract ``signed_fee`` from ``executed_amounts``' first value)."""
    return sold * order.signed_buy_amount <= bought * order.signed_sell_amount


def gas_fee(gas: int, gas_price: int, sell_price: int | None) -> int | None:
    """``gas`` at ``gas_price`` in base units of a token with reference price ``sell_price``,
    rounded down (the user's favour); ``None`` without a price."""
    if not sell_price:
        return None
    return gas * gas_price * 10**18 // sell_price


def now() -> datetime:
    return datetime.now(UTC)
