"""The SQLite book's pre-signature events (``intents.presignatures``): operations run by
its writer thread, and the mixin that gives ``SqliteBook`` the ``PresignatureBook`` methods."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from intents.book_sqlite_rows import apply, load
from intents.feed import StatusChange
from intents.lifecycle import with_presignature
from intents.order import SigningScheme
from intents.presignatures import PreSignatureEvent
from intents.types import Address, OrderUid

T = TypeVar("T")
Changes = list[StatusChange]

SCHEMA = """
CREATE TABLE IF NOT EXISTS presignature_events (
    block_number INTEGER NOT NULL,
    log_index INTEGER NOT NULL,
    owner TEXT NOT NULL,
    uid BLOB NOT NULL,
    signed INTEGER NOT NULL,
    PRIMARY KEY (block_number, log_index)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS presignature_events_uid
    ON presignature_events (uid, block_number, log_index);
CREATE TABLE IF NOT EXISTS presignature_cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    block INTEGER NOT NULL
);
"""
_LATEST = (
    "SELECT signed FROM presignature_events WHERE uid = ?"
    " ORDER BY block_number DESC, log_index DESC LIMIT 1"
)


def sync_presignature(
    conn: sqlite3.Connection, uid: OrderUid, now: float, *, unsigned_without_event: bool
) -> tuple[bool, Changes]:
    """Give the ``presign`` order ``uid`` (if stored) the pre-signature its latest stored
    event says; with none, unsigned if ``unsigned_without_event``, else left as it is.
    Returns whether its pre-signature changed, and its status change."""
    row = conn.execute("SELECT signing_scheme FROM orders WHERE uid = ?", (uid,)).fetchone()
    if row is None or row[0] != SigningScheme.PRESIGN.value:
        return False, []
    event = conn.execute(_LATEST, (uid,)).fetchone()
    if event is None and not unsigned_without_event:
        return False, []
    signed = bool(event[0]) if event is not None else False
    stored = load(conn, uid)
    if stored.presigned is signed:
        return False, []
    return True, apply(conn, stored, with_presignature(stored, signed), now)


def _replace(
    conn: sqlite3.Connection,
    first_block: int,
    events: list[PreSignatureEvent],
    cursor: int,
    now: float,
) -> tuple[list[OrderUid], Changes]:
    dropped = conn.execute(
        "SELECT uid FROM presignature_events WHERE block_number >= ?", (first_block,)
    ).fetchall()
    conn.execute("DELETE FROM presignature_events WHERE block_number >= ?", (first_block,))
    conn.executemany(
        "INSERT INTO presignature_events VALUES (?, ?, ?, ?, ?)",
        [(e.block_number, e.log_index, e.owner, bytes(e.uid), e.signed) for e in events],
    )
    affected = dict.fromkeys([OrderUid(bytes(uid)) for (uid,) in dropped] + [e.uid for e in events])
    changed, changes = [], []
    for uid in affected:
        moved, change = sync_presignature(conn, uid, now, unsigned_without_event=True)
        if moved:
            changed.append(uid)
        changes += change
    conn.execute(
        "INSERT INTO presignature_cursor VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET block = ?",
        (cursor, cursor),
    )
    return changed, changes


class SqlitePresignatures:
    """``PresignatureBook`` for ``SqliteBook`` (which provides ``_write``, ``_read`` and
    ``_clock``)."""

    _clock: Callable[[], float]

    async def _write(self, op: Callable[[sqlite3.Connection], tuple[T, Changes]]) -> T:
        raise NotImplementedError

    async def _read(self, sql: str, params: Iterable[Any]) -> list[Any]:
        raise NotImplementedError

    async def presignature_cursor(self) -> int | None:
        rows = await self._read("SELECT block FROM presignature_cursor", ())
        return int(rows[0][0]) if rows else None

    async def presignature_events(self, first_block: int) -> list[PreSignatureEvent]:
        rows = await self._read(
            "SELECT block_number, log_index, owner, uid, signed FROM presignature_events"
            " WHERE block_number >= ? ORDER BY block_number, log_index",
            (first_block,),
        )
        return [
            PreSignatureEvent(block, index, Address(owner), OrderUid(bytes(uid)), bool(signed))
            for block, index, owner, uid, signed in rows
        ]

    async def replace_presignatures(
        self, first_block: int, events: list[PreSignatureEvent], cursor: int
    ) -> list[OrderUid]:
        return await self._write(
            lambda conn: _replace(conn, first_block, events, cursor, self._clock())
        )
