"""The SQLite book's webhooks (``intents.webhook_store``): the mixin that gives
``SqliteBook`` the ``WebhookStore`` methods, and ``enqueue`` which its group commit runs
with every batch of status changes (same transaction)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from intents import webhook_store as q
from intents.feed import StatusChange
from intents.types import Address

T = TypeVar("T")
Changes = list[StatusChange]

SCHEMA = """
CREATE TABLE IF NOT EXISTS webhooks (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    owner TEXT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    creation_time REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS webhooks_owner ON webhooks (owner);
CREATE TABLE IF NOT EXISTS webhook_nonces (
    owner TEXT NOT NULL,
    nonce BLOB NOT NULL,
    PRIMARY KEY (owner, nonce)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    webhook_id TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt REAL NOT NULL,
    last_error TEXT,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (next_attempt)
    WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS webhook_deliveries_hook ON webhook_deliveries (webhook_id, seq);
"""
_HOOKS_OF = "SELECT id, owner FROM webhooks WHERE owner IN (SELECT value FROM json_each(?))"
_CLAIM = f"""
UPDATE webhook_deliveries SET next_attempt = ?
WHERE id IN (SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt <= ?
             ORDER BY next_attempt LIMIT ?)
RETURNING {q.COLUMNS}
"""


def enqueue(conn: sqlite3.Connection, changes: Sequence[StatusChange], now: float) -> None:
    """Write the deliveries of ``changes`` (inside the caller's transaction)."""
    if not changes:
        return
    owners = json.dumps(sorted({c.owner for c in changes}))
    hooks = conn.execute(_HOOKS_OF, (owners,)).fetchall()
    if hooks:
        conn.executemany(q.INSERT_DELIVERY, q.enqueue_rows(hooks, changes, now))


def _register(
    conn: sqlite3.Connection, hook: q.StoredWebhook, nonce: bytes, cap: int
) -> tuple[None, Changes]:
    try:
        conn.execute(q.INSERT_NONCE, (hook.owner, nonce))
    except sqlite3.IntegrityError:
        raise q.nonce_used(hook.owner, nonce) from None
    (count,) = conn.execute(q.COUNT_WEBHOOKS, (hook.owner,)).fetchone()
    if count >= cap:
        raise q.too_many(hook.owner, cap)
    conn.execute(q.INSERT_WEBHOOK, (hook.id, hook.owner, hook.url, hook.secret, hook.creation_time))
    return None, []


def _delete(
    conn: sqlite3.Connection, webhook_id: str, owner: Address, nonce: bytes
) -> tuple[None, Changes]:
    try:
        conn.execute(q.INSERT_NONCE, (owner, nonce))
    except sqlite3.IntegrityError:
        raise q.nonce_used(owner, nonce) from None
    if conn.execute(
        "DELETE FROM webhooks WHERE id = ? AND owner = ?", (webhook_id, owner)
    ).rowcount:
        conn.execute("DELETE FROM webhook_deliveries WHERE webhook_id = ?", (webhook_id,))
        return None, []
    raise q.webhook_not_found(webhook_id)


class SqliteWebhooks:
    """``WebhookStore`` for ``SqliteBook`` (which provides ``_write``, ``_read``, ``_clock``)."""

    _clock: Callable[[], float]

    async def _write(self, op: Callable[[sqlite3.Connection], tuple[T, Any]]) -> T:
        raise NotImplementedError

    async def _read(self, sql: str, params: Iterable[Any]) -> list[Any]:
        raise NotImplementedError

    async def register_webhook(self, hook: q.StoredWebhook, nonce: bytes, cap: int) -> None:
        await self._write(lambda conn: _register(conn, hook, nonce, cap))

    async def delete_webhook(self, webhook_id: str, owner: Address, nonce: bytes) -> None:
        await self._write(lambda conn: _delete(conn, webhook_id, owner, nonce))

    async def webhooks_by_owner(self, owner: Address) -> list[q.StoredWebhook]:
        rows = await self._read(f"{q.SELECT_WEBHOOK} WHERE owner = ? ORDER BY seq", (owner,))
        return [q.webhook_of(r) for r in rows]

    async def get_webhook(self, webhook_id: str) -> q.StoredWebhook | None:
        rows = await self._read(f"{q.SELECT_WEBHOOK} WHERE id = ?", (webhook_id,))
        return q.webhook_of(rows[0]) if rows else None

    async def claim_deliveries(self, now: float, lease: float, limit: int) -> list[q.Delivery]:
        def claim(conn: sqlite3.Connection) -> tuple[list[q.Delivery], Changes]:
            rows = conn.execute(_CLAIM, (now + lease, now, limit)).fetchall()
            hooks = {
                r[0]: r
                for r in conn.execute(
                    f"{q.SELECT_WEBHOOK} WHERE id IN (SELECT value FROM json_each(?))",
                    (json.dumps(sorted({r[1] for r in rows})),),
                )
            }
            return [q.delivery_of(r, hooks[r[1]][2], hooks[r[1]][3]) for r in rows], []

        return await self._write(claim)

    async def finish_delivery(
        self, delivery_id: str, *, error: str | None, retry_at: float | None
    ) -> None:
        args = q.finish_args(delivery_id, error, retry_at, self._clock())
        await self._write(lambda conn: (conn.execute(q.FINISH, args) and None, []))

    async def deliveries(self, webhook_id: str, limit: int) -> list[q.Delivery]:
        rows = await self._read(q.SELECT_DELIVERIES, (webhook_id, limit))
        return [q.delivery_of(r) for r in rows]
