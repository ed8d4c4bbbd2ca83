"""The order book in one SQLite file (WAL, ``synchronous=FULL``): the embedded default.

Writes use group commit: callers queue operations, one writer thread drains the queue,
runs them in one transaction, commits the whole group with one fsync, and only then
resolves the callers' futures and publishes their status changes. If an operation fails
(a duplicate UID), the group is rolled back and redone with each operation in its own
savepoint, so the failing one rolls back alone. Reads run on a small thread pool with
read-only connections, so neither reads nor writes block the event loop. A third thread
checkpoints the WAL into the database file once a second, off the commit path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from intents import book_sqlite_ops as ops
from intents.book_rows import (
    ADDED_COLUMNS,
    LIVE_SQL,
    from_row,
)
from intents.book_sqlite_conditional import SCHEMA as CONDITIONAL_SCHEMA
from intents.book_sqlite_conditional import SqliteConditionals
from intents.book_sqlite_outbox import SCHEMA as OUTBOX_SCHEMA
from intents.book_sqlite_outbox import SqliteOutbox, newest_outbox_id, write_outbox
from intents.book_sqlite_presign import SCHEMA as PRESIGN_SCHEMA
from intents.book_sqlite_presign import SqlitePresignatures
from intents.book_sqlite_quotes import SCHEMA as QUOTES_SCHEMA
from intents.book_sqlite_quotes import SqliteQuotes
from intents.book_sqlite_rows import SELECT
from intents.book_sqlite_webhooks import SCHEMA as WEBHOOKS_SCHEMA
from intents.book_sqlite_webhooks import SqliteWebhooks, enqueue
from intents.feed import ChangeFeed, StatusChange
from intents.order import OrderClass, OrderStatus, StoredOrder
from intents.outbox import OutboxPoller
from intents.records_sqlite import RECORDS_SCHEMA, SqliteRecords
from intents.round_records import SQLITE_ROUNDS_SCHEMA, SqliteRounds
from intents.types import Address, OrderUid

log = logging.getLogger(__name__)

T = TypeVar("T")
Changes = list[StatusChange]
Op = Callable[[sqlite3.Connection], tuple[T, Changes]]
Outcome = tuple["asyncio.Future[Any]", Any, BaseException | None]

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS orders (
    seq INTEGER PRIMARY KEY,
    uid BLOB NOT NULL UNIQUE,
    owner TEXT NOT NULL,
    sell_token TEXT NOT NULL,
    buy_token TEXT NOT NULL,
    receiver TEXT NOT NULL,
    sell_amount TEXT NOT NULL,
    buy_amount TEXT NOT NULL,
    valid_to INTEGER NOT NULL,
    app_data BLOB NOT NULL,
    fee_amount TEXT NOT NULL,
    kind TEXT NOT NULL,
    partially_fillable INTEGER NOT NULL,
    sell_token_balance TEXT NOT NULL,
    buy_token_balance TEXT NOT NULL,
    signing_scheme TEXT NOT NULL,
    signature BLOB NOT NULL,
    order_class TEXT NOT NULL,
    creation_time REAL NOT NULL,
    app_data_json TEXT,
    status TEXT NOT NULL,
    executed_sell TEXT NOT NULL,
    executed_buy TEXT NOT NULL,
    executed_fee TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_owner ON orders (owner, seq);
CREATE INDEX IF NOT EXISTS orders_live ON orders (valid_to) WHERE {LIVE_SQL};
CREATE TABLE IF NOT EXISTS status_history (
    seq INTEGER PRIMARY KEY,
    uid BLOB NOT NULL,
    status TEXT NOT NULL,
    time REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS status_history_uid ON status_history (uid, seq);
CREATE TABLE IF NOT EXISTS fills (
    tx_hash BLOB NOT NULL,
    log_index INTEGER NOT NULL,
    uid BLOB NOT NULL,
    executed_sell TEXT NOT NULL,
    executed_buy TEXT NOT NULL,
    executed_fee TEXT NOT NULL,
    block_number INTEGER NOT NULL,
    PRIMARY KEY (tx_hash, log_index)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS fills_block ON fills (block_number);
CREATE TABLE IF NOT EXISTS fill_cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    block INTEGER NOT NULL
);
"""
_HISTORY = "INSERT INTO status_history (uid, status, time) VALUES (?, ?, ?)"
_MAX_GROUP = 1024
_CHECKPOINT_SECONDS = 1.0


