"""CoW Protocol's solver-engine notifications (``POST /notify``): what the driver reports
about a solution, field for field ``crates/solvers-dto/src/notification.rs`` of
cowprotocol/services. Unknown fields are ignored; an unknown ``kind`` is refused."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

from intents.wire import Hex32, HexAddress, HexBytes, decoder
from solver.dto import U256, AuctionId, Uint64, _Dto


class _Notification(_Dto, frozen=True, kw_only=True, tag_field="kind"):
    """What the driver reports about a solution; ``kind`` names what happened."""

    auction_id: AuctionId | None = None
    solution_id: Uint64 | list[Uint64] | None = None


class Timeout(_Notification, frozen=True, kw_only=True, tag="timeout"):
    pass


class EmptySolution(_Notification, frozen=True, kw_only=True, tag="emptySolution"):
    pass


class DuplicatedSolutionId(_Notification, frozen=True, kw_only=True, tag="duplicatedSolutionId"):
    pass


class AccessListItem(_Dto, frozen=True, kw_only=True):
    address: HexAddress
    storage_keys: list[Hex32]


class Tx(_Dto, frozen=True, kw_only=True):
    from_: HexAddress = msgspec.field(name="from")
    to: HexAddress
    input: HexBytes
    value: U256
    access_list: list[AccessListItem]


class SimulationFailed(_Notification, frozen=True, kw_only=True, tag="simulationFailed"):
    block: Uint64
    tx: Tx
    succeeded_once: bool


class InvalidClearingPrices(_Notification, frozen=True, kw_only=True, tag="invalidClearingPrices"):
    pass


class MissingPrice(_Notification, frozen=True, kw_only=True, tag="missingPrice"):
    token_address: HexAddress


class InvalidExecutedAmount(_Notification, frozen=True, kw_only=True, tag="invalidExecutedAmount"):
    pass


class NonBufferableTokensUsed(
    _Notification, frozen=True, kw_only=True, tag="nonBufferableTokensUsed"
):
    tokens: list[HexAddress]


class SolverAccountInsufficientBalance(
    _Notification, frozen=True, kw_only=True, tag="solverAccountInsufficientBalance"
):
    required: U256


class SettlementStarted(_Notification, frozen=True, kw_only=True, tag="settlementStarted"):
    pass


class Success(_Notification, frozen=True, kw_only=True, tag="success"):
    transaction: Hex32


class Revert(_Notification, frozen=True, kw_only=True, tag="revert"):
    transaction: Hex32


class DriverError(_Notification, frozen=True, kw_only=True, tag="driverError"):
    reason: str


class Cancelled(_Notification, frozen=True, kw_only=True, tag="cancelled"):
    pass


class Expired(_Notification, frozen=True, kw_only=True, tag="expired"):
    pass


class Fail(_Notification, frozen=True, kw_only=True, tag="fail"):
    pass


class PostprocessingTimedOut(
    _Notification, frozen=True, kw_only=True, tag="postprocessingTimedOut"
):
    pass


class DeserializationError(_Notification, frozen=True, kw_only=True, tag="deserializationError"):
    reason: str


class BanReason(_Dto, frozen=True, kw_only=True):
    reason: Literal["unsettledConsecutiveAuctions", "lowSettlingRate"]


class Banned(_Notification, frozen=True, kw_only=True, tag="banned"):
    """Sent by earlier drivers (no longer in ``notification.rs``); still understood."""

    reason: BanReason
    until: datetime


Notification = (
    Timeout
    | EmptySolution
    | DuplicatedSolutionId
    | SimulationFailed
    | InvalidClearingPrices
    | MissingPrice
    | InvalidExecutedAmount
    | NonBufferableTokensUsed
    | SolverAccountInsufficientBalance
    | SettlementStarted
    | Success
    | Revert
    | DriverError
    | Cancelled
    | Expired
    | Fail
    | PostprocessingTimedOut
    | DeserializationError
    | Banned
)


NOTIFICATION_DECODER: msgspec.json.Decoder[Any] = decoder(Notification)  # type: ignore[arg-type]


def decode_notification(body: bytes) -> Notification:
    """Decode a ``/notify`` body; raises ``msgspec.DecodeError``/``ValidationError``."""
    notification: Notification = NOTIFICATION_DECODER.decode(body)
    return notification
