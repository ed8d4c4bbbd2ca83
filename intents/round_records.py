"""The auctioneer's rounds as the order book keeps them, for ``GET /api/v1/rounds``: one
JSON document per auction (``intents.http.rounds.Round``, built by ``solver.round_log``)
with the UIDs it auctioned, so any API process reads what the auctioneer's process wrote.

The book stores the documents as they are given (it knows no HTTP shape) in tables of
their own, created on open (``CREATE ... IF NOT EXISTS``: an existing book gains them).
``SqliteRounds`` and ``PostgresRounds`` are mixed into the two book adapters.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from intents.types import OrderUid


class RoundRecords(Protocol):
    async def record_round(
        self, auction_id: int, uids: Sequence[OrderUid], document: bytes
    ) -> None:
        """Keep ``document`` as auction ``auction_id``'s round, auctioning ``uids``
        (replacing an earlier one, and its orders)."""
        ...

    async def rounds(
        self, limit: int, *, uid: OrderUid | None = None, auction_id: int | None = None
    ) -> list[bytes]:
        """The documents, newest first: at most ``limit``, of the rounds that auctioned
        ``uid``, or the one of ``auction_id``."""
        ...


SQLITE_ROUNDS_SCHEMA = """
CREATE TABLE IF NOT EXISTS rounds (
    auction_id INTEGER PRIMARY KEY,
    document BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS round_orders (
    uid BLOB NOT NULL,
    auction_id INTEGER NOT NULL,
    PRIMARY KEY (uid, auction_id)
) WITHOUT ROWID;
"""

POSTGRES_ROUNDS_SCHEMA = """
CREATE TABLE IF NOT EXISTS rounds (
    auction_id BIGINT PRIMARY KEY,
    document BYTEA NOT NULL
);
CREATE TABLE IF NOT EXISTS round_orders (
    uid BYTEA NOT NULL,
    auction_id BIGINT NOT NULL,
    PRIMARY KEY (uid, auction_id)
);
"""

_SELECT = "SELECT r.document FROM rounds r"
_BY_ORDER = " JOIN round_orders o ON o.auction_id = r.auction_id WHERE o.uid = {}"
_BY_ID = " WHERE r.auction_id = {}"
_NEWEST = " ORDER BY r.auction_id DESC LIMIT {}"


def _query(
    placeholder: Callable[[int], str], limit: int, uid: OrderUid | None, auction_id: int | None
) -> tuple[str, list[Any]]:
    sql, args = _SELECT, list[Any]()
    if uid is not None:
        sql, args = sql + _BY_ORDER.format(placeholder(1)), [bytes(uid)]
    elif auction_id is not None:
        sql, args = sql + _BY_ID.format(placeholder(1)), [auction_id]
    return sql + _NEWEST.format(placeholder(len(args) + 1)), [*args, limit]


class SqliteRounds:
    """Mixed into ``SqliteBook``, which provides ``_read`` and ``_write``."""

    _read: Callable[[str, Iterable[Any]], Any]
    _write: Callable[[Callable[[sqlite3.Connection], tuple[Any, list[Any]]]], Any]

    async def record_round(
        self, auction_id: int, uids: Sequence[OrderUid], document: bytes
    ) -> None:
        def op(conn: sqlite3.Connection) -> tuple[None, list[Any]]:
            conn.execute("INSERT OR REPLACE INTO rounds VALUES (?, ?)", (auction_id, document))
            conn.execute("DELETE FROM round_orders WHERE auction_id = ?", (auction_id,))
            conn.executemany(
                "INSERT OR IGNORE INTO round_orders VALUES (?, ?)",
                [(bytes(uid), auction_id) for uid in uids],
            )
            return None, []

        await self._write(op)

    async def rounds(
        self, limit: int, *, uid: OrderUid | None = None, auction_id: int | None = None
    ) -> list[bytes]:
        sql, args = _query(lambda _: "?", limit, uid, auction_id)
        return [bytes(row[0]) for row in await self._read(sql, args)]


class PostgresRounds:
    """Mixed into ``PostgresBook``, which provides ``_pool``."""

    _pool: Any  # asyncpg.Pool

    async def record_round(
        self, auction_id: int, uids: Sequence[OrderUid], document: bytes
    ) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO rounds VALUES ($1, $2)"
                " ON CONFLICT (auction_id) DO UPDATE SET document = excluded.document",
                auction_id,
                document,
            )
            await conn.execute("DELETE FROM round_orders WHERE auction_id = $1", auction_id)
            await conn.executemany(
                "INSERT INTO round_orders VALUES ($1, $2) ON CONFLICT DO NOTHING",
                [(bytes(uid), auction_id) for uid in uids],
            )

    async def rounds(
        self, limit: int, *, uid: OrderUid | None = None, auction_id: int | None = None
    ) -> list[bytes]:
        sql, args = _query(lambda n: f"${n}", limit, uid, auction_id)
        async with self._pool.acquire() as conn:
            return [bytes(row[0]) for row in await conn.fetch(sql, *args)]
