"""The PostgreSQL book's conditional orders (``intents.conditional_store``): the mixin that
gives ``PostgresBook`` the ``ConditionalStore`` methods."""

from __future__ import annotations

from typing import Any

import asyncpg

from intents import conditional_store as q
from intents.errors import DuplicatedOrder
from intents.types import Address

SCHEMA = """
CREATE TABLE IF NOT EXISTS conditional_orders (
    id BYTEA PRIMARY KEY,
    seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    owner TEXT NOT NULL,
    creation_time DOUBLE PRECISION NOT NULL,
    cancelled BOOLEAN NOT NULL,
    document TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS conditional_orders_owner ON conditional_orders (owner, seq);
CREATE TABLE IF NOT EXISTS conditional_parts (
    id BYTEA NOT NULL,
    idx INTEGER NOT NULL,
    status TEXT NOT NULL,
    uid BYTEA,
    reason TEXT,
    PRIMARY KEY (id, idx)
);
CREATE TABLE IF NOT EXISTS conditional_history (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id BYTEA NOT NULL,
    time DOUBLE PRECISION NOT NULL,
    event TEXT NOT NULL,
    part INTEGER,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS conditional_history_id ON conditional_history (id, seq);
"""

_INSERT_HEAD = q.numbered(q.INSERT_HEAD)
_INSERT_PART = q.numbered(q.INSERT_PART)
_INSERT_HISTORY = q.numbered(q.INSERT_HISTORY)
_SELECT_HEAD = q.numbered(q.SELECT_HEAD)
_SELECT_PARTS = q.numbered(q.SELECT_PARTS)
_SELECT_HISTORY = q.numbered(q.SELECT_HISTORY)
_SELECT_BY_OWNER = q.numbered(q.SELECT_BY_OWNER)
_RELEASE_PART = q.numbered(q.RELEASE_PART)
_NOTE_PART = q.numbered(q.NOTE_PART)
_EXPIRE_PART = q.numbered(q.EXPIRE_PART)
_CANCEL_HEAD = q.numbered(q.CANCEL_HEAD)
_CANCEL_PARTS = q.numbered(q.CANCEL_PARTS)
_COUNT_PENDING = q.numbered(q.COUNT_PENDING)


class PostgresConditionals:
    """``ConditionalStore`` for ``PostgresBook`` (which provides ``_pool``)."""

    _pool: Any

    async def insert_conditional(self, conditional: q.StoredConditional) -> None:
        c = conditional
        async with self._pool.acquire() as conn, conn.transaction():
            try:
                await conn.execute(
                    _INSERT_HEAD,
                    c.id, c.owner, c.creation_time, c.cancelled, q.encode_document(c.document),
                )  # fmt: skip
            except asyncpg.UniqueViolationError:
                raise DuplicatedOrder(
                    f"conditional order 0x{c.id.hex()} is already stored"
                ) from None
            await conn.executemany(_INSERT_PART, [(c.id, p.index) for p in c.parts])
            await conn.execute(_INSERT_HISTORY, c.id, c.creation_time, "created", None, None)

    async def _assemble(self, conn: Any, head: Any) -> q.StoredConditional:
        parts = await conn.fetch(_SELECT_PARTS, head[0])
        history = await conn.fetch(_SELECT_HISTORY, head[0])
        return q.assemble(tuple(head), [tuple(r) for r in parts], [tuple(r) for r in history])

    async def get_conditional(self, conditional_id: bytes) -> q.StoredConditional | None:
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            head = await conn.fetchrow(_SELECT_HEAD, conditional_id)
            return None if head is None else await self._assemble(conn, head)

    async def conditionals_by_owner(
        self, owner: Address, offset: int = 0, limit: int = 10
    ) -> list[q.StoredConditional]:
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            heads = await conn.fetch(_SELECT_BY_OWNER, owner, limit, offset)
            return [await self._assemble(conn, head) for head in heads]

    async def active_conditionals(self) -> list[q.StoredConditional]:
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            heads = await conn.fetch(q.SELECT_ACTIVE)
            return [await self._assemble(conn, head) for head in heads]

    async def unbooked_releases(self) -> list[q.StoredConditional]:
        async with self._pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            heads = await conn.fetch(q.SELECT_UNBOOKED)
            return [await self._assemble(conn, head) for head in heads]

    async def _transition(self, sql: str, args: tuple[Any, ...], history: tuple[Any, ...]) -> bool:
        async with self._pool.acquire() as conn, conn.transaction():
            changed: bool = await conn.execute(sql, *args) == "UPDATE 1"
            if changed:
                await conn.execute(_INSERT_HISTORY, *history)
            return changed

    async def release_part(self, conditional_id: bytes, index: int, uid: bytes, now: float) -> bool:
        history = (conditional_id, now, "released", index, "0x" + uid.hex())
        return await self._transition(_RELEASE_PART, (uid, conditional_id, index), history)

    async def note_part(self, conditional_id: bytes, index: int, reason: str, now: float) -> None:
        history = (conditional_id, now, "waiting", index, reason)
        await self._transition(_NOTE_PART, (reason, conditional_id, index, reason), history)

    async def expire_part(self, conditional_id: bytes, index: int, now: float) -> bool:
        history = (conditional_id, now, "expired", index, None)
        return await self._transition(_EXPIRE_PART, (conditional_id, index), history)

    async def cancel_conditional(self, conditional_id: bytes, now: float) -> list[int]:
        cid = conditional_id
        async with self._pool.acquire() as conn, conn.transaction():
            cancelled = await conn.fetchval(
                "SELECT cancelled FROM conditional_orders WHERE id = $1 FOR UPDATE", cid
            )
            pending = await conn.fetchval(_COUNT_PENDING, cid)
            q.refuse_cancel(cid, cancelled, int(pending))
            await conn.execute(_CANCEL_HEAD, cid)
            parts = sorted(r[0] for r in await conn.fetch(_CANCEL_PARTS, cid))
            detail = "parts " + ", ".join(map(str, parts)) + " withdrawn"
            await conn.execute(_INSERT_HISTORY, cid, now, "cancelled", None, detail)
            return parts
