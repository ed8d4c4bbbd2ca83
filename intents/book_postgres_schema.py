"""The PostgreSQL book's tables, created when missing, and the migration of a book made by
an older release (``book_rows.ADDED_COLUMNS``); run under the migrator's advisory lock."""

from __future__ import annotations

from typing import Any

from intents.book_postgres_conditional import SCHEMA as CONDITIONAL_SCHEMA
from intents.book_postgres_outbox import SCHEMA as OUTBOX_SCHEMA
from intents.book_postgres_presign import SCHEMA as PRESIGN_SCHEMA
from intents.book_postgres_quotes import SCHEMA as QUOTES_SCHEMA
from intents.book_postgres_webhooks import SCHEMA as WEBHOOKS_SCHEMA
from intents.book_rows import ADDED_COLUMNS, LIVE_SQL
from intents.records_postgres import RECORDS_SCHEMA
from intents.round_records import POSTGRES_ROUNDS_SCHEMA

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS orders (
    uid BYTEA PRIMARY KEY,
    seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    owner TEXT NOT NULL,
    sell_token TEXT NOT NULL,
    buy_token TEXT NOT NULL,
    receiver TEXT NOT NULL,
    sell_amount NUMERIC(78, 0) NOT NULL,
    buy_amount NUMERIC(78, 0) NOT NULL,
    valid_to BIGINT NOT NULL,
    app_data BYTEA NOT NULL,
    fee_amount NUMERIC(78, 0) NOT NULL,
    kind TEXT NOT NULL,
    partially_fillable BOOLEAN NOT NULL,
    sell_token_balance TEXT NOT NULL,
    buy_token_balance TEXT NOT NULL,
    signing_scheme TEXT NOT NULL,
    signature BYTEA NOT NULL,
    order_class TEXT NOT NULL,
    creation_time DOUBLE PRECISION NOT NULL,
    app_data_json TEXT,
    status TEXT NOT NULL,
    executed_sell NUMERIC(78, 0) NOT NULL,
    executed_buy NUMERIC(78, 0) NOT NULL,
    executed_fee NUMERIC(78, 0) NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_owner ON orders (owner, seq);
CREATE INDEX IF NOT EXISTS orders_live ON orders (valid_to) WHERE {LIVE_SQL};
CREATE TABLE IF NOT EXISTS status_history (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uid BYTEA NOT NULL,
    status TEXT NOT NULL,
    time DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS status_history_uid ON status_history (uid, seq);
CREATE TABLE IF NOT EXISTS fills (
    tx_hash BYTEA NOT NULL,
    log_index INTEGER NOT NULL,
    uid BYTEA NOT NULL,
    executed_sell NUMERIC(78, 0) NOT NULL,
    executed_buy NUMERIC(78, 0) NOT NULL,
    executed_fee NUMERIC(78, 0) NOT NULL,
    block_number BIGINT NOT NULL,
    PRIMARY KEY (tx_hash, log_index)
);
CREATE INDEX IF NOT EXISTS fills_block ON fills (block_number);
CREATE TABLE IF NOT EXISTS fill_cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    block BIGINT NOT NULL
);
"""


async def create_or_migrate(conn: Any) -> None:
    """Create every table and index that is missing, then add missing ``orders`` columns.
    Books opening at once on one schema (replicas starting together) take turns: concurrent
    ``CREATE ... IF NOT EXISTS`` on the same tables can deadlock."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '/ddl'))")
        await _create(conn)


async def _create(conn: Any) -> None:
    await conn.execute(
        _SCHEMA
        + RECORDS_SCHEMA
        + POSTGRES_ROUNDS_SCHEMA
        + PRESIGN_SCHEMA
        + QUOTES_SCHEMA
        + CONDITIONAL_SCHEMA
        + WEBHOOKS_SCHEMA
        + OUTBOX_SCHEMA
    )
    for column, (_, pg_type) in ADDED_COLUMNS.items():
        await conn.execute(f"ALTER TABLE orders ADD COLUMN IF NOT EXISTS {column} {pg_type}")
