"""The intent users sign: a GPv2 order, and the order as the order book keeps it.

These are the in-process models (integers, ``bytes``, lowercase addresses). The JSON wire
models of the HTTP API live in ``intents.wire`` and convert to and from these.
"""

from __future__ import annotations

import enum

import msgspec

from intents.types import Address, OrderUid, TokenAddress


class OrderKind(enum.StrEnum):
    SELL = "sell"
    BUY = "buy"


class SellTokenBalance(enum.StrEnum):
    ERC20 = "erc20"
    EXTERNAL = "external"
    INTERNAL = "internal"


class BuyTokenBalance(enum.StrEnum):
    ERC20 = "erc20"
    INTERNAL = "internal"


class SigningScheme(enum.StrEnum):
    EIP712 = "eip712"
    ETHSIGN = "ethsign"
    EIP1271 = "eip1271"
    PRESIGN = "presign"


class OrderClass(enum.StrEnum):
    """CoW's classes: a market order is priced at the market (its fee is signed in);
    a limit order signs no fee and is charged one from surplus when it settles."""

    MARKET = "market"
    LIMIT = "limit"


class OrderStatus(enum.StrEnum):
    PRESIGNATURE_PENDING = "presignaturePending"  # a presign order not (or no longer) signed
    OPEN = "open"
    PARTIALLY_FILLED = "partiallyFilled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class Order(msgspec.Struct, frozen=True, kw_only=True):
    """The GPv2 order struct exactly as signed (``GPv2Order.Data``)."""

    sell_token: TokenAddress
    buy_token: TokenAddress
    receiver: Address  # the zero address means "the owner"
    sell_amount: int
    buy_amount: int
    valid_to: int
    app_data: bytes  # 32 bytes: keccak256 of the app-data JSON
    fee_amount: int
    kind: OrderKind
    partially_fillable: bool
    sell_token_balance: SellTokenBalance = SellTokenBalance.ERC20
    buy_token_balance: BuyTokenBalance = BuyTokenBalance.ERC20


class StoredOrder(msgspec.Struct, frozen=True, kw_only=True):
    """An accepted order with everything the book keeps about it."""

    uid: OrderUid
    owner: Address
    order: Order
    signing_scheme: SigningScheme
    signature: bytes
    order_class: OrderClass
    creation_time: float  # unix seconds
    app_data_json: str | None = None  # the full app-data document, when it was posted
    status: OrderStatus = OrderStatus.OPEN
    executed_sell_amount: int = 0  # excluding fees
    executed_buy_amount: int = 0
    executed_fee_amount: int = 0
    presigned: bool = True
    """False while a ``presign`` order's pre-signature is not set on chain (its status is
    then ``presignaturePending``); always True for the other schemes."""
    quote_id: int | None = None  # the stored quote the order was linked to at creation