def _connect(path: Path, *, read_only: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 10000")
    if read_only:
        conn.execute("PRAGMA query_only = ON")
    else:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA wal_autocheckpoint = 0")  # the checkpointer thread does it
        conn.executescript(
            _SCHEMA
            + RECORDS_SCHEMA
            + SQLITE_ROUNDS_SCHEMA
            + PRESIGN_SCHEMA
            + QUOTES_SCHEMA
            + CONDITIONAL_SCHEMA
            + WEBHOOKS_SCHEMA
            + OUTBOX_SCHEMA
        )
        _migrate(conn)
    return conn


def _migrate(conn: sqlite3.Connection) -> None:
    """Add the ``orders`` columns a book created by an older release lacks."""
    present = {row[1] for row in conn.execute("PRAGMA table_info(orders)")}
    for column, (sqlite_type, _) in ADDED_COLUMNS.items():
        if column not in present:
            conn.execute(f"ALTER TABLE orders ADD COLUMN {column} {sqlite_type}")
            log.info("order book: added column orders.%s", column)


class SqliteBook(
    SqliteRecords,
    SqliteRounds,
    SqlitePresignatures,
    SqliteQuotes,
    SqliteConditionals,
    SqliteWebhooks,
    SqliteOutbox,
):
    """``OrderBook`` on one SQLite file. Create with ``await SqliteBook.open(path)``."""

    def __init__(self, path: Path, writer: sqlite3.Connection, clock: Callable[[], float]) -> None:
        self._path = path
        self._clock = clock
        self._loop = asyncio.get_running_loop()
        self._feed = ChangeFeed()
        # The feed is fed from the outbox (as on PostgreSQL), woken by each commit.
        self._poller = OutboxPoller(self, self._feed, interval=0.1)
        self._pending: queue.SimpleQueue[tuple[Op[Any], asyncio.Future[Any]] | None] = (
            queue.SimpleQueue()
        )
        self._closed = False
        self._writer = threading.Thread(
            target=self._write_loop, args=(writer,), name="book-writer", daemon=True
        )
        self._writer.start()
        self._stop_checkpoints = threading.Event()
        self._checkpointer = threading.Thread(
            target=self._checkpoint_loop, name="book-checkpointer", daemon=True
        )
        self._checkpointer.start()
        self._readers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="book-reader")
        self._local = threading.local()
        self._read_conns: list[sqlite3.Connection] = []

    @classmethod
    async def open(cls, path: Path, *, clock: Callable[[], float] = time.time) -> SqliteBook:
        writer = await asyncio.to_thread(_connect, path, read_only=False)
        log.info("order book: SQLite at %s", path)
        book = cls(path, writer, clock)
        try:
            await book._poller.start()
        except BaseException:
            await book.close()
            raise
        return book

    # -- writes ---------------------------------------------------------------------------

    async def _write(self, op: Op[T]) -> T:
        if self._closed:
            raise RuntimeError("the order book is closed")
        future: asyncio.Future[T] = self._loop.create_future()
        self._pending.put((op, future))
        return await future

    def _write_loop(self, conn: sqlite3.Connection) -> None:
        stop = False
        while not stop:
            first = self._pending.get()
            if first is None:
                break
            group = [first]
            while len(group) < _MAX_GROUP:
                try:
                    item = self._pending.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                group.append(item)
            outcomes, changes = self._commit_group(conn, group)
            if changes:  # before any caller hears of its write: see ``subscribe``
                self._poller.committed(newest_outbox_id(conn))
            try:
                self._loop.call_soon_threadsafe(self._deliver, outcomes, changes)
            except RuntimeError:
                log.warning("event loop closed; %d committed writes not acknowledged", len(group))
        conn.close()

    def _checkpoint_loop(self) -> None:
        """Copy committed WAL pages into the database file every ``_CHECKPOINT_SECONDS``
        from a connection of its own: a checkpoint inside a commit (SQLite's default)
        stalls every write of that group, which showed as the intake's latency tail."""
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout = 10000")
            while not self._stop_checkpoints.wait(_CHECKPOINT_SECONDS):
                try:  # PASSIVE: never waits for, nor blocks, readers or the writer
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:
                    log.warning("order book checkpoint failed: %s", exc)
        finally:
            conn.close()

    def _commit_group(
        self, conn: sqlite3.Connection, group: list[tuple[Op[Any], asyncio.Future[Any]]]
    ) -> tuple[list[Outcome], Changes]:
        try:
            try:  # optimistic: no savepoints (two statements per write saved)
                return _run_group(conn, group, savepoints=False)
            except _OpFailed:  # someone's write fails: redo the group, each in a savepoint
                conn.execute("ROLLBACK")
                return _run_group(conn, group, savepoints=True)
        except sqlite3.Error as exc:  # the whole group is lost: I/O error, disk full, ...
            log.error("order book group commit of %d writes failed: %s", len(group), exc)
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            return [(future, None, exc) for _, future in group], []

    def _deliver(self, outcomes: list[Outcome], changes: Changes) -> None:
        for future, result, exc in outcomes:
            if future.done():  # the caller went away; the write stands
                continue
            if exc is None:
                future.set_result(result)
            else:
                future.set_exception(exc)
        if changes:
            self._poller.wake()

    async def insert(self, order: StoredOrder, *, limit_cap: int | None = None) -> None:
        await self._write(lambda conn: ops.insert(conn, order, limit_cap, self._clock()))

    async def cancel(self, uids: list[OrderUid], owner: Address) -> list[OrderUid]:
        return await self._write(lambda conn: ops.cancel(conn, uids, owner, self._clock()))

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
        fill = (tx_hash, log_index, uid, executed_sell, executed_buy, executed_fee, block_number)
        return await self._write(lambda conn: ops.record_fill(conn, fill, self._clock()))

    async def revert_fill(self, tx_hash: bytes) -> list[OrderUid]:
        return await self._write(lambda conn: ops.revert_fill(conn, tx_hash, self._clock()))

    async def expire(self, now: float) -> list[OrderUid]:
        return await self._write(lambda conn: ops.expire(conn, now))

    async def set_fill_cursor(self, block: int) -> None:
        await self._write(lambda conn: ops.set_fill_cursor(conn, block))

    # -- reads ----------------------------------------------------------------------------

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = _connect(self._path, read_only=True)
            self._read_conns.append(conn)
        return conn

    async def _read(self, sql: str, params: Iterable[Any]) -> list[Any]:
        args = tuple(params)
        return await self._loop.run_in_executor(
            self._readers, lambda: self._reader().execute(sql, args).fetchall()
        )

    async def fill_cursor(self) -> int | None:
        rows = await self._read("SELECT block FROM fill_cursor", ())
        return int(rows[0][0]) if rows else None

    async def fill_transactions(self, first_block: int, last_block: int) -> list[bytes]:
        rows = await self._read(
            "SELECT DISTINCT tx_hash FROM fills WHERE block_number BETWEEN ? AND ?",
            (first_block, last_block),
        )
        return [bytes(tx_hash) for (tx_hash,) in rows]

    async def get(self, uid: OrderUid) -> StoredOrder | None:
        rows = await self._read(f"{SELECT} WHERE uid = ?", (uid,))
        return from_row(rows[0]) if rows else None

    async def list_by_owner(
        self, owner: Address, offset: int = 0, limit: int = 10
    ) -> list[StoredOrder]:
        sql = f"{SELECT} WHERE owner = ? ORDER BY seq DESC LIMIT ? OFFSET ?"
        return [from_row(r) for r in await self._read(sql, (owner, limit, offset))]

    async def count(self) -> int:
        rows = await self._read("SELECT count(*) FROM orders", ())
        return int(rows[0][0])

    async def count_open_limit_orders(self, owner: Address, now: float) -> int:
        rows = await self._read(ops.COUNT_LIMIT_ORDERS, (owner, OrderClass.LIMIT.value, now))
        return int(rows[0][0])

    async def open_orders(self, now: float) -> list[StoredOrder]:
        sql = f"{SELECT} WHERE {LIVE_SQL} AND valid_to >= ? ORDER BY seq"
        return [from_row(r) for r in await self._read(sql, (now,))]

    async def status_history(self, uid: OrderUid) -> list[StatusChange]:
        sql = (
            "SELECT h.status, h.time, o.owner FROM status_history h JOIN orders o"
            " ON o.uid = h.uid WHERE h.uid = ? ORDER BY h.seq"
        )
        return [
            StatusChange(uid, Address(owner), OrderStatus(status), time)
            for status, time, owner in await self._read(sql, (uid,))
        ]

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._poller.close()
        self._pending.put(None)
        await asyncio.to_thread(self._writer.join)
        with contextlib.suppress(sqlite3.Error):
            await self._poller.poll()  # the last writes' changes reach subscribers
        self._stop_checkpoints.set()
        await asyncio.to_thread(self._checkpointer.join)
        self._readers.shutdown(wait=True)
        for conn in self._read_conns:
            conn.close()
        self._feed.close()


