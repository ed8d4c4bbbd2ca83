"""The PostgreSQL book's status outbox (``intents.outbox``): the table, ``Collected`` (a
transaction's status changes, written to the outbox as its last statements), and the mixin
that gives ``PostgresBook`` the ``Outbox`` reads and pruning.

Ids come from a sequence, so two transactions could commit their ids out of order and a
reader at ``id > last`` would skip the lower one for good. ``flush`` therefore takes one
per-schema advisory transaction lock before drawing ids and holds it to the commit: ids
commit in order. It runs last in each transaction (after every row lock the transaction
takes), so waiting for it can never be part of a lock cycle.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from intents.book_postgres_webhooks import enqueue
from intents.feed import ChangeFeed, StatusChange, Subscription
from intents.outbox import BATCH, OutboxPoller, from_rows
from intents.types import Address

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS status_outbox (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uid BYTEA NOT NULL,
    owner TEXT NOT NULL,
    status TEXT NOT NULL,
    time DOUBLE PRECISION NOT NULL,
    created DOUBLE PRECISION NOT NULL
);
"""
_INSERT = (
    "WITH written AS (INSERT INTO status_outbox (uid, owner, status, time, created)"
    " SELECT u, o, s, t, $5 FROM unnest($1::bytea[], $2::text[], $3::text[], $4::float8[])"
    " WITH ORDINALITY AS x (u, o, s, t, n) ORDER BY n RETURNING id)"
    " SELECT max(id) FROM written"
)
_PRUNE = "DELETE FROM status_outbox WHERE created < $1 AND id < (SELECT max(id) FROM status_outbox)"


def outbox_lock(schema: str) -> int:
    """The advisory lock key ordering ``schema``'s outbox commits (same on every replica)."""
    digest = hashlib.blake2b(f"{schema}/status_outbox".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@dataclass
class Collected:
    """The status changes one transaction makes, in the order it makes them."""

    changes: list[StatusChange] = field(default_factory=list)

    async def flush(self, conn: Any, lock: int, channel: str, now: float) -> int:
        """Write the changes to the outbox and wake the replicas' pollers (inside the
        transaction, as its last statements); the newest id written (0 if none)."""
        if not self.changes:
            return 0
        await conn.execute("SELECT pg_advisory_xact_lock($1)", lock)
        cs = self.changes
        newest: int = await conn.fetchval(
            _INSERT,
            [c.uid for c in cs],
            [c.owner for c in cs],
            [c.status.value for c in cs],
            [c.time for c in cs],
            now,
        )
        await conn.execute("SELECT pg_notify($1, '')", channel)
        return newest


class PostgresOutbox:
    """``Outbox`` and the change feed for ``PostgresBook`` (which sets the attributes
    below): collecting each transaction's changes, LISTEN (reconnected when lost) waking
    the poller, and the outbox reads."""

    _pool: Any
    _url: str
    _channel: str
    _closed: bool
    _clock: Callable[[], float]
    _feed: ChangeFeed
    _poller: OutboxPoller
    _collecting: dict[int, Collected]
    _outbox_lock: int
    _listener: Any
    _relisten: asyncio.Task[None] | None

    async def _listen(self) -> None:
        listener = await asyncpg.connect(self._url)
        await listener.add_listener(self._channel, self._on_notify)
        listener.add_termination_listener(self._on_listener_lost)
        self._listener = listener

    def _on_listener_lost(self, _conn: Any) -> None:
        if self._closed:
            return
        # Nothing is lost: the poller reads the outbox every second until we listen again.
        log.warning("lost the PostgreSQL LISTEN connection; polling the outbox, reconnecting")
        self._relisten = asyncio.create_task(self._reconnect(), name="book-relisten")

    async def _reconnect(self) -> None:
        delay = 0.1
        while not self._closed:
            try:
                await self._listen()
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning(
                    "PostgreSQL LISTEN reconnect failed (%s); retrying in %.1fs", exc, delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            else:
                log.info("listening for order status changes again")
                return

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, _payload: str) -> None:
        self._poller.wake()

    async def _notify(self, conn: Any, changes: Sequence[StatusChange]) -> None:
        """Announce ``changes`` (just recorded in ``status_history`` by this transaction):
        write the owners' webhook deliveries, and collect them for the outbox."""
        await enqueue(conn, changes, self._clock())
        collected_changes(self._collecting, conn).changes.extend(changes)

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Any]:
        """A connection in a transaction whose status changes (``_notify``) go to the
        outbox just before it commits."""
        async with self._pool.acquire() as conn:
            async with conn.transaction():
                collected = self._collecting[id(conn)] = Collected()
                try:
                    yield conn
                    newest = await collected.flush(
                        conn, self._outbox_lock, self._channel, self._clock()
                    )
                finally:
                    del self._collecting[id(conn)]
            self._poller.committed(newest)  # committed, before the caller hears of it

    def subscribe(self, owner: Address | None = None) -> Subscription:
        # This process's own commits and those the poller has read are below the floor;
        # another replica's not yet read are not known here (the event stream reads the
        # outbox's newest id when it subscribes).
        return self._feed.subscribe(owner, floor=self._poller.floor)

    async def outbox_after(self, after: int, limit: int = BATCH) -> list[tuple[int, StatusChange]]:
        rows = await self._pool.fetch(
            "SELECT id, uid, owner, status, time FROM status_outbox WHERE id > $1"
            " ORDER BY id LIMIT $2",
            after,
            limit,
        )
        return from_rows(rows)

    async def outbox_bounds(self) -> tuple[int, int]:
        low, high = await self._pool.fetchrow("SELECT min(id), max(id) FROM status_outbox")
        return int(low or 0), int(high or 0)

    async def prune_outbox(self, before: float) -> int:
        done: str = await self._pool.execute(_PRUNE, before)
        return int(done.split()[-1])


def collected_changes(pending: dict[int, Collected], conn: Any) -> Collected:
    """The collector of ``conn``'s open transaction; a status change outside one is a bug
    (it would never reach the outbox)."""
    try:
        return pending[id(conn)]
    except KeyError:
        raise RuntimeError("a status change outside PostgresBook._transaction") from None
