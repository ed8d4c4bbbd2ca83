"""An order's lifecycle as a pure function: which status follows which event.

    presignaturePending ◀──revoke / set──▶ open ──fill──▶ partiallyFilled ──fill──▶ filled
             │                              │                  │
             └──────────expire──────────────┴──cancel / expire─┴──▶ cancelled / expired

The chain is the truth: a settled fill counts even on a cancelled or expired order (the
settlement was already under way), and a complete fill makes any order ``filled``. A reorg
that reverts fills puts a filled or partially filled order back where its remaining fills
say; a cancelled or expired order stays so.

A ``presign`` order trades only while its pre-signature is set (``StoredOrder.presigned``,
from the settlement's ``PreSignature`` events): an unsigned one that would be open or
partially filled is ``presignaturePending`` instead (``gate``), as CoW's orderbook shows it.
"""

from __future__ import annotations

import enum

import msgspec

from intents.order import Order, OrderKind, OrderStatus, StoredOrder


class Event(enum.Enum):
    FILL = "fill"
    REVERT = "revert"
    CANCEL = "cancel"
    EXPIRE = "expire"


class Progress(enum.Enum):
    """How much of an order its executed amounts cover."""

    NONE = "none"
    PARTIAL = "partial"
    COMPLETE = "complete"


LIVE = frozenset({OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED})
"""Statuses of orders that can still trade, be cancelled or expire."""
UNSETTLED = LIVE | {OrderStatus.PRESIGNATURE_PENDING}
"""Statuses of orders that may still trade some day: those ``expire`` ends."""


def progress(order: Order, executed_sell: int, executed_buy: int) -> Progress:
    """Fill progress from executed amounts (sell amount excluding fees, for a sell order;
    buy amount for a buy order), as ``GPv2Settlement.filledAmount`` counts it."""
    executed, target = (
        (executed_sell, order.sell_amount)
        if order.kind is OrderKind.SELL
        else (executed_buy, order.buy_amount)
    )
    if executed <= 0:
        return Progress.NONE
    if executed >= target or not order.partially_fillable:
        return Progress.COMPLETE
    return Progress.PARTIAL


def next_status(current: OrderStatus, event: Event, after: Progress) -> OrderStatus:
    """The status after ``event``, given the fill progress ``after`` it.

    Returns ``current`` when the event does not change the status (cancelling a filled
    order, expiring a cancelled one, ...); callers treat that as "not applied".
    """
    if event is Event.CANCEL:
        return OrderStatus.CANCELLED if current in LIVE else current
    if event is Event.EXPIRE:
        return OrderStatus.EXPIRED if current in UNSETTLED else current
    if event is Event.FILL:
        if after is Progress.COMPLETE:
            return OrderStatus.FILLED
        if after is Progress.PARTIAL and current is OrderStatus.OPEN:
            return OrderStatus.PARTIALLY_FILLED
        return current
    # REVERT: only fill-made statuses move, to what the remaining fills say.
    if current not in (OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED):
        return current
    return _BY_PROGRESS[after]


_BY_PROGRESS = {
    Progress.NONE: OrderStatus.OPEN,
    Progress.PARTIAL: OrderStatus.PARTIALLY_FILLED,
    Progress.COMPLETE: OrderStatus.FILLED,
}


def gate(stored: StoredOrder) -> StoredOrder:
    """``stored`` with the status its pre-signature allows: ``presignaturePending`` for an
    unsigned order that would be open or partially filled; back to what its fills say for
    a signed one that was pending."""
    status = stored.status
    if not stored.presigned and status in LIVE:
        status = OrderStatus.PRESIGNATURE_PENDING
    elif stored.presigned and status is OrderStatus.PRESIGNATURE_PENDING:
        executed = (stored.executed_sell_amount, stored.executed_buy_amount)
        status = _BY_PROGRESS[progress(stored.order, *executed)]
    return stored if status is stored.status else msgspec.structs.replace(stored, status=status)


def with_presignature(stored: StoredOrder, signed: bool) -> StoredOrder:
    """``stored`` once its pre-signature is set (``signed``) or revoked."""
    return gate(msgspec.structs.replace(stored, presigned=signed))


def with_fill(
    stored: StoredOrder, sell: int, buy: int, fee: int, *, revert: bool = False
) -> StoredOrder:
    """``stored`` after adding one trade's executed amounts (or taking them back out when
    ``revert``), with the status that follows."""
    sign = -1 if revert else 1
    executed_sell = stored.executed_sell_amount + sign * sell
    executed_buy = stored.executed_buy_amount + sign * buy
    status = next_status(
        stored.status,
        Event.REVERT if revert else Event.FILL,
        progress(stored.order, executed_sell, executed_buy),
    )
    return gate(
        msgspec.structs.replace(
            stored,
            status=status,
            executed_sell_amount=executed_sell,
            executed_buy_amount=executed_buy,
            executed_fee_amount=stored.executed_fee_amount + sign * fee,
        )
    )
