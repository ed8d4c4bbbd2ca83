"""The SQLite book's stored quotes (``intents.quotes``): the mixin that gives ``SqliteBook``
the ``QuoteStore`` methods."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from intents.book_rows import QUOTE_COLUMNS, quote_of, quote_row
from intents.feed import StatusChange
from intents.quotes import StoredQuote

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS quotes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner TEXT NOT NULL,
    sell_token TEXT NOT NULL,
    buy_token TEXT NOT NULL,
    kind TEXT NOT NULL,
    quoted_sell_amount TEXT NOT NULL,
    quoted_buy_amount TEXT NOT NULL,
    fee_amount TEXT NOT NULL,
    verified INTEGER NOT NULL,
    creation_time REAL NOT NULL,
    expiration REAL NOT NULL
);
"""


def _insert(conn: sqlite3.Connection, quote: StoredQuote) -> tuple[int, list[StatusChange]]:
    cursor = conn.execute(
        f"INSERT INTO quotes ({QUOTE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        quote_row(quote),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid, []


class SqliteQuotes:
    """``QuoteStore`` for ``SqliteBook`` (which provides ``_write`` and ``_read``)."""

    async def _write(self, op: Callable[[sqlite3.Connection], tuple[T, Any]]) -> T:
        raise NotImplementedError

    async def _read(self, sql: str, params: Iterable[Any]) -> list[Any]:
        raise NotImplementedError

    async def insert_quote(self, quote: StoredQuote) -> int:
        return await self._write(lambda conn: _insert(conn, quote))

    async def get_quote(self, quote_id: int) -> StoredQuote | None:
        rows = await self._read(f"SELECT {QUOTE_COLUMNS} FROM quotes WHERE id = ?", (quote_id,))
        return quote_of(quote_id, rows[0]) if rows else None
