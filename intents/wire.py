"""The orderbook API's JSON documents (CoW's ``OrderCreation``, ``Order``,
``OrderCancellations``, error body) as msgspec Structs, and their conversions.

Amounts are decimal strings that must fit uint256 (decoded to ``int``), ``validTo`` a uint32,
addresses 20-byte and hashes 32-byte ``0x`` hex. Decoding never half-succeeds: malformed JSON
raises ``DecodeError`` with ``MalformedJson`` (HTTP 400); a wrong type, enum value, range or
an unknown field raises it with ``InvalidField`` (422) and the JSON path, e.g.
``Expected `str`, got `int` - at `$.sellAmount```.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

import msgspec

from intents.errors import DecodeError, ErrorCode, OrderError
from intents.order import (
    BuyTokenBalance,
    Order,
    OrderClass,
    OrderKind,
    OrderStatus,
    SellTokenBalance,
    SigningScheme,
    StoredOrder,
)
from intents.records import HookFailureRecord
from intents.types import UINT32_MAX, UINT256_MAX, ZERO_ADDRESS, Address, OrderUid, TokenAddress

HexAddress = Annotated[str, msgspec.Meta(pattern=r"^0x[0-9a-fA-F]{40}$")]
Hex32 = Annotated[str, msgspec.Meta(pattern=r"^0x[0-9a-fA-F]{64}$")]
HexBytes = Annotated[str, msgspec.Meta(pattern=r"^0x(?:[0-9a-fA-F]{2})*$")]
HexUid = Annotated[str, msgspec.Meta(pattern=r"^0x[0-9a-fA-F]{112}$")]
EcdsaSignature = Annotated[str, msgspec.Meta(pattern=r"^0x[0-9a-fA-F]{130}$")]
Uint32 = Annotated[int, msgspec.Meta(ge=0, le=UINT32_MAX)]
MAX_CANCELLATIONS = 128


class U256(int):
    """A uint256 amount; on the wire a decimal string (as CoW's orderbook)."""


class HexOrDecimalU256(U256):
    """A uint256 amount; on the wire a decimal string, ``0x`` hex also accepted on input
    (as the Rust solver DTOs' ``HexOrDecimalU256``)."""


QuoteId = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
"""A quote id as CoW's ``OrderCreation`` takes it: an ``i64`` (2^80 is refused, 422
``InvalidField``; an id of no stored quote, -1 say, gets the order a fresh quote)."""


class OrderCreation(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename="camel", kw_only=True
):
    """CoW's ``OrderCreation``: the body of ``POST /api/v1/orders``."""

    sell_token: HexAddress
    buy_token: HexAddress
    receiver: HexAddress | None = None
    sell_amount: U256
    buy_amount: U256
    valid_to: Uint32
    app_data: str  # the full JSON document, or (legacy) its 32-byte hash
    app_data_hash: Hex32 | None = None
    fee_amount: U256
    kind: OrderKind
    partially_fillable: bool
    sell_token_balance: SellTokenBalance = SellTokenBalance.ERC20
    buy_token_balance: BuyTokenBalance = BuyTokenBalance.ERC20
    signing_scheme: SigningScheme
    signature: HexBytes
    from_: HexAddress | None = msgspec.field(default=None, name="from")
    quote_id: QuoteId | None = None
    full_balance_check: bool = False

    def to_order(self, app_data_hash: bytes) -> Order:
        """The signed order, given the app-data hash (see ``intents.appdata``)."""
        return Order(
            sell_token=TokenAddress(self.sell_token.lower()),
            buy_token=TokenAddress(self.buy_token.lower()),
            receiver=Address(self.receiver.lower()) if self.receiver else ZERO_ADDRESS,
            sell_amount=int(self.sell_amount),
            buy_amount=int(self.buy_amount),
            valid_to=self.valid_to,
            app_data=app_data_hash,
            fee_amount=int(self.fee_amount),
            kind=self.kind,
            partially_fillable=self.partially_fillable,
            sell_token_balance=self.sell_token_balance,
            buy_token_balance=self.buy_token_balance,
        )

    @property
    def signature_bytes(self) -> bytes:
        return bytes.fromhex(self.signature[2:])

    @property
    def owner_claim(self) -> Address | None:
        """``from``, normalised."""
        return Address(self.from_.lower()) if self.from_ else None

    @classmethod
    def from_order(
        cls,
        order: Order,
        *,
        signing_scheme: SigningScheme,
        signature: bytes,
        from_: Address | None = None,
        app_data: str | None = None,
    ) -> OrderCreation:
        """The body a client posts for ``order`` (``app_data`` is the full JSON document when
        the client has it; otherwise the hash is sent)."""
        return cls(
            sell_token=order.sell_token,
            buy_token=order.buy_token,
            receiver=None if order.receiver == ZERO_ADDRESS else order.receiver,
            sell_amount=U256(order.sell_amount),
            buy_amount=U256(order.buy_amount),
            valid_to=order.valid_to,
            app_data=app_data if app_data is not None else to_hex(order.app_data),
            app_data_hash=to_hex(order.app_data) if app_data is not None else None,
            fee_amount=U256(order.fee_amount),
            kind=order.kind,
            partially_fillable=order.partially_fillable,
            sell_token_balance=order.sell_token_balance,
            buy_token_balance=order.buy_token_balance,
            signing_scheme=signing_scheme,
            signature=to_hex(signature),
            from_=from_,
        )


WireStatus = Literal["presignaturePending", "open", "fulfilled", "cancelled", "expired"]
_WIRE_STATUS: dict[OrderStatus, WireStatus] = {
    OrderStatus.PRESIGNATURE_PENDING: "presignaturePending",
    OrderStatus.OPEN: "open",
    OrderStatus.PARTIALLY_FILLED: "open",
    OrderStatus.FILLED: "fulfilled",
    OrderStatus.CANCELLED: "cancelled",
    OrderStatus.EXPIRED: "expired",
}


class FailedHookView(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename="camel", kw_only=True
):
    """A hook of the order that reverted at settlement (the batch settled regardless)."""

    stage: str  # "pre" | "post"
    index: int  # its place in appData metadata.hooks.<stage>
    target: HexAddress
    tx_hash: HexBytes


class OrderResponse(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename="camel", kw_only=True
):
    """CoW's ``Order`` (``OrderCreation`` fields + ``OrderMetaData``), as ``GET`` returns it.
    ``appData`` is the hash; ``fullAppData`` the document when it is known.
    ``executedFeeAmount`` is the signed fee taken so far; ``executedFee`` every fee taken
    (the signed one plus what winning solvers charged and the node's protocol and partner
    fees, CoW's "network and protocol fees"), in ``executedFeeToken``, the sell token."""

    uid: HexUid
    owner: HexAddress
    creation_date: str  # ISO 8601 UTC
    class_: OrderClass = msgspec.field(name="class")
    status: WireStatus
    sell_token: HexAddress
    buy_token: HexAddress
    receiver: HexAddress | None
    sell_amount: U256
    buy_amount: U256
    valid_to: Uint32
    app_data: Hex32
    full_app_data: str | None
    fee_amount: U256
    kind: OrderKind
    partially_fillable: bool
    sell_token_balance: SellTokenBalance
    buy_token_balance: BuyTokenBalance
    signing_scheme: SigningScheme
    signature: HexBytes
    executed_sell_amount: U256  # including fees
    executed_sell_amount_before_fees: U256
    executed_buy_amount: U256
    executed_fee_amount: U256
    executed_fee: U256
    executed_fee_token: HexAddress
    invalidated: bool
    settlement_contract: HexAddress
    quote_id: int | None = None  # the stored quote the order was linked to
    failed_hooks: tuple[FailedHookView, ...] = ()
    """Beyond CoW: its appData hooks that reverted in its settlements."""

    @classmethod
    def from_stored(
        cls,
        stored: StoredOrder,
        *,
        settlement_contract: Address,
        now: float,
        solver_fee: int = 0,
        failed_hooks: Sequence[HookFailureRecord] = (),
    ) -> OrderResponse:
        """The API view of a stored order; an open order past its ``validTo`` (at ``now``,
        unix seconds) shows as ``expired``. ``solver_fee``: what the solvers of its recorded
        trades charged it (``Records.solver_fees``); ``failed_hooks`` its hooks that reverted
        (``Records.hook_failures``)."""
        order = stored.order
        status = _WIRE_STATUS[stored.status]
        if status in ("open", "presignaturePending") and order.valid_to < now:
            status = "expired"
        return cls(
            uid=to_hex(stored.uid),
            owner=stored.owner,
            creation_date=iso_time(stored.creation_time),
            class_=stored.order_class,
            status=status,
            sell_token=order.sell_token,
            buy_token=order.buy_token,
            receiver=None if order.receiver == ZERO_ADDRESS else order.receiver,
            sell_amount=U256(order.sell_amount),
            buy_amount=U256(order.buy_amount),
            valid_to=order.valid_to,
            app_data=to_hex(order.app_data),
            full_app_data=stored.app_data_json,
            fee_amount=U256(order.fee_amount),
            kind=order.kind,
            partially_fillable=order.partially_fillable,
            sell_token_balance=order.sell_token_balance,
            buy_token_balance=order.buy_token_balance,
            signing_scheme=stored.signing_scheme,
            signature=to_hex(stored.signature),
            executed_sell_amount=U256(stored.executed_sell_amount + stored.executed_fee_amount),
            executed_sell_amount_before_fees=U256(stored.executed_sell_amount),
            executed_buy_amount=U256(stored.executed_buy_amount),
            executed_fee_amount=U256(stored.executed_fee_amount),
            executed_fee=U256(stored.executed_fee_amount + solver_fee),
            executed_fee_token=order.sell_token,
            invalidated=stored.status is OrderStatus.CANCELLED,
            settlement_contract=settlement_contract,
            quote_id=stored.quote_id,
            failed_hooks=tuple(
                FailedHookView(
                    stage=f.stage, index=f.index, target=f.target, tx_hash=to_hex(f.tx_hash)
                )
                for f in failed_hooks
            ),
        )


class OrderCancellations(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename="camel", kw_only=True
):
    """CoW's signed ``OrderCancellations``: the body of ``DELETE /api/v1/orders``."""

    order_uids: Annotated[list[HexUid], msgspec.Meta(min_length=1, max_length=MAX_CANCELLATIONS)]
    signature: EcdsaSignature
    signing_scheme: Literal["eip712", "ethsign"]

    @property
    def uids(self) -> list[OrderUid]:
        return [OrderUid(bytes.fromhex(uid[2:])) for uid in self.order_uids]


class CancellationPayload(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename="camel", kw_only=True
):
    """CoW's signed ``OrderCancellation``: the body of ``DELETE /api/v1/orders/{uid}``."""

    signature: EcdsaSignature
    signing_scheme: Literal["eip712", "ethsign"]


class ErrorBody(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename="camel", kw_only=True
):
    """Every rejection's body: ``{"errorType": ..., "description": ...}``."""

    error_type: str
    description: str

    @classmethod
    def of(cls, error: OrderError) -> ErrorBody:
        return cls(error_type=error.code.value, description=error.description)


def iso_time(timestamp: float) -> str:
    """Unix seconds as ISO 8601 UTC with microseconds (``...Z``), as CoW's dates."""
    return (
        datetime.fromtimestamp(timestamp, UTC)
        .isoformat(timespec="microseconds")
        .replace("+00:00", "Z")
    )


def to_hex(data: bytes) -> str:
    return "0x" + data.hex()


def parse_uid(text: str) -> OrderUid:
    """A UID from its ``0x`` hex form (as in a URL path); ``DecodeError`` (400) otherwise."""
    if len(text) == 114 and text[:2] == "0x":
        try:
            return OrderUid(bytes.fromhex(text[2:]))
        except ValueError:
            pass
    raise DecodeError(
        ErrorCode.INVALID_FIELD,
        f"not an order UID (56 bytes as 0x hex): {text[:120]!r}",
        http_status=400,
    )


def _decimal_u256(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 78:
        raise ValueError(f"Expected a decimal uint256 string, got {text[:80]!r}")
    return int(text)


def _hex_or_decimal_u256(text: str) -> int:
    if text.startswith(("0x", "0X")):
        digits, base = text[2:], 16
        valid = 0 < len(digits) <= 64 and all(c in "0123456789abcdefABCDEF" for c in digits)
    else:
        digits, base = text, 10
        valid = digits.isascii() and digits.isdigit() and len(digits) <= 78
    if not valid:
        raise ValueError(f"Expected a uint256 decimal or 0x-hex string, got {text[:80]!r}")
    return int(digits, base)


def _dec_hook(type_: type, obj: object) -> object:
    if type_ is U256 or type_ is HexOrDecimalU256:
        if not isinstance(obj, str):
            raise TypeError(f"Expected a decimal string, got `{type(obj).__name__}`")
        value = _decimal_u256(obj) if type_ is U256 else _hex_or_decimal_u256(obj)
        if value > UINT256_MAX:
            raise ValueError("amount does not fit uint256")
        return type_(value)
    raise NotImplementedError(f"no decoder for {type_}")


def _enc_hook(obj: object) -> object:
    if isinstance(obj, U256):
        return str(int(obj))
    raise TypeError(f"cannot encode {type(obj).__name__} as JSON")


T = TypeVar("T")
_encoder = msgspec.json.Encoder(enc_hook=_enc_hook)


def decoder(type_: type[T]) -> msgspec.json.Decoder[T]:
    """A decoder for documents using ``U256``/``HexOrDecimalU256`` (build once, reuse)."""
    return msgspec.json.Decoder(type_, dec_hook=_dec_hook)


def decode(dec: msgspec.json.Decoder[T], body: bytes) -> T:
    """Decode ``body``; raises ``DecodeError``: 400 ``MalformedJson``, 422 ``InvalidField``."""
    try:
        return dec.decode(body)
    except msgspec.ValidationError as exc:
        raise DecodeError(ErrorCode.INVALID_FIELD, str(exc)) from None
    except msgspec.DecodeError as exc:
        raise DecodeError(ErrorCode.MALFORMED_JSON, f"malformed JSON: {exc}") from None


def encode(obj: Any) -> bytes:
    """JSON bytes of a wire document (amounts as decimal strings)."""
    return _encoder.encode(obj)


def to_builtins(obj: Any) -> Any:
    """Plain JSON-like Python values of a wire document (amounts as decimal strings)."""
    return msgspec.to_builtins(obj, enc_hook=_enc_hook)


ORDER_CREATION = decoder(OrderCreation)
ORDER_CANCELLATIONS = decoder(OrderCancellations)
CANCELLATION_PAYLOAD = decoder(CancellationPayload)


def decode_order_creation(body: bytes) -> OrderCreation:
    return decode(ORDER_CREATION, body)


def decode_cancellations(body: bytes) -> OrderCancellations:
    return decode(ORDER_CANCELLATIONS, body)


def decode_cancellation_payload(body: bytes) -> CancellationPayload:
    return decode(CANCELLATION_PAYLOAD, body)
