"""Durable webhooks: the store's interface, its rows and the SQL both backends share.

A status change of an owner's order creates one ``webhook_deliveries`` row per webhook of
that owner *in the transaction that records the change* (``enqueue_rows``), so a change
is never committed without its deliveries (at least once). The dispatcher claims due rows
for a lease (``claim_deliveries``: the row's next attempt moves to the lease's end, so a
dispatcher that dies mid-send leaves it to be retried; PostgreSQL claims with
``FOR UPDATE SKIP LOCKED``, so replicas never take the same row), sends, and reports the
outcome (``finish_delivery``).
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import msgspec

from intents.errors import ErrorCode, OrderError
from intents.feed import StatusChange
from intents.types import Address


class DeliveryState(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class StoredWebhook:
    id: str
    owner: Address
    url: str
    secret: str
    creation_time: float


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event for one webhook: ``id`` is its ``webhook-id`` (stable across retries)."""

    id: str
    webhook_id: str
    body: bytes
    state: DeliveryState
    attempts: int
    next_attempt: float
    last_error: str | None
    created: float
    url: str = ""
    secret: str = ""


class StatusEventBody(msgspec.Struct, frozen=True, rename="camel"):
    """What a webhook receives: one status change of one of the owner's orders."""

    type: str
    uid: str
    owner: str
    status: str
    time: float


class WebhookStore(Protocol):
    async def register_webhook(self, hook: StoredWebhook, nonce: bytes, cap: int) -> None:
        """Store ``hook`` and consume ``(owner, nonce)`` in one transaction; raises
        ``NonceAlreadyUsed`` (409) for a used nonce, ``TooManyWebhooks`` when the owner
        has ``cap`` already; writes nothing then."""
        ...

    async def delete_webhook(self, webhook_id: str, owner: Address, nonce: bytes) -> None:
        """Delete ``owner``'s webhook (its pending deliveries with it), consuming the
        nonce; ``WebhookNotFound`` (also for another owner's id), ``NonceAlreadyUsed``."""
        ...

    async def webhooks_by_owner(self, owner: Address) -> list[StoredWebhook]: ...

    async def get_webhook(self, webhook_id: str) -> StoredWebhook | None: ...

    async def claim_deliveries(self, now: float, lease: float, limit: int) -> list[Delivery]:
        """Up to ``limit`` pending deliveries due at ``now``, oldest first, with their
        webhook's URL and secret; each is not due again until ``now + lease``."""
        ...

    async def finish_delivery(
        self, delivery_id: str, *, error: str | None, retry_at: float | None
    ) -> None:
        """Record an attempt: delivered (``error`` None), to retry at ``retry_at``, or
        failed for good (``retry_at`` None)."""
        ...

    async def deliveries(self, webhook_id: str, limit: int) -> list[Delivery]:
        """The webhook's deliveries, newest first."""
        ...


MAX_ERROR = 500
COLUMNS = "id, webhook_id, body, state, attempts, next_attempt, last_error, created"
INSERT_WEBHOOK = (
    "INSERT INTO webhooks (id, owner, url, secret, creation_time) VALUES (?, ?, ?, ?, ?)"
)
INSERT_NONCE = "INSERT INTO webhook_nonces (owner, nonce) VALUES (?, ?)"
COUNT_WEBHOOKS = "SELECT count(*) FROM webhooks WHERE owner = ?"
SELECT_WEBHOOK = "SELECT id, owner, url, secret, creation_time FROM webhooks"
INSERT_DELIVERY = f"INSERT INTO webhook_deliveries ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
SELECT_DELIVERIES = (
    f"SELECT {COLUMNS} FROM webhook_deliveries WHERE webhook_id = ? ORDER BY seq DESC LIMIT ?"
)
FINISH = (
    "UPDATE webhook_deliveries SET attempts = attempts + 1, state = ?, next_attempt = ?,"
    " last_error = ? WHERE id = ?"
)


def new_webhook_id() -> str:
    return "wh_" + secrets.token_hex(12)


def nonce_used(owner: Address, nonce: bytes) -> OrderError:
    return OrderError(
        ErrorCode.NONCE_ALREADY_USED,
        f"nonce 0x{nonce.hex()} of {owner} is already used: a signed request counts once",
    )


def too_many(owner: Address, cap: int) -> OrderError:
    return OrderError(
        ErrorCode.TOO_MANY_WEBHOOKS, f"{owner} has {cap} webhooks, the most one owner may have"
    )


def webhook_not_found(webhook_id: str) -> OrderError:
    return OrderError(ErrorCode.WEBHOOK_NOT_FOUND, f"no webhook {webhook_id[:80]!r} of this owner")


def webhook_of(row: Sequence[object]) -> StoredWebhook:
    hid, owner, url, secret, created = row
    return StoredWebhook(str(hid), Address(str(owner)), str(url), str(secret), float(str(created)))


def delivery_of(row: Sequence[object], url: str = "", secret: str = "") -> Delivery:
    did, hid, body, state, attempts, next_at, error, created = row[:8]
    return Delivery(
        id=str(did),
        webhook_id=str(hid),
        body=str(body).encode(),
        state=DeliveryState(str(state)),
        attempts=int(str(attempts)),
        next_attempt=float(str(next_at)),
        last_error=None if error is None else str(error),
        created=float(str(created)),
        url=url,
        secret=secret,
    )


def enqueue_rows(
    hooks: Iterable[tuple[str, str]], changes: Sequence[StatusChange], now: float
) -> list[tuple[object, ...]]:
    """The delivery rows (``INSERT_DELIVERY``'s order) of ``changes`` for ``hooks``
    (``(webhook id, owner)`` of the changes' owners), due at once."""
    by_owner: dict[str, list[str]] = {}
    for hook_id, owner in hooks:
        by_owner.setdefault(owner, []).append(hook_id)
    rows: list[tuple[object, ...]] = []
    for change in changes:
        body = msgspec.json.encode(
            StatusEventBody(
                type="order.status",
                uid="0x" + change.uid.hex(),
                owner=change.owner,
                status=change.status.value,
                time=change.time,
            )
        ).decode()
        for hook_id in by_owner.get(change.owner, ()):
            message_id = "msg_" + secrets.token_hex(12)
            rows.append((message_id, hook_id, body, "pending", 0, now, None, now))
    return rows


def finish_args(
    delivery_id: str, error: str | None, retry_at: float | None, now: float
) -> tuple[object, ...]:
    """``FINISH``'s arguments for an attempt's outcome."""
    if error is None:
        return (DeliveryState.DELIVERED.value, now, None, delivery_id)
    state = DeliveryState.PENDING if retry_at is not None else DeliveryState.FAILED
    return (state.value, retry_at if retry_at is not None else now, error[:MAX_ERROR], delivery_id)