# -- the group commit, run by the writer thread ---------------------------------------------


class _OpFailed(Exception):
    """A write of a group without savepoints failed: the group must be redone with them."""


def _run_group(
    conn: sqlite3.Connection,
    group: list[tuple[Op[Any], asyncio.Future[Any]]],
    *,
    savepoints: bool,
) -> tuple[list[Outcome], Changes]:
    """Run the group's writes in one transaction and commit it. With ``savepoints`` each
    write runs in its own, so a failing one rolls back alone; without, the first failure
    raises ``_OpFailed`` with the transaction still open. Ops only touch the database, so
    a rolled-back group can be redone. Every status change the writes return goes into
    ``status_history`` in one statement at the end, and their webhook deliveries."""
    outcomes: list[Outcome] = []
    changes: Changes = []
    conn.execute("BEGIN IMMEDIATE")
    for op, future in group:
        if savepoints:
            conn.execute("SAVEPOINT op")
        try:
            result, op_changes = op(conn)
        except Exception as exc:  # this caller's failure only
            if not savepoints:
                raise _OpFailed from exc
            conn.execute("ROLLBACK TO op")
            outcomes.append((future, None, exc))
        else:
            outcomes.append((future, result, None))
            changes.extend(op_changes)
        if savepoints:
            conn.execute("RELEASE op")
    conn.executemany(_HISTORY, [(c.uid, c.status.value, c.time) for c in changes])
    now = time.time()
    write_outbox(conn, changes, now)
    enqueue(conn, changes, now)
    conn.execute("COMMIT")
    return outcomes, changes
