"""The SQLite book's status outbox (``intents.outbox``): the table, the insert its group
commit runs with every batch of status changes (same transaction), and the mixin that
gives ``SqliteBook`` the ``Outbox`` reads and pruning."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from intents.feed import ChangeFeed, StatusChange, Subscription
from intents.outbox import BATCH, OutboxPoller, from_rows
from intents.types import Address

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS status_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid BLOB NOT NULL,
    owner TEXT NOT NULL,
    status TEXT NOT NULL,
    time REAL NOT NULL,
    created REAL NOT NULL
);
"""
# AUTOINCREMENT: an id is never reused once old rows are pruned, so a reader polling
# ``id > last`` never mistakes a new row for one it has seen.
_INSERT = "INSERT INTO status_outbox (uid, owner, status, time, created) VALUES (?, ?, ?, ?, ?)"
_PRUNE = "DELETE FROM status_outbox WHERE created < ? AND id < (SELECT max(id) FROM status_outbox)"


def write_outbox(conn: sqlite3.Connection, changes: Sequence[StatusChange], now: float) -> None:
    """Append ``changes`` to the outbox (inside the caller's transaction)."""
    conn.executemany(_INSERT, [(c.uid, c.owner, c.status.value, c.time, now) for c in changes])


def newest_outbox_id(conn: sqlite3.Connection) -> int:
    """The newest outbox id committed (the writer's connection, after its commit)."""
    return int(conn.execute("SELECT max(id) FROM status_outbox").fetchone()[0] or 0)


def _prune(conn: sqlite3.Connection, before: float) -> tuple[int, list[StatusChange]]:
    return conn.execute(_PRUNE, (before,)).rowcount, []


class SqliteOutbox:
    """``Outbox`` and ``subscribe`` for ``SqliteBook`` (which provides ``_write``,
    ``_read``, its feed and the feed's poller)."""

    _feed: ChangeFeed
    _poller: OutboxPoller

    def subscribe(self, owner: Address | None = None) -> Subscription:
        # The writer reports each commit's newest id before acknowledging its writes, so a
        # change whose write returned before this call is below the floor.
        return self._feed.subscribe(owner, floor=self._poller.floor)

    async def _write(self, op: Callable[[sqlite3.Connection], tuple[T, Any]]) -> T:
        raise NotImplementedError

    async def _read(self, sql: str, params: Iterable[Any]) -> list[Any]:
        raise NotImplementedError

    async def outbox_after(self, after: int, limit: int = BATCH) -> list[tuple[int, StatusChange]]:
        rows = await self._read(
            "SELECT id, uid, owner, status, time FROM status_outbox WHERE id > ?"
            " ORDER BY id LIMIT ?",
            (after, limit),
        )
        return from_rows(rows)

    async def outbox_bounds(self) -> tuple[int, int]:
        ((low, high),) = await self._read("SELECT min(id), max(id) FROM status_outbox", ())
        return int(low or 0), int(high or 0)

    async def prune_outbox(self, before: float) -> int:
        return await self._write(lambda conn: _prune(conn, before))
