"""The JSON documents of ``/api/v1/conditional_orders``: what an owner posts to create and to
cancel a conditional order, and what ``GET`` answers. Same conventions as ``intents.wire``:
amounts are decimal strings, addresses and hashes ``0x`` hex, unknown fields are refused."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from intents.conditional import GoodAfterTime, Params, StopLoss, Twap, parts_of
from intents.conditional_store import StoredConditional
from intents.order import OrderKind, SigningScheme
from intents.types import ZERO_ADDRESS, Address, TokenAddress
from intents.wire import (
    U256,
    Hex32,
    HexAddress,
    HexBytes,
    Uint32,
    WireStatus,
    decode,
    decoder,
    iso_time,
    to_hex,
)

Uint = Annotated[int, msgspec.Meta(ge=0, le=2**256 - 1)]


def _token(text: str) -> TokenAddress:
    return TokenAddress(text.lower())


def _address(text: str | None) -> Address:
    return Address(text.lower()) if text else ZERO_ADDRESS


class TwapParams(
    msgspec.Struct,
    tag_field="kind",
    tag="twap",
    frozen=True,
    forbid_unknown_fields=True,
    rename="camel",
    kw_only=True,
):
    """ComposableCoW's ``TWAPOrder.Data``."""

    sell_token: HexAddress
    buy_token: HexAddress
    receiver: HexAddress | None = None
    part_sell_amount: U256
    min_part_limit: U256
    t0: Uint32
    n: Uint32
    t: Uint32
    span: Uint32 = 0
    app_data: Hex32

    def to_params(self) -> Twap:
        return Twap(
            sell_token=_token(self.sell_token),
            buy_token=_token(self.buy_token),
            receiver=_address(self.receiver),
            part_sell_amount=int(self.part_sell_amount),
            min_part_limit=int(self.min_part_limit),
            t0=self.t0,
            n=self.n,
            t=self.t,
            span=self.span,
            app_data=bytes.fromhex(self.app_data[2:]),
        )


class StopLossParams(
    msgspec.Struct,
    tag_field="kind",
    tag="stopLoss",
    frozen=True,
    forbid_unknown_fields=True,
    rename="camel",
    kw_only=True,
):
    """ComposableCoW's ``StopLoss.Data``; both oracles the zero address (or absent): the
    node's auction prices."""

    sell_token: HexAddress
    buy_token: HexAddress
    sell_amount: U256
    buy_amount: U256
    app_data: Hex32
    receiver: HexAddress | None = None
    is_sell_order: bool = True
    is_partially_fillable: bool = False
    valid_to: Uint32
    sell_token_price_oracle: HexAddress | None = None
    buy_token_price_oracle: HexAddress | None = None
    strike: U256
    max_time_since_last_oracle_update: Uint32

    def to_params(self) -> StopLoss:
        return StopLoss(
            sell_token=_token(self.sell_token),
            buy_token=_token(self.buy_token),
            sell_amount=int(self.sell_amount),
            buy_amount=int(self.buy_amount),
            app_data=bytes.fromhex(self.app_data[2:]),
            receiver=_address(self.receiver),
            is_sell_order=self.is_sell_order,
            is_partially_fillable=self.is_partially_fillable,
            valid_to=self.valid_to,
            sell_token_price_oracle=_address(self.sell_token_price_oracle),
            buy_token_price_oracle=_address(self.buy_token_price_oracle),
            strike=int(self.strike),
            max_time_since_last_oracle_update=self.max_time_since_last_oracle_update,
        )


class GoodAfterTimeParams(
    msgspec.Struct,
    tag_field="kind",
    tag="goodAfterTime",
    frozen=True,
    forbid_unknown_fields=True,
    rename="camel",
    kw_only=True,
):
    sell_token: HexAddress
    buy_token: HexAddress
    receiver: HexAddress | None = None
    sell_amount: U256
    buy_amount: U256
    valid_to: Uint32
    app_data: Hex32
    order_kind: OrderKind = OrderKind.SELL
    partially_fillable: bool = False
    start_time: Uint32

    def to_params(self) -> GoodAfterTime:
        return GoodAfterTime(
            sell_token=_token(self.sell_token),
            buy_token=_token(self.buy_token),
            receiver=_address(self.receiver),
            sell_amount=int(self.sell_amount),
            buy_amount=int(self.buy_amount),
            valid_to=self.valid_to,
            app_data=bytes.fromhex(self.app_data[2:]),
            kind=self.order_kind,
            partially_fillable=self.partially_fillable,
            start_time=self.start_time,
        )


WireParams = TwapParams | StopLossParams | GoodAfterTimeParams


