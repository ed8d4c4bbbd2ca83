"""The SQLite book's conditional orders (``intents.conditional_store``): the mixin that
gives ``SqliteBook`` the ``ConditionalStore`` methods (writes run by its writer thread)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from intents import conditional_store as q
from intents.errors import DuplicatedOrder
from intents.feed import StatusChange
from intents.types import Address

T = TypeVar("T")
Changes = list[StatusChange]

SCHEMA = """
CREATE TABLE IF NOT EXISTS conditional_orders (
    seq INTEGER PRIMARY KEY,
    id BLOB NOT NULL UNIQUE,
    owner TEXT NOT NULL,
    creation_time REAL NOT NULL,
    cancelled INTEGER NOT NULL,
    document TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS conditional_orders_owner ON conditional_orders (owner, seq);
CREATE TABLE IF NOT EXISTS conditional_parts (
    id BLOB NOT NULL,
    idx INTEGER NOT NULL,
    status TEXT NOT NULL,
    uid BLOB,
    reason TEXT,
    PRIMARY KEY (id, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS conditional_history (
    seq INTEGER PRIMARY KEY,
    id BLOB NOT NULL,
    time REAL NOT NULL,
    event TEXT NOT NULL,
    part INTEGER,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS conditional_history_id ON conditional_history (id, seq);
"""


def _insert(conn: sqlite3.Connection, c: q.StoredConditional) -> tuple[None, Changes]:
    try:
        conn.execute(
            q.INSERT_HEAD,
            (c.id, c.owner, c.creation_time, int(c.cancelled), q.encode_document(c.document)),
        )
    except sqlite3.IntegrityError:
        raise DuplicatedOrder(f"conditional order 0x{c.id.hex()} is already stored") from None
    conn.executemany(q.INSERT_PART, [(c.id, p.index) for p in c.parts])
    conn.execute(q.INSERT_HISTORY, (c.id, c.creation_time, "created", None, None))
    return None, []


def _transition(
    conn: sqlite3.Connection, sql: str, args: tuple[Any, ...], history: tuple[Any, ...]
) -> tuple[bool, Changes]:
    changed = conn.execute(sql, args).rowcount == 1
    if changed:
        conn.execute(q.INSERT_HISTORY, history)
    return changed, []


def _cancel(conn: sqlite3.Connection, cid: bytes, now: float) -> tuple[list[int], Changes]:
    row = conn.execute("SELECT cancelled FROM conditional_orders WHERE id = ?", (cid,)).fetchone()
    (pending,) = conn.execute(q.COUNT_PENDING, (cid,)).fetchone()
    q.refuse_cancel(cid, None if row is None else bool(row[0]), pending)
    conn.execute(q.CANCEL_HEAD, (cid,))
    parts = sorted(i for (i,) in conn.execute(q.CANCEL_PARTS, (cid,)).fetchall())
    detail = "parts " + ", ".join(map(str, parts)) + " withdrawn"
    conn.execute(q.INSERT_HISTORY, (cid, now, "cancelled", None, detail))
    return parts, []


class SqliteConditionals:
    """``ConditionalStore`` for ``SqliteBook`` (which provides ``_write`` and ``_read``)."""

    async def _write(self, op: Callable[[sqlite3.Connection], tuple[T, Any]]) -> T:
        raise NotImplementedError

    async def _read(self, sql: str, params: Iterable[Any]) -> list[Any]:
        raise NotImplementedError

    async def insert_conditional(self, conditional: q.StoredConditional) -> None:
        await self._write(lambda conn: _insert(conn, conditional))

    async def _assemble(self, head: Any) -> q.StoredConditional:
        parts = await self._read(q.SELECT_PARTS, (head[0],))
        history = await self._read(q.SELECT_HISTORY, (head[0],))
        return q.assemble(head, parts, history)

    async def get_conditional(self, conditional_id: bytes) -> q.StoredConditional | None:
        rows = await self._read(q.SELECT_HEAD, (conditional_id,))
        return await self._assemble(rows[0]) if rows else None

    async def conditionals_by_owner(
        self, owner: Address, offset: int = 0, limit: int = 10
    ) -> list[q.StoredConditional]:
        rows = await self._read(q.SELECT_BY_OWNER, (owner, limit, offset))
        return [await self._assemble(row) for row in rows]

    async def active_conditionals(self) -> list[q.StoredConditional]:
        return [await self._assemble(row) for row in await self._read(q.SELECT_ACTIVE, ())]

    async def unbooked_releases(self) -> list[q.StoredConditional]:
        return [await self._assemble(row) for row in await self._read(q.SELECT_UNBOOKED, ())]

    async def release_part(self, conditional_id: bytes, index: int, uid: bytes, now: float) -> bool:
        args = (uid, conditional_id, index)
        history = (conditional_id, now, "released", index, "0x" + uid.hex())
        return await self._write(lambda conn: _transition(conn, q.RELEASE_PART, args, history))

    async def note_part(self, conditional_id: bytes, index: int, reason: str, now: float) -> None:
        args = (reason, conditional_id, index, reason)
        history = (conditional_id, now, "waiting", index, reason)
        await self._write(lambda conn: _transition(conn, q.NOTE_PART, args, history))

    async def expire_part(self, conditional_id: bytes, index: int, now: float) -> bool:
        args = (conditional_id, index)
        history = (conditional_id, now, "expired", index, None)
        return await self._write(lambda conn: _transition(conn, q.EXPIRE_PART, args, history))

    async def cancel_conditional(self, conditional_id: bytes, now: float) -> list[int]:
        return await self._write(lambda conn: _cancel(conn, conditional_id, now))
