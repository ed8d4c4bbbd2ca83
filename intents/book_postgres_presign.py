"""The PostgreSQL book's pre-signature events (``intents.presignatures``): the mixin that
gives ``PostgresBook`` the ``PresignatureBook`` methods."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from intents.lifecycle import with_presignature
from intents.order import SigningScheme, StoredOrder
from intents.presignatures import PreSignatureEvent
from intents.types import Address, OrderUid

SCHEMA = """
CREATE TABLE IF NOT EXISTS presignature_events (
    block_number BIGINT NOT NULL,
    log_index INTEGER NOT NULL,
    owner TEXT NOT NULL,
    uid BYTEA NOT NULL,
    signed BOOLEAN NOT NULL,
    PRIMARY KEY (block_number, log_index)
);
CREATE INDEX IF NOT EXISTS presignature_events_uid
    ON presignature_events (uid, block_number, log_index);
CREATE TABLE IF NOT EXISTS presignature_cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    block BIGINT NOT NULL
);
"""
_LATEST = (
    "SELECT DISTINCT ON (uid) uid, signed FROM presignature_events WHERE uid = ANY($1)"
    " ORDER BY uid, block_number DESC, log_index DESC"
)


class PostgresPresignatures:
    """``PresignatureBook`` for ``PostgresBook`` (which provides ``_pool``, ``_locked`` and
    ``_save``)."""

    _pool: Any

    async def _locked(self, conn: Any, uids: Sequence[bytes]) -> dict[bytes, StoredOrder]:
        raise NotImplementedError

    async def _save(self, conn: Any, before: StoredOrder, after: StoredOrder) -> None:
        raise NotImplementedError

    def _transaction(self) -> AbstractAsyncContextManager[Any]:
        raise NotImplementedError

    async def sync_presignatures(
        self, conn: Any, uids: Sequence[bytes], *, unsigned_without_event: bool
    ) -> list[OrderUid]:
        """Give the stored ``presign`` orders among ``uids`` the pre-signature their latest
        event says (with none, unsigned if ``unsigned_without_event``, else as they are),
        inside ``conn``'s transaction; the orders that changed."""
        found = await self._locked(conn, sorted(set(uids)))
        orders = [o for o in found.values() if o.signing_scheme is SigningScheme.PRESIGN]
        if not orders:
            return []
        latest = {bytes(u): s for u, s in await conn.fetch(_LATEST, [o.uid for o in orders])}
        changed = []
        for before in orders:
            signed = latest.get(before.uid)
            if signed is None and not unsigned_without_event:
                continue
            if before.presigned is bool(signed):
                continue
            await self._save(conn, before, with_presignature(before, bool(signed)))
            changed.append(before.uid)
        return changed

    async def presignature_cursor(self) -> int | None:
        block: int | None = await self._pool.fetchval("SELECT block FROM presignature_cursor")
        return block

    async def presignature_events(self, first_block: int) -> list[PreSignatureEvent]:
        rows = await self._pool.fetch(
            "SELECT block_number, log_index, owner, uid, signed FROM presignature_events"
            " WHERE block_number >= $1 ORDER BY block_number, log_index",
            first_block,
        )
        return [
            PreSignatureEvent(block, index, Address(owner), OrderUid(bytes(uid)), signed)
            for block, index, owner, uid, signed in rows
        ]

    async def replace_presignatures(
        self, first_block: int, events: list[PreSignatureEvent], cursor: int
    ) -> list[OrderUid]:
        async with self._transaction() as conn:
            dropped = await conn.fetch(
                "DELETE FROM presignature_events WHERE block_number >= $1 RETURNING uid",
                first_block,
            )
            await conn.executemany(
                "INSERT INTO presignature_events VALUES ($1, $2, $3, $4, $5)",
                [(e.block_number, e.log_index, e.owner, bytes(e.uid), e.signed) for e in events],
            )
            affected = [bytes(r[0]) for r in dropped] + [bytes(e.uid) for e in events]
            changed = await self.sync_presignatures(conn, affected, unsigned_without_event=True)
            await conn.execute(
                "INSERT INTO presignature_cursor VALUES (1, $1)"
                " ON CONFLICT (id) DO UPDATE SET block = $1",
                cursor,
            )
        return changed
