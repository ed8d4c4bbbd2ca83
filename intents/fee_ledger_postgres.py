"""``intents.fee_ledger.FeeLedger`` on the PostgreSQL book (mixed into ``PostgresBook``);
the charges are written with the competition (``PostgresRecords.record_competition``)."""

from __future__ import annotations

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
    tx_hash BYTEA NOT NULL,
    uid BYTEA NOT NULL,
    idx INTEGER NOT NULL,
    recipient TEXT NOT NULL,
    token TEXT NOT NULL,
    amount NUMERIC(78, 0) NOT NULL,
    policy TEXT NOT NULL,
    PRIMARY KEY (tx_hash, uid, idx)
);
CREATE TABLE IF NOT EXISTS fee_payouts (
    tx_hash BYTEA NOT NULL,
    recipient TEXT NOT NULL,
    token TEXT NOT NULL,
    amount NUMERIC(78, 0) NOT NULL,
    PRIMARY KEY (tx_hash, recipient, token)
);
"""
INSERT_CHARGES = (
    "INSERT INTO fee_charges VALUES ($1, $2, $3, $4, $5, $6::numeric, $7)"
    " ON CONFLICT (tx_hash, uid, idx) DO UPDATE SET recipient = excluded.recipient,"
    " token = excluded.token, amount = excluded.amount, policy = excluded.policy"
)
_ACCRUED = (
    "SELECT c.recipient, c.token, c.amount::text FROM fee_charges c WHERE EXISTS"
    " (SELECT 1 FROM fills f WHERE f.tx_hash = c.tx_hash AND f.uid = c.uid)"
)


class PostgresFeeLedger:
    _pool: Any

    async def fee_balances(self) -> list[FeeBalance]:
        accrued = await self._pool.fetch(_ACCRUED)
        paid = await self._pool.fetch("SELECT recipient, token, amount::text FROM fee_payouts")
        return balances_of([tuple(r) for r in accrued], [tuple(r) for r in paid])

    async def record_fee_payouts(self, payouts: list[FeePayout]) -> None:
        await self._pool.executemany(
            "INSERT INTO fee_payouts VALUES ($1, $2, $3, $4::numeric)"
            " ON CONFLICT (tx_hash, recipient, token) DO UPDATE SET amount = excluded.amount",
            [(p.tx_hash, p.recipient, p.token, str(p.amount)) for p in payouts],
        )

    async def fee_payouts(self) -> list[FeePayout]:
        rows = await self._pool.fetch(
            "SELECT tx_hash, recipient, token, amount::text FROM fee_payouts"
        )
        return [
            FeePayout(tx_hash=bytes(h), recipient=Address(r), token=TokenAddress(t), amount=int(a))
            for h, r, t, a in rows
        ]

    async def executed_fees(self, uids: list[bytes]) -> dict[TradeKey, list[ExecutedFee]]:
        if not uids:
            return {}
        rows = await self._pool.fetch(
            "SELECT c.tx_hash, c.uid, c.policy, c.token, c.amount::text FROM fee_charges c"
            " WHERE c.uid = ANY($1::bytea[]) AND EXISTS (SELECT 1 FROM fills f"
            " WHERE f.tx_hash = c.tx_hash AND f.uid = c.uid) ORDER BY c.idx",
            [bytes(u) for u in uids],
        )
        return executed_fees([tuple(r) for r in rows])
