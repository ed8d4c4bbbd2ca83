"""``intents.records.Records`` on the PostgreSQL book: trades read from its ``fills``, app
data and competitions in tables of their own (created on open, ``CREATE ... IF NOT
EXISTS`` under the book's migration lock, so an existing schema gains them)."""

from __future__ import annotations

from typing import Any

from intents.book_rows import AMOUNT_COLUMNS, COLUMNS, from_row
from intents.fee_ledger_postgres import INSERT_CHARGES, PostgresFeeLedger
from intents.fee_ledger_postgres import SCHEMA as FEES_SCHEMA
from intents.order import StoredOrder
from intents.records import (
    NEWEST_FIRST,
    AppDataConflict,
    CompetitionRecord,
    HookFailureRecord,
    TradeRecord,
    charge_rows,
    competition_decoder,
    competition_encoder,
    fee_rows,
    hook_failures_by_order,
    trade_from_row,
)
from intents.types import Address, OrderUid

RECORDS_SCHEMA = (
    """
CREATE INDEX IF NOT EXISTS fills_uid ON fills (uid);
CREATE TABLE IF NOT EXISTS app_data (
    hash BYTEA PRIMARY KEY,
    document TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS competitions (
    auction_id BIGINT PRIMARY KEY,
    record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS competition_transactions (
    tx_hash BYTEA PRIMARY KEY,
    auction_id BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS hook_failures (
    tx_hash BYTEA NOT NULL,
    uid BYTEA NOT NULL,
    stage TEXT NOT NULL,
    hook_index INTEGER NOT NULL,
    target TEXT NOT NULL,
    PRIMARY KEY (tx_hash, uid, stage, hook_index)
);
CREATE TABLE IF NOT EXISTS solver_fees (
    tx_hash BYTEA NOT NULL,
    uid BYTEA NOT NULL,
    fee NUMERIC(78, 0) NOT NULL,
    PRIMARY KEY (tx_hash, uid)
);
"""
    + FEES_SCHEMA
)

_TRADES = (
    "SELECT f.uid, o.owner, o.sell_token, o.buy_token, f.block_number, f.log_index, f.tx_hash,"
    " f.executed_sell::text, f.executed_buy::text, f.executed_fee::text"
    " FROM fills f JOIN orders o ON o.uid = f.uid"
)


class PostgresRecords(PostgresFeeLedger):
    """Mixed into ``PostgresBook``, which provides ``_pool``."""

    _pool: Any

    async def trades(
        self,
        *,
        uid: OrderUid | None = None,
        owner: Address | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[TradeRecord]:
        where, key = ("f.uid = $1", uid) if uid is not None else ("o.owner = $1", owner)
        sql = f"{_TRADES} WHERE {where} {NEWEST_FIRST} LIMIT $2 OFFSET $3"
        rows = await self._pool.fetch(sql, key, limit, offset)
        return [trade_from_row(r) for r in rows]

    async def orders_of_transaction(self, tx_hash: bytes) -> list[StoredOrder]:
        columns = ", ".join(f"o.{c}::text" if c in AMOUNT_COLUMNS else f"o.{c}" for c in COLUMNS)
        rows = await self._pool.fetch(
            f"SELECT {columns} FROM orders o JOIN (SELECT uid, min(log_index) AS first"
            " FROM fills WHERE tx_hash = $1 GROUP BY uid) f ON f.uid = o.uid ORDER BY f.first",
            tx_hash,
        )
        return [from_row(r) for r in rows]

    async def solver_fees(self, uids: list[OrderUid]) -> dict[OrderUid, int]:
        if not uids:
            return {}
        rows = await self._pool.fetch(
            "SELECT s.uid, sum(s.fee)::text FROM solver_fees s WHERE s.uid = ANY($1::bytea[])"
            " AND EXISTS (SELECT 1 FROM fills f WHERE f.tx_hash = s.tx_hash AND f.uid = s.uid)"
            " GROUP BY s.uid",
            [bytes(u) for u in uids],
        )
        return {OrderUid(bytes(uid)): int(fee) for uid, fee in rows}

    async def record_hook_failures(self, failures: list[HookFailureRecord]) -> None:
        if failures:
            await self._pool.executemany(
                "INSERT INTO hook_failures VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                [(f.tx_hash, bytes(f.uid), f.stage, f.index, f.target) for f in failures],
            )

    async def hook_failures(self, uids: list[OrderUid]) -> dict[OrderUid, list[HookFailureRecord]]:
        if not uids:
            return {}
        rows = await self._pool.fetch(
            "SELECT h.uid, h.tx_hash, h.stage, h.hook_index, h.target FROM hook_failures h"
            " WHERE h.uid = ANY($1::bytea[]) AND EXISTS (SELECT 1 FROM fills f"
            " WHERE f.tx_hash = h.tx_hash AND f.uid = h.uid) ORDER BY h.tx_hash, h.stage DESC,"
            " h.hook_index",
            [bytes(u) for u in uids],
        )
        return hook_failures_by_order(rows)

    async def put_app_data(self, app_data_hash: bytes, document: str) -> bool:
        async with self._pool.acquire() as conn, conn.transaction():
            added = await conn.fetchval(
                "INSERT INTO app_data VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING true",
                app_data_hash,
                document,
            )
            if added:
                return True
            stored = await conn.fetchval(
                "SELECT document FROM app_data WHERE hash = $1", app_data_hash
            )
        if stored != document:
            raise AppDataConflict(app_data_hash)
        return False

    async def app_data(self, app_data_hash: bytes) -> str | None:
        document: str | None = await self._pool.fetchval(
            "SELECT document FROM app_data WHERE hash = $1 UNION ALL SELECT app_data_json"
            " FROM orders WHERE app_data = $1 AND app_data_json IS NOT NULL LIMIT 1",
            app_data_hash,
        )
        return document

    async def record_competition(self, record: CompetitionRecord) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO competitions VALUES ($1, $2)"
                " ON CONFLICT (auction_id) DO UPDATE SET record = excluded.record",
                record.auction_id,
                competition_encoder.encode(record).decode(),
            )
            await conn.executemany(
                "INSERT INTO competition_transactions VALUES ($1, $2)"
                " ON CONFLICT (tx_hash) DO UPDATE SET auction_id = excluded.auction_id",
                [(bytes.fromhex(tx[2:]), record.auction_id) for tx in record.transaction_hashes],
            )
            await conn.executemany(
                "INSERT INTO solver_fees VALUES ($1, $2, $3::numeric)"
                " ON CONFLICT (tx_hash, uid) DO UPDATE SET fee = excluded.fee",
                fee_rows(record),
            )
            await conn.executemany(INSERT_CHARGES, charge_rows(record))

    async def competition(
        self, *, auction_id: int | None = None, tx_hash: bytes | None = None
    ) -> CompetitionRecord | None:
        if tx_hash is not None:
            raw = await self._pool.fetchval(
                "SELECT c.record FROM competitions c JOIN competition_transactions t"
                " ON t.auction_id = c.auction_id WHERE t.tx_hash = $1",
                tx_hash,
            )
        elif auction_id is not None:
            raw = await self._pool.fetchval(
                "SELECT record FROM competitions WHERE auction_id = $1", auction_id
            )
        else:
            raw = await self._pool.fetchval(
                "SELECT record FROM competitions ORDER BY auction_id DESC LIMIT 1"
            )
        return None if raw is None else competition_decoder.decode(raw)
