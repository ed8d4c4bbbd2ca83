"""The settlement model and its exact calldata for ``GPv2Settlement.settle``.

A settlement is ``settle(address[] tokens, uint256[] clearingPrices, GPv2Trade.Data[] trades,
GPv2Interaction.Data[][3] interactions)``. Each trade references its sell and buy token by
index into ``tokens``; the two clearing prices at those indices fix the exchange rate every
trade of the pair gets. The trade ``flags`` word packs the order's kind, fill mode, token
balances and signing scheme, bit for bit as ``GPv2Trade.extractFlags`` reads it:

- bit 0: kind (0 sell, 1 buy); bit 1: partially fillable;
- bits 2-3: sell token balance (``0b00`` erc20, ``0b10`` external, ``0b11`` internal);
- bit 4: buy token balance (0 erc20, 1 internal);
- bits 5-6: signing scheme (0 eip712, 1 ethsign, 2 eip1271, 3 presign).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from intents.order import BuyTokenBalance, Order, OrderKind, SellTokenBalance, SigningScheme
from intents.signing import settlement_signature
from intents.types import Address, TokenAddress
from settlement.errors import SettlementError

TRADE_TYPE = (
    "(uint256,uint256,address,uint256,uint256,uint32,bytes32,uint256,uint256,uint256,bytes)"
)
INTERACTION_TYPE = "(address,uint256,bytes)"
SETTLE_ARG_TYPES = ("address[]", "uint256[]", f"{TRADE_TYPE}[]", f"{INTERACTION_TYPE}[][3]")
SETTLE_SIGNATURE = f"settle({','.join(SETTLE_ARG_TYPES)})"
SETTLE_SELECTOR = keccak(text=SETTLE_SIGNATURE)[:4]

_SELL_BALANCE_BITS = {
    SellTokenBalance.ERC20: 0b00,
    SellTokenBalance.EXTERNAL: 0b10,
    SellTokenBalance.INTERNAL: 0b11,
}
# The contract reads bit 2 only when bit 3 is set: 0b01 is an erc20 balance too.
_SELL_BALANCE_BY_BITS = {0b00: SellTokenBalance.ERC20, 0b01: SellTokenBalance.ERC20} | {
    bits: balance for balance, bits in _SELL_BALANCE_BITS.items()
}
_SCHEME_BITS = {
    SigningScheme.EIP712: 0,
    SigningScheme.ETHSIGN: 1,
    SigningScheme.EIP1271: 2,
    SigningScheme.PRESIGN: 3,
}
_SCHEME_BY_BITS = {bits: scheme for scheme, bits in _SCHEME_BITS.items()}


class EncodingError(SettlementError, ValueError):
    """A settlement or trade cannot be encoded as the contract would read it."""

    code = "InvalidSettlement"


@dataclass(frozen=True, slots=True)
class TradeFlags:
    """The order properties a trade's ``flags`` word carries."""

    kind: OrderKind
    partially_fillable: bool
    sell_token_balance: SellTokenBalance
    buy_token_balance: BuyTokenBalance
    signing_scheme: SigningScheme

    def encode(self) -> int:
        """The ``flags`` word."""
        return (
            (1 if self.kind is OrderKind.BUY else 0)
            | (2 if self.partially_fillable else 0)
            | _SELL_BALANCE_BITS[self.sell_token_balance] << 2
            | (1 << 4 if self.buy_token_balance is BuyTokenBalance.INTERNAL else 0)
            | _SCHEME_BITS[self.signing_scheme] << 5
        )

    @classmethod
    def decode(cls, flags: int) -> TradeFlags:
        """Read a ``flags`` word as the contract does; reserved bits must be zero
        (the contract reverts otherwise)."""
        if flags < 0 or flags >> 7:
            raise EncodingError(f"trade flags {flags:#x} set reserved bits")
        return cls(
            kind=OrderKind.BUY if flags & 1 else OrderKind.SELL,
            partially_fillable=bool(flags & 2),
            sell_token_balance=_SELL_BALANCE_BY_BITS[(flags >> 2) & 0b11],
            buy_token_balance=BuyTokenBalance.INTERNAL if flags & 0x10 else BuyTokenBalance.ERC20,
            signing_scheme=_SCHEME_BY_BITS[flags >> 5],
        )

    @classmethod
    def of(cls, order: Order, scheme: SigningScheme) -> TradeFlags:
        return cls(
            kind=order.kind,
            partially_fillable=order.partially_fillable,
            sell_token_balance=order.sell_token_balance,
            buy_token_balance=order.buy_token_balance,
            signing_scheme=scheme,
        )


