"""``intents.fee_ledger.FeeLedger`` on the SQLite book (mixed into ``SqliteBook``); the
charges are written with the competition (``SqliteRecords.record_competition``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

from intents.fee_ledger import (
    ExecutedFee,
    FeeBalance,
    FeePayout,
    TradeKey,
    balances_of,
    executed_fees,
)
from intents.types import Address, TokenAddress

SCHEMA = """
CREATE TABLE IF NOT EXISTS fee_charges (
    tx_hash BLOB NOT NULL,
    uid BLOB NOT NULL,
    idx INTEGER NOT NULL,
    recipient TEXT NOT NULL,
    token TEXT NOT NULL,
    amount TEXT NOT NULL,
    policy TEXT NOT NULL,
    PRIMARY KEY (tx_hash, uid, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS fee_payouts (
    tx_hash BLOB NOT NULL,
    recipient TEXT NOT NULL,
    token TEXT NOT NULL,
    amount TEXT NOT NULL,
    PRIMARY KEY (tx_hash, recipient, token)
) WITHOUT ROWID;
"""
INSERT_CHARGES = "INSERT OR REPLACE INTO fee_charges VALUES (?, ?, ?, ?, ?, ?, ?)"
_ACCRUED = (
    "SELECT c.recipient, c.token, c.amount FROM fee_charges c WHERE EXISTS"
    " (SELECT 1 FROM fills f WHERE f.tx_hash = c.tx_hash AND f.uid = c.uid)"
)


class SqliteFeeLedger:
    _read: Callable[[str, Iterable[Any]], Any]
    _write: Callable[[Callable[[sqlite3.Connection], tuple[Any, list[Any]]]], Any]

    async def fee_balances(self) -> list[FeeBalance]:
        accrued = await self._read(_ACCRUED, ())
        paid = await self._read("SELECT recipient, token, amount FROM fee_payouts", ())
        return balances_of(list(accrued), list(paid))

    async def record_fee_payouts(self, payouts: list[FeePayout]) -> None:
        rows = [(p.tx_hash, p.recipient, p.token, str(p.amount)) for p in payouts]

        def op(conn: sqlite3.Connection) -> tuple[None, list[Any]]:
            conn.executemany("INSERT OR REPLACE INTO fee_payouts VALUES (?, ?, ?, ?)", rows)
            return None, []

        await self._write(op)

    async def fee_payouts(self) -> list[FeePayout]:
        rows = await self._read("SELECT tx_hash, recipient, token, amount FROM fee_payouts", ())
        return [
            FeePayout(tx_hash=bytes(h), recipient=Address(r), token=TokenAddress(t), amount=int(a))
            for h, r, t, a in rows
        ]

    async def executed_fees(self, uids: list[bytes]) -> dict[TradeKey, list[ExecutedFee]]:
        if not uids:
            return {}
        marks = ", ".join("?" * len(uids))
        rows = await self._read(
            "SELECT c.tx_hash, c.uid, c.policy, c.token, c.amount FROM fee_charges c"
            f" WHERE c.uid IN ({marks}) AND EXISTS (SELECT 1 FROM fills f"
            " WHERE f.tx_hash = c.tx_hash AND f.uid = c.uid) ORDER BY c.idx",
            uids,
        )
        return executed_fees(list(rows))
