"""``intents.records.Records`` on the SQLite book: trades read from its ``fills``, app data
and competitions in tables of their own (created on open, ``CREATE ... IF NOT EXISTS``, so
an existing book file gains them). Writes go through the book's group commit."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from intents.book_rows import COLUMNS, from_row
from intents.fee_ledger_sqlite import INSERT_CHARGES, SqliteFeeLedger
from intents.fee_ledger_sqlite import SCHEMA as FEES_SCHEMA
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

T = TypeVar("T")

RECORDS_SCHEMA = (
    """
CREATE INDEX IF NOT EXISTS fills_uid ON fills (uid);
CREATE TABLE IF NOT EXISTS app_data (
    hash BLOB PRIMARY KEY,
    document TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS competitions (
    auction_id INTEGER PRIMARY KEY,
    record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS competition_transactions (
    tx_hash BLOB PRIMARY KEY,
    auction_id INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS hook_failures (
    tx_hash BLOB NOT NULL,
    uid BLOB NOT NULL,
    stage TEXT NOT NULL,
    hook_index INTEGER NOT NULL,
    target TEXT NOT NULL,
    PRIMARY KEY (tx_hash, uid, stage, hook_index)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS solver_fees (
    tx_hash BLOB NOT NULL,
    uid BLOB NOT NULL,
    fee TEXT NOT NULL,
    PRIMARY KEY (tx_hash, uid)
) WITHOUT ROWID;
"""
    + FEES_SCHEMA
)

_TRADES = (
    "SELECT f.uid, o.owner, o.sell_token, o.buy_token, f.block_number, f.log_index, f.tx_hash,"
    " f.executed_sell, f.executed_buy, f.executed_fee FROM fills f JOIN orders o ON o.uid = f.uid"
)


class SqliteRecords(SqliteFeeLedger):
    """Mixed into ``SqliteBook``, which provides ``_read`` and ``_write``."""

    _read: Callable[[str, Iterable[Any]], Any]
    _write: Callable[[Callable[[sqlite3.Connection], tuple[Any, list[Any]]]], Any]

    async def trades(
        self,
        *,
        uid: OrderUid | None = None,
        owner: Address | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[TradeRecord]:
        where, key = ("f.uid = ?", uid) if uid is not None else ("o.owner = ?", owner)
        sql = f"{_TRADES} WHERE {where} {NEWEST_FIRST} LIMIT ? OFFSET ?"
        rows = await self._read(sql, (key, -1 if limit is None else limit, offset))
        return [trade_from_row(r) for r in rows]

    async def orders_of_transaction(self, tx_hash: bytes) -> list[StoredOrder]:
        columns = ", ".join(f"o.{c}" for c in COLUMNS)
        sql = (
            f"SELECT {columns} FROM orders o JOIN (SELECT uid, min(log_index) AS first"
            " FROM fills WHERE tx_hash = ? GROUP BY uid) f ON f.uid = o.uid ORDER BY f.first"
        )
        return [from_row(r) for r in await self._read(sql, (tx_hash,))]

    async def solver_fees(self, uids: list[OrderUid]) -> dict[OrderUid, int]:
        if not uids:
            return {}
        marks = ", ".join("?" * len(uids))
        sql = (
            "SELECT s.uid, s.fee FROM solver_fees s WHERE s.uid IN"
            f" ({marks}) AND EXISTS (SELECT 1 FROM fills f WHERE f.tx_hash = s.tx_hash"
            " AND f.uid = s.uid)"
        )
        fees: dict[OrderUid, int] = {}
        for uid, fee in await self._read(sql, uids):
            key = OrderUid(bytes(uid))
            fees[key] = fees.get(key, 0) + int(fee)
        return fees

    async def record_hook_failures(self, failures: list[HookFailureRecord]) -> None:
        rows = [(f.tx_hash, bytes(f.uid), f.stage, f.index, f.target) for f in failures]

        def op(conn: sqlite3.Connection) -> tuple[None, list[Any]]:
            conn.executemany("INSERT OR REPLACE INTO hook_failures VALUES (?, ?, ?, ?, ?)", rows)
            return None, []

        if rows:
            await self._write(op)

    async def hook_failures(self, uids: list[OrderUid]) -> dict[OrderUid, list[HookFailureRecord]]:
        if not uids:
            return {}
        marks = ", ".join("?" * len(uids))
        sql = (
            "SELECT h.uid, h.tx_hash, h.stage, h.hook_index, h.target FROM hook_failures h"
            f" WHERE h.uid IN ({marks}) AND EXISTS (SELECT 1 FROM fills f"
            " WHERE f.tx_hash = h.tx_hash AND f.uid = h.uid) ORDER BY h.tx_hash, h.stage DESC,"
            " h.hook_index"
        )
        return hook_failures_by_order(await self._read(sql, uids))

    async def put_app_data(self, app_data_hash: bytes, document: str) -> bool:
        def op(conn: sqlite3.Connection) -> tuple[bool, list[Any]]:
            row = conn.execute("SELECT document FROM app_data WHERE hash = ?", (app_data_hash,))
            found = row.fetchone()
            if found is not None:
                if found[0] != document:
                    raise AppDataConflict(app_data_hash)
                return False, []
            conn.execute("INSERT INTO app_data VALUES (?, ?)", (app_data_hash, document))
            return True, []

        created: bool = await self._write(op)
        return created

    async def app_data(self, app_data_hash: bytes) -> str | None:
        rows = await self._read(
            "SELECT document FROM app_data WHERE hash = ? UNION ALL SELECT app_data_json"
            " FROM orders WHERE app_data = ? AND app_data_json IS NOT NULL LIMIT 1",
            (app_data_hash, app_data_hash),
        )
        return str(rows[0][0]) if rows else None

    async def record_competition(self, record: CompetitionRecord) -> None:
        def op(conn: sqlite3.Connection) -> tuple[None, list[Any]]:
            conn.execute(
                "INSERT OR REPLACE INTO competitions VALUES (?, ?)",
                (record.auction_id, competition_encoder.encode(record).decode()),
            )
            conn.executemany(
                "INSERT OR REPLACE INTO competition_transactions VALUES (?, ?)",
                [(bytes.fromhex(tx[2:]), record.auction_id) for tx in record.transaction_hashes],
            )
            fees = fee_rows(record)
            conn.executemany("INSERT OR REPLACE INTO solver_fees VALUES (?, ?, ?)", fees)
            conn.executemany(INSERT_CHARGES, charge_rows(record))
            return None, []

        await self._write(op)

    async def competition(
        self, *, auction_id: int | None = None, tx_hash: bytes | None = None
    ) -> CompetitionRecord | None:
        if tx_hash is not None:
            sql = (
                "SELECT c.record FROM competitions c JOIN competition_transactions t"
                " ON t.auction_id = c.auction_id WHERE t.tx_hash = ?"
            )
            rows = await self._read(sql, (tx_hash,))
        elif auction_id is not None:
            rows = await self._read(
                "SELECT record FROM competitions WHERE auction_id = ?", (auction_id,)
            )
        else:
            rows = await self._read(
                "SELECT record FROM competitions ORDER BY auction_id DESC LIMIT 1", ()
            )
        return competition_decoder.decode(rows[0][0]) if rows else None
