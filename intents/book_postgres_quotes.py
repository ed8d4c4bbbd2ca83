"""The PostgreSQL book's stored quotes (``intents.quotes``): the mixin that gives
``PostgresBook`` the ``QuoteStore`` methods."""

from __future__ import annotations

from typing import Any

from intents.book_rows import QUOTE_COLUMNS, quote_of, quote_row
from intents.quotes import StoredQuote

SCHEMA = """
CREATE TABLE IF NOT EXISTS quotes (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner TEXT NOT NULL,
    sell_token TEXT NOT NULL,
    buy_token TEXT NOT NULL,
    kind TEXT NOT NULL,
    quoted_sell_amount NUMERIC(78, 0) NOT NULL,
    quoted_buy_amount NUMERIC(78, 0) NOT NULL,
    fee_amount NUMERIC(78, 0) NOT NULL,
    verified BOOLEAN NOT NULL,
    creation_time DOUBLE PRECISION NOT NULL,
    expiration DOUBLE PRECISION NOT NULL
);
"""
_INSERT = (
    f"INSERT INTO quotes ({QUOTE_COLUMNS}) VALUES ($1, $2, $3, $4, $5::numeric, $6::numeric,"
    " $7::numeric, $8, $9, $10) RETURNING id"
)
_SELECT = (
    "SELECT owner, sell_token, buy_token, kind, quoted_sell_amount::text,"
    " quoted_buy_amount::text,"
    " fee_amount::text, verified, creation_time, expiration FROM quotes WHERE id = $1"
)


class PostgresQuotes:
    """``QuoteStore`` for ``PostgresBook`` (which provides ``_pool``)."""

    _pool: Any

    async def insert_quote(self, quote: StoredQuote) -> int:
        quote_id: int = await self._pool.fetchval(_INSERT, *quote_row(quote))
        return quote_id

    async def get_quote(self, quote_id: int) -> StoredQuote | None:
        row = await self._pool.fetchrow(_SELECT, quote_id)
        return None if row is None else quote_of(quote_id, tuple(row))
