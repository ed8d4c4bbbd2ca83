"""The PostgreSQL book's webhooks (``intents.webhook_store``): the mixin that gives
``PostgresBook`` the ``WebhookStore`` methods, and ``enqueue`` which the book runs in every
transaction that records status changes. Deliveries are claimed with
``FOR UPDATE SKIP LOCKED``: two replicas' dispatchers never take the same row."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import asyncpg

from intents import webhook_store as q
from intents.conditional_store import numbered
from intents.feed import StatusChange
from intents.types import Address

SCHEMA = """
CREATE TABLE IF NOT EXISTS webhooks (
    id TEXT PRIMARY KEY,
    seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    owner TEXT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    creation_time DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS webhooks_owner ON webhooks (owner);
CREATE TABLE IF NOT EXISTS webhook_nonces (
    owner TEXT NOT NULL,
    nonce BYTEA NOT NULL,
    PRIMARY KEY (owner, nonce)
);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id TEXT PRIMARY KEY,
    seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    webhook_id TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt DOUBLE PRECISION NOT NULL,
    last_error TEXT,
    created DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (next_attempt)
    WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS webhook_deliveries_hook ON webhook_deliveries (webhook_id, seq);
"""
_INSERT_WEBHOOK = numbered(q.INSERT_WEBHOOK)
_INSERT_NONCE = numbered(q.INSERT_NONCE)
_COUNT = numbered(q.COUNT_WEBHOOKS)
_INSERT_DELIVERY = numbered(q.INSERT_DELIVERY)
_SELECT_DELIVERIES = numbered(q.SELECT_DELIVERIES)
_FINISH = numbered(q.FINISH)
_OWNER_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('webhooks/' || $1, 0))"
_CLAIM = f"""
UPDATE webhook_deliveries d SET next_attempt = $1
FROM (SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt <= $2
      ORDER BY next_attempt LIMIT $3 FOR UPDATE SKIP LOCKED) due, webhooks w
WHERE d.id = due.id AND w.id = d.webhook_id
RETURNING {", ".join("d." + c.strip() for c in q.COLUMNS.split(","))}, w.url, w.secret
"""


async def enqueue(conn: Any, changes: Sequence[StatusChange], now: float) -> None:
    """Write the deliveries of ``changes`` (inside the caller's transaction)."""
    if not changes:
        return
    owners = sorted({c.owner for c in changes})
    hooks = await conn.fetch("SELECT id, owner FROM webhooks WHERE owner = ANY($1)", owners)
    if hooks:
        rows = q.enqueue_rows([(r[0], r[1]) for r in hooks], changes, now)
        await conn.executemany(_INSERT_DELIVERY, rows)


class PostgresWebhooks:
    """``WebhookStore`` for ``PostgresBook`` (which provides ``_pool`` and ``_clock``)."""

    _pool: Any
    _clock: Callable[[], float]

    async def _consume(self, conn: Any, owner: Address, nonce: bytes) -> None:
        try:
            async with conn.transaction():  # a savepoint: the refusal leaves the rest clean
                await conn.execute(_INSERT_NONCE, owner, nonce)
        except asyncpg.UniqueViolationError:
            raise q.nonce_used(owner, nonce) from None

    async def register_webhook(self, hook: q.StoredWebhook, nonce: bytes, cap: int) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(_OWNER_LOCK, hook.owner)  # the cap holds across replicas
            await self._consume(conn, hook.owner, nonce)
            if await conn.fetchval(_COUNT, hook.owner) >= cap:
                raise q.too_many(hook.owner, cap)
            await conn.execute(
                _INSERT_WEBHOOK, hook.id, hook.owner, hook.url, hook.secret, hook.creation_time
            )

    async def delete_webhook(self, webhook_id: str, owner: Address, nonce: bytes) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await self._consume(conn, owner, nonce)
            deleted = await conn.execute(
                "DELETE FROM webhooks WHERE id = $1 AND owner = $2", webhook_id, owner
            )
            if deleted != "DELETE 1":
                raise q.webhook_not_found(webhook_id)
            await conn.execute("DELETE FROM webhook_deliveries WHERE webhook_id = $1", webhook_id)

    async def webhooks_by_owner(self, owner: Address) -> list[q.StoredWebhook]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(f"{q.SELECT_WEBHOOK} WHERE owner = $1 ORDER BY seq", owner)
        return [q.webhook_of(tuple(r)) for r in rows]

    async def get_webhook(self, webhook_id: str) -> q.StoredWebhook | None:
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(f"{q.SELECT_WEBHOOK} WHERE id = $1", webhook_id)
        return None if row is None else q.webhook_of(tuple(row))

    async def claim_deliveries(self, now: float, lease: float, limit: int) -> list[q.Delivery]:
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(_CLAIM, now + lease, now, limit)
        return sorted((q.delivery_of(tuple(r), r[8], r[9]) for r in rows), key=lambda d: d.created)

    async def finish_delivery(
        self, delivery_id: str, *, error: str | None, retry_at: float | None
    ) -> None:
        args = q.finish_args(delivery_id, error, retry_at, self._clock())
        async with self._pool.acquire() as conn:
            await conn.execute(_FINISH, *args)

    async def deliveries(self, webhook_id: str, limit: int) -> list[q.Delivery]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(_SELECT_DELIVERIES, webhook_id, limit)
        return [q.delivery_of(tuple(r)) for r in rows]