def params_to_wire(params: Params) -> WireParams:
    """The wire form of stored parameters (the inverse of ``to_params``)."""
    receiver = None if params.receiver == ZERO_ADDRESS else params.receiver
    app_data = to_hex(params.app_data)
    if isinstance(params, Twap):
        return TwapParams(
            sell_token=params.sell_token,
            buy_token=params.buy_token,
            receiver=receiver,
            part_sell_amount=U256(params.part_sell_amount),
            min_part_limit=U256(params.min_part_limit),
            t0=params.t0,
            n=params.n,
            t=params.t,
            span=params.span,
            app_data=app_data,
        )
    if isinstance(params, StopLoss):
        oracles = (params.sell_token_price_oracle, params.buy_token_price_oracle)
        sell_oracle, buy_oracle = (None, None) if params.uses_auction_prices else oracles
        return StopLossParams(
            sell_token=params.sell_token,
            buy_token=params.buy_token,
            sell_amount=U256(params.sell_amount),
            buy_amount=U256(params.buy_amount),
            app_data=app_data,
            receiver=receiver,
            is_sell_order=params.is_sell_order,
            is_partially_fillable=params.is_partially_fillable,
            valid_to=params.valid_to,
            sell_token_price_oracle=sell_oracle,
            buy_token_price_oracle=buy_oracle,
            strike=U256(params.strike),
            max_time_since_last_oracle_update=params.max_time_since_last_oracle_update,
        )
    return GoodAfterTimeParams(
        sell_token=params.sell_token,
        buy_token=params.buy_token,
        receiver=receiver,
        sell_amount=U256(params.sell_amount),
        buy_amount=U256(params.buy_amount),
        valid_to=params.valid_to,
        app_data=app_data,
        order_kind=params.kind,
        partially_fillable=params.partially_fillable,
        start_time=params.start_time,
    )


class ConditionalOrderCreation(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename="camel", kw_only=True
):
    """The body of ``POST /api/v1/conditional_orders``.

    ``signature`` signs ``ConditionalOrder(kind, staticInput, salt)`` (EIP-712, GPv2
    domain) with ``signingScheme``. An EOA (``eip712``/``ethsign``) also signs every part
    up front: ``partSignatures[i]`` is its signature of part ``i``'s GPv2 order, with the
    same scheme. A smart-contract wallet (``eip1271``, ``from`` required) authorizes its
    parts through ``isValidSignature`` when each is due; ``partSignatures`` is then empty
    (each part is checked with empty signature bytes) or holds the bytes to pass per part.
    """

    params: WireParams
    salt: Hex32
    signing_scheme: Literal["eip712", "ethsign", "eip1271"]
    signature: HexBytes
    from_: HexAddress | None = msgspec.field(default=None, name="from")
    part_signatures: list[HexBytes] = msgspec.field(default_factory=list)

    @property
    def scheme(self) -> SigningScheme:
        return SigningScheme(self.signing_scheme)


class ConditionalOrderCancellation(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename="camel", kw_only=True
):
    """The body of ``DELETE /api/v1/conditional_orders/{id}``: the owner's signature of
    ``ConditionalOrderCancellation(bytes id)`` (EIP-712, GPv2 domain); a wallet's
    (``eip1271``) is checked with ``isValidSignature``."""

    signature: HexBytes
    signing_scheme: Literal["eip712", "ethsign", "eip1271"]


class PartView(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename="camel", kw_only=True
):
    index: int
    status: Literal["pending", "released", "cancelled", "expired"]
    not_before: int  # unix seconds; 0: from the start (a price trigger decides)
    valid_to: int
    order_uid: str | None
    order_status: WireStatus | None
    """The released order's status in the book (``null`` until it is released)."""
    executed_buy_amount: U256 | None
    reason: str | None  # why a due part is still withheld


class HistoryView(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename="camel", kw_only=True
):
    time: str
    event: str
    part: int | None
    detail: str | None


class ConditionalOrderResponse(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename="camel", kw_only=True
):
    id: str
    owner: HexAddress
    creation_date: str
    status: Literal["active", "finished", "cancelled"]
    params: WireParams
    salt: Hex32
    signing_scheme: SigningScheme
    parts: list[PartView]
    history: list[HistoryView]


OrderState = tuple[WireStatus, int]
"""A released part's order as the book has it: wire status, executed buy amount."""


def conditional_view(
    stored: StoredConditional, orders: dict[bytes, OrderState]
) -> ConditionalOrderResponse:
    """The API view; ``orders``: the released parts' orders by UID."""
    specs = parts_of(stored.document.params)
    parts = []
    for spec, state in zip(specs, stored.parts, strict=True):
        order = orders.get(state.uid) if state.uid is not None else None
        parts.append(
            PartView(
                index=state.index,
                status=state.status.value,
                not_before=spec.not_before,
                valid_to=spec.order.valid_to,
                order_uid=to_hex(state.uid) if state.uid is not None else None,
                order_status=order[0] if order else None,
                executed_buy_amount=U256(order[1]) if order else None,
                reason=state.reason,
            )
        )
    return ConditionalOrderResponse(
        id=to_hex(stored.id),
        owner=stored.owner,
        creation_date=iso_time(stored.creation_time),
        status=stored.status,  # type: ignore[arg-type]
        params=params_to_wire(stored.document.params),
        salt=to_hex(stored.document.salt),
        signing_scheme=stored.document.signing_scheme,
        parts=parts,
        history=[
            HistoryView(time=iso_time(h.time), event=h.event, part=h.part, detail=h.detail)
            for h in stored.history
        ],
    )


_CREATION = decoder(ConditionalOrderCreation)
_CANCELLATION = decoder(ConditionalOrderCancellation)


def decode_conditional_creation(body: bytes) -> ConditionalOrderCreation:
    return decode(_CREATION, body)


def decode_conditional_cancellation(body: bytes) -> ConditionalOrderCancellation:
    return decode(_CANCELLATION, body)