@dataclass(frozen=True, slots=True)
class Trade:
    """One ``GPv2Trade.Data``: the signed order, how to read it, and how much to execute."""

    sell_token_index: int
    buy_token_index: int
    receiver: Address
    sell_amount: int
    buy_amount: int
    valid_to: int
    app_data: bytes
    fee_amount: int
    flags: int
    executed_amount: int
    signature: bytes

    def as_abi(self) -> tuple[object, ...]:
        return (
            self.sell_token_index,
            self.buy_token_index,
            self.receiver,
            self.sell_amount,
            self.buy_amount,
            self.valid_to,
            self.app_data,
            self.fee_amount,
            self.flags,
            self.executed_amount,
            self.signature,
        )


@dataclass(frozen=True, slots=True)
class Interaction:
    """A call the settlement contract makes: ``target.call{value}(call_data)``."""

    target: Address
    value: int
    call_data: bytes

    def as_abi(self) -> tuple[object, ...]:
        return (self.target, self.value, self.call_data)


@dataclass(frozen=True, slots=True)
class Settlement:
    """Everything one ``settle()`` call carries.

    Interactions run before the trades pull the sellers' tokens (``pre``), between
    pulling and paying out (``intra``, where AMM routes go), and after payouts (``post``).
    """

    tokens: tuple[TokenAddress, ...]
    clearing_prices: tuple[int, ...]
    trades: tuple[Trade, ...]
    pre: tuple[Interaction, ...] = ()
    intra: tuple[Interaction, ...] = ()
    post: tuple[Interaction, ...] = ()

    def __post_init__(self) -> None:
        if len(self.tokens) != len(self.clearing_prices):
            raise EncodingError("one clearing price per token is required")
        for i, trade in enumerate(self.trades):
            for index in (trade.sell_token_index, trade.buy_token_index):
                if not 0 <= index < len(self.tokens):
                    raise EncodingError(f"trade {i} references token index {index} out of range")

    def calldata(self) -> bytes:
        """The exact calldata of ``settle(...)``, selector included."""
        args = (
            list(self.tokens),
            list(self.clearing_prices),
            [t.as_abi() for t in self.trades],
            [[i.as_abi() for i in stage] for stage in (self.pre, self.intra, self.post)],
        )
        return SETTLE_SELECTOR + encode(SETTLE_ARG_TYPES, args)


def trade_for_order(
    order: Order,
    token_index: Mapping[TokenAddress, int],
    scheme: SigningScheme,
    owner: Address,
    signature: bytes,
    executed_amount: int = 0,
) -> Trade:
    """The trade executing ``order`` signed by ``owner``.

    ``signature`` is as the orderbook API carries it (``intents.signing``'s
    ``settlement_signature`` makes the contract's form). ``executed_amount`` only matters
    for a partially fillable order: the sell amount of a sell order, the buy amount of a buy
    order, fee excluded."""
    return Trade(
        sell_token_index=token_index[order.sell_token],
        buy_token_index=token_index[order.buy_token],
        receiver=order.receiver,
        sell_amount=order.sell_amount,
        buy_amount=order.buy_amount,
        valid_to=order.valid_to,
        app_data=order.app_data,
        fee_amount=order.fee_amount,
        flags=TradeFlags.of(order, scheme).encode(),
        executed_amount=executed_amount,
        signature=settlement_signature(scheme, owner, signature),
    )


def token_indices(tokens: Sequence[TokenAddress]) -> dict[TokenAddress, int]:
    """Map each token of a settlement's token list to its index."""
    if len(set(tokens)) != len(tokens):
        raise EncodingError("a settlement lists each token once")
    return {token: i for i, token in enumerate(tokens)}
