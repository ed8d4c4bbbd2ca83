"""The order book in PostgreSQL (asyncpg), for several API replicas sharing one database.

Inserts are group-committed: concurrent callers' orders go to the server as one
``INSERT ... SELECT FROM unnest(...) ON CONFLICT (uid) DO NOTHING`` statement in one
transaction; the UIDs it returns are the ones stored, every other caller gets
``DuplicatedOrder``. A capped limit order (``insert(limit_cap=...)``) is counted in that
transaction under its owner's advisory lock, so the cap holds across replicas. Other
writes are one transaction each, locking the rows they change. Every status-changing
transaction runs in ``_transaction``, which writes its changes to the status outbox as its
last statements and NOTIFYs; each replica's ``OutboxPoller`` reads the outbox (woken by
the NOTIFY, or every second), so every replica's subscribers see every committed change,
and a lost LISTEN connection only delays them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg

from intents.book_postgres_conditional import PostgresConditionals
from intents.book_postgres_outbox import Collected, PostgresOutbox, outbox_lock
from intents.book_postgres_presign import PostgresPresignatures
from intents.book_postgres_quotes import PostgresQuotes
from intents.book_postgres_schema import create_or_migrate
from intents.book_postgres_webhooks import PostgresWebhooks
from intents.book_rows import (
    AMOUNT_COLUMNS,
    COLUMNS,
    LIVE_SQL,
    UNSETTLED_SQL,
    duplicated,
    from_row,
    not_found,
    to_row,
    wrong_owner,
)
from intents.cancellation import refuse_cancellation
from intents.errors import TooManyLimitOrders
from intents.feed import ChangeFeed, StatusChange
from intents.lifecycle import Event, Progress, next_status, with_fill
from intents.order import OrderClass, OrderStatus, SigningScheme, StoredOrder
from intents.outbox import OutboxPoller
from intents.records_postgres import PostgresRecords
from intents.round_records import PostgresRounds
from intents.types import Address, OrderUid

log = logging.getLogger(__name__)

_SCHEMA_LOCK = 0x7472696275746172  # advisory lock key ("tributar"): one migrator at a time
_SQL_TYPES = {
    "uid": "bytea",
    "valid_to": "bigint",
    "app_data": "bytea",
    "partially_fillable": "boolean",
    "signature": "bytea",
    "creation_time": "float8",
    "presigned": "boolean",
    "quote_id": "bigint",
}
# Amounts leave the server as text (exact), never as a float or Decimal.
_SELECT = "SELECT {} FROM orders".format(
    ", ".join(f"{c}::text" if c in AMOUNT_COLUMNS else c for c in COLUMNS)
)
_INSERT_MANY = """
WITH new AS (
    INSERT INTO orders ({cols})
    SELECT {casts} FROM unnest({params}) AS u ({cols})
    ON CONFLICT (uid) DO NOTHING
    RETURNING uid, status, creation_time
)
INSERT INTO status_history (uid, status, time)
SELECT uid, status, creation_time FROM new RETURNING uid
""".format(
    cols=", ".join(COLUMNS),
    casts=", ".join(f"u.{c}::numeric" if c in AMOUNT_COLUMNS else f"u.{c}" for c in COLUMNS),
    params=", ".join(f"${i}::{_SQL_TYPES.get(c, 'text')}[]" for i, c in enumerate(COLUMNS, 1)),
)
_MAX_GROUP = 1024
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,40}")

_LOCK_OWNERS = (
    "SELECT pg_advisory_xact_lock(k) FROM (SELECT k FROM unnest($1::bigint[]) AS k ORDER BY k) s"
)
_COUNT_LIMIT_ORDERS = (
    "SELECT owner, count(*) FROM orders WHERE owner = ANY($1) AND order_class = $2"
    f" AND {LIVE_SQL} AND valid_to >= $3::float8 GROUP BY owner"
)

_Pending = tuple[StoredOrder, int | None, "asyncio.Future[None]"]


class PostgresBook(
    PostgresOutbox,
    PostgresRecords,
    PostgresRounds,
    PostgresPresignatures,
    PostgresQuotes,
    PostgresConditionals,
    PostgresWebhooks,
):
    """``OrderBook`` on PostgreSQL. Create with ``await PostgresBook.open(url)``; ``schema``
    keeps the tables (and the notification channel) apart, e.g. per test run."""

    def __init__(self, pool: Any, url: str, schema: str, clock: Callable[[], float]) -> None:
        self._pool = pool
        self._url = url
        self._schema = schema
        self._channel = f"{schema}_order_status"
        self._clock = clock
        self._feed = ChangeFeed()
        self._poller = OutboxPoller(self, self._feed, interval=1.0)
        self._collecting: dict[int, Collected] = {}  # id(conn) -> its transaction's changes
        self._outbox_lock = outbox_lock(schema)
        self._listener: Any = None
        self._relisten: asyncio.Task[None] | None = None
        self._pending: list[_Pending] = []
        self._wake = asyncio.Event()
        self._closed = False
        self._batcher = asyncio.create_task(self._insert_loop(), name="book-inserter")

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        schema: str = "public",
        clock: Callable[[], float] = time.time,
        pool_size: int = 8,
    ) -> PostgresBook:
        if not _IDENTIFIER.fullmatch(schema):
            raise ValueError(f"not a plain schema name: {schema!r}")
        pool = await asyncpg.create_pool(
            url, min_size=1, max_size=pool_size, server_settings={"search_path": schema}
        )
        try:
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", _SCHEMA_LOCK)
                await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
                await create_or_migrate(conn)
        except BaseException:
            await pool.close()
            raise
        book = cls(pool, url, schema, clock)
        try:
            await book._poller.start()
            await book._listen()
        except BaseException:
            await book.close()
            raise
        log.info("order book: PostgreSQL schema %s", schema)
        return book

    # -- inserts (group commit) -------------------------------------------------------

    async def insert(self, order: StoredOrder, *, limit_cap: int | None = None) -> None:
        if self._closed:
            raise RuntimeError("the order book is closed")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((order, limit_cap, future))
        self._wake.set()
        await future

    async def _insert_loop(self) -> None:
        while not (self._closed and not self._pending):
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                group, self._pending = self._pending[:_MAX_GROUP], self._pending[_MAX_GROUP:]
                await self._insert_group(group)

    def _owner_lock(self, owner: Address) -> int:
        """The advisory lock key serialising ``owner``'s capped inserts (every replica
        computes the same one; the schema keeps separate books apart)."""
        digest = hashlib.blake2b(f"{self._schema}/{owner}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big", signed=True)

    async def _over_cap(
        self, conn: Any, candidates: list[tuple[StoredOrder, int | None]]
    ) -> dict[bytes, Exception]:
        """The capped limit orders among ``candidates`` their owners have no room for.

        A count at READ COMMITTED races with other replicas' inserts, so each owner's
        advisory transaction lock is taken first (in key order, so two groups cannot
        deadlock): every capped insert of that owner, on any replica, waits for this
        transaction to commit, and the count below sees every committed one."""
        capped = [
            (order, cap)
            for order, cap in candidates
            if cap is not None and order.order_class is OrderClass.LIMIT
        ]
        if not capped:
            return {}
        owners = sorted({order.owner for order, _ in capped})
        await conn.execute(_LOCK_OWNERS, sorted({self._owner_lock(o) for o in owners}))
        stored = {
            bytes(r[0])
            for r in await conn.fetch(
                "SELECT uid FROM orders WHERE uid = ANY($1)", [o.uid for o, _ in capped]
            )
        }
        rows = await conn.fetch(_COUNT_LIMIT_ORDERS, owners, OrderClass.LIMIT.value, self._clock())
        counts: dict[str, int] = {owner: int(n) for owner, n in rows}
        refused: dict[bytes, Exception] = {}
        for order, cap in capped:
            if order.uid in stored:  # the insert reports it as a duplicate
                continue
            count = counts.get(order.owner, 0)
            if count >= cap:
                refused[order.uid] = TooManyLimitOrders(order.owner, count, cap)
            else:
                counts[order.owner] = count + 1
        return refused

    async def _insert_group(self, group: list[_Pending]) -> None:
        first: dict[bytes, int] = {}  # UID -> index of the first caller with it
        for i, (order, _, _) in enumerate(group):
            first.setdefault(order.uid, i)
        candidates = [group[i][:2] for i in first.values()]
        try:
            async with self._transaction() as conn:
                refused = await self._over_cap(conn, candidates)
                orders = [order for order, _ in candidates if order.uid not in refused]
                stored: set[bytes] = set()
                if orders:
                    columns = list(zip(*(to_row(o) for o in orders), strict=True))
                    stored = {bytes(r[0]) for r in await conn.fetch(_INSERT_MANY, *columns)}
                await self._notify(
                    conn,
                    [
                        StatusChange(o.uid, o.owner, o.status, o.creation_time)
                        for o in orders
                        if o.uid in stored
                    ],
                )
                presigned = [
                    o.uid
                    for o in orders
                    if o.uid in stored and o.signing_scheme is SigningScheme.PRESIGN
                ]
                if presigned:  # events indexed before their orders came
                    await self.sync_presignatures(conn, presigned, unsigned_without_event=False)
        except Exception as exc:
            log.error("order book group insert of %d orders failed: %s", len(group), exc)
            for _, _, future in group:
                if not future.done():
                    future.set_exception(exc)
            return
        for i, (order, _, future) in enumerate(group):
            if future.done():
                continue
            if order.uid in refused:
                future.set_exception(refused[order.uid])
            elif first[order.uid] == i and order.uid in stored:
                future.set_result(None)
            else:
                future.set_exception(duplicated(order.uid))

    # -- other writes -----------------------------------------------------------------

    async def _locked(self, conn: Any, uids: Sequence[bytes]) -> dict[bytes, StoredOrder]:
        rows = await conn.fetch(f"{_SELECT} WHERE uid = ANY($1) FOR UPDATE", list(uids))
        return {bytes(r[0]): from_row(r) for r in rows}

    async def _write_changes(self, conn: Any, changes: Sequence[StatusChange]) -> None:
        await conn.executemany(
            "INSERT INTO status_history (uid, status, time) VALUES ($1, $2, $3)",
            [(c.uid, c.status.value, c.time) for c in changes],
        )
        await self._notify(conn, changes)

    async def _save(self, conn: Any, before: StoredOrder, after: StoredOrder) -> None:
        """Write ``after``'s status and executed amounts, and its history if it moved."""
        await conn.execute(
            "UPDATE orders SET status = $2, executed_sell = $3::numeric,"
            " executed_buy = $4::numeric, executed_fee = $5::numeric, presigned = $6"
            " WHERE uid = $1",
            after.uid,
            after.status.value,
            str(after.executed_sell_amount),
            str(after.executed_buy_amount),
            str(after.executed_fee_amount),
            after.presigned,
        )
        if after.status is not before.status:
            now = self._clock()
            await self._write_changes(
                conn, [StatusChange(after.uid, after.owner, after.status, now)]
            )

    async def cancel(self, uids: list[OrderUid], owner: Address) -> list[OrderUid]:
        wanted = list(dict.fromkeys(uids))
        async with self._transaction() as conn:
            found = await self._locked(conn, wanted)
            now = self._clock()
            for uid in wanted:
                refuse_cancellation(uid, found.get(uid), now)
            for uid in wanted:
                if found[uid].owner != owner:
                    raise wrong_owner(uid, owner)
            changes = [
                StatusChange(
                    uid, owner, next_status(found[uid].status, Event.CANCEL, Progress.NONE), now
                )
                for uid in wanted
            ]
            await conn.execute(
                "UPDATE orders SET status = $2 WHERE uid = ANY($1)",
                [c.uid for c in changes],
                OrderStatus.CANCELLED.value,
            )
            await self._write_changes(conn, changes)
        return [c.uid for c in changes]

    async def record_fill(
        self,
        uid: OrderUid,
        *,
        executed_sell: int,
        executed_buy: int,
        executed_fee: int,
        tx_hash: bytes,
        log_index: int,
        block_number: int,
    ) -> bool:
        async with self._transaction() as conn:
            before = (await self._locked(conn, [uid])).get(uid)
            if before is None:
                raise not_found(uid)
            added = await conn.fetchval(
                "INSERT INTO fills VALUES ($1, $2, $3, $4::numeric, $5::numeric, $6::numeric, $7)"
                " ON CONFLICT DO NOTHING RETURNING true",
                tx_hash,
                log_index,
                uid,
                str(executed_sell),
                str(executed_buy),
                str(executed_fee),
                block_number,
            )
            if not added:
                return False
            after = with_fill(before, executed_sell, executed_buy, executed_fee)
            await self._save(conn, before, after)
        return True

    async def revert_fill(self, tx_hash: bytes) -> list[OrderUid]:
        touched: dict[OrderUid, None] = {}
        async with self._transaction() as conn:
            fills = await conn.fetch(
                "DELETE FROM fills WHERE tx_hash = $1 RETURNING uid, executed_sell::text,"
                " executed_buy::text, executed_fee::text, log_index",
                tx_hash,
            )
            for uid, sell, buy, fee, _ in sorted(fills, key=lambda f: f[4]):
                before = (await self._locked(conn, [uid]))[bytes(uid)]
                after = with_fill(before, int(sell), int(buy), int(fee), revert=True)
                await self._save(conn, before, after)
                touched[before.uid] = None
        return list(touched)

    async def fill_cursor(self) -> int | None:
        async with self._pool.acquire() as conn:
            block: int | None = await conn.fetchval("SELECT block FROM fill_cursor")
        return block

    async def set_fill_cursor(self, block: int) -> None:
        async with self._pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO fill_cursor VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET block = $1",
                block,
            )

    async def fill_transactions(self, first_block: int, last_block: int) -> list[bytes]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT DISTINCT tx_hash FROM fills WHERE block_number BETWEEN $1 AND $2",
                first_block,
                last_block,
            )
        return [bytes(row[0]) for row in rows]

    async def expire(self, now: float) -> list[OrderUid]:
        async with self._transaction() as conn:
            rows = await conn.fetch(
                f"SELECT uid, owner, status FROM orders WHERE {UNSETTLED_SQL}"
                " AND valid_to < $1::float8"
                " FOR UPDATE",
                now,
            )
            changes = [
                StatusChange(OrderUid(bytes(uid)), Address(owner), status, now)
                for uid, owner, current in rows
                if (status := next_status(OrderStatus(current), Event.EXPIRE, Progress.NONE))
                is not OrderStatus(current)
            ]
            await conn.execute(
                "UPDATE orders SET status = $2 WHERE uid = ANY($1)",
                [c.uid for c in changes],
                OrderStatus.EXPIRED.value,
            )
            await self._write_changes(conn, changes)
        return [c.uid for c in changes]

    # -- reads ------------------------------------------------------------------------

    async def get(self, uid: OrderUid) -> StoredOrder | None:
        row = await self._pool.fetchrow(f"{_SELECT} WHERE uid = $1", uid)
        return None if row is None else from_row(row)

    async def list_by_owner(
        self, owner: Address, offset: int = 0, limit: int = 10
    ) -> list[StoredOrder]:
        rows = await self._pool.fetch(
            f"{_SELECT} WHERE owner = $1 ORDER BY seq DESC LIMIT $2 OFFSET $3",
            owner,
            limit,
            offset,
        )
        return [from_row(r) for r in rows]

    async def count(self) -> int:
        return int(await self._pool.fetchval("SELECT count(*) FROM orders"))

    async def count_open_limit_orders(self, owner: Address, now: float) -> int:
        rows = await self._pool.fetch(_COUNT_LIMIT_ORDERS, [owner], OrderClass.LIMIT.value, now)
        return sum(int(n) for _, n in rows)

    async def open_orders(self, now: float) -> list[StoredOrder]:
        rows = await self._pool.fetch(
            f"{_SELECT} WHERE {LIVE_SQL} AND valid_to >= $1::float8 ORDER BY seq", now
        )
        return [from_row(r) for r in rows]

    async def status_history(self, uid: OrderUid) -> list[StatusChange]:
        rows = await self._pool.fetch(
            "SELECT h.status, h.time, o.owner FROM status_history h JOIN orders o"
            " ON o.uid = h.uid WHERE h.uid = $1 ORDER BY h.seq",
            uid,
        )
        return [StatusChange(uid, Address(o), OrderStatus(s), t) for s, t, o in rows]

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        await self._batcher
        await self._poller.close()
        with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            await self._poller.poll()  # the last writes' changes reach subscribers
        if self._relisten is not None:
            self._relisten.cancel()
            await asyncio.gather(self._relisten, return_exceptions=True)
        if self._listener is not None:
            await self._listener.close()
        await self._pool.close()
        self._feed.close()
