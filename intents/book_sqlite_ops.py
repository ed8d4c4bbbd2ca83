"""The SQLite book's write operations, each run by the writer thread inside the group
commit's transaction (``intents.book_sqlite``): each returns its result and the status
changes it made."""

from __future__ import annotations

import sqlite3

from intents.book_rows import (
    COLUMNS,
    LIVE_SQL,
    UNSETTLED_SQL,
    duplicated,
    from_row,
    to_row,
    wrong_owner,
)
from intents.book_sqlite_presign import sync_presignature
from intents.book_sqlite_rows import SELECT, apply, load
from intents.cancellation import refuse_cancellation
from intents.errors import TooManyLimitOrders
from intents.feed import StatusChange
from intents.lifecycle import Event, Progress, next_status, with_fill
from intents.order import OrderClass, OrderStatus, SigningScheme, StoredOrder
from intents.types import Address, OrderUid

Changes = list[StatusChange]

_INSERT = f"INSERT INTO orders ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
COUNT_LIMIT_ORDERS = (
    f"SELECT count(*) FROM orders WHERE owner = ? AND order_class = ? AND {LIVE_SQL}"
    " AND valid_to >= ?"
)


def insert(
    conn: sqlite3.Connection, order: StoredOrder, limit_cap: int | None, now: float
) -> tuple[None, Changes]:
    """Store ``order``; with ``limit_cap``, a limit order only while its owner has fewer open
    ones. The count runs inside the writer's transaction (``BEGIN IMMEDIATE``, one writer,
    earlier inserts of the same group included), so no concurrent insert can slip past it."""
    if limit_cap is not None and order.order_class is OrderClass.LIMIT:
        if conn.execute("SELECT 1 FROM orders WHERE uid = ?", (order.uid,)).fetchone():
            raise duplicated(order.uid)
        args = (order.owner, OrderClass.LIMIT.value, now)
        (count,) = conn.execute(COUNT_LIMIT_ORDERS, args).fetchone()
        if count >= limit_cap:
            raise TooManyLimitOrders(order.owner, count, limit_cap)
    try:
        conn.execute(_INSERT, to_row(order))
    except sqlite3.IntegrityError as exc:
        if exc.sqlite_errorcode == sqlite3.SQLITE_CONSTRAINT_UNIQUE:
            raise duplicated(order.uid) from None
        raise
    changes = [StatusChange(order.uid, order.owner, order.status, order.creation_time)]
    if order.signing_scheme is SigningScheme.PRESIGN:  # an event indexed before it came
        changes += sync_presignature(conn, order.uid, now, unsigned_without_event=False)[1]
    return None, changes


def cancel(
    conn: sqlite3.Connection, uids: list[OrderUid], owner: Address, now: float
) -> tuple[list[OrderUid], Changes]:
    orders = []
    for uid in dict.fromkeys(uids):
        row = conn.execute(f"{SELECT} WHERE uid = ?", (uid,)).fetchone()
        stored = None if row is None else from_row(row)
        refuse_cancellation(uid, stored, now)
        assert stored is not None
        orders.append(stored)
    for stored in orders:
        if stored.owner != owner:
            raise wrong_owner(stored.uid, owner)
    changes = []
    for stored in orders:
        status = next_status(stored.status, Event.CANCEL, Progress.NONE)
        conn.execute("UPDATE orders SET status = ? WHERE uid = ?", (status.value, stored.uid))
        changes.append(StatusChange(stored.uid, owner, status, now))
    return [c.uid for c in changes], changes


def record_fill(
    conn: sqlite3.Connection,
    fill: tuple[bytes, int, OrderUid, int, int, int, int],
    now: float,
) -> tuple[bool, Changes]:
    tx_hash, log_index, uid, sell, buy, fee, block_number = fill
    seen = "SELECT 1 FROM fills WHERE tx_hash = ? AND log_index = ?"
    if conn.execute(seen, (tx_hash, log_index)).fetchone():
        return False, []
    stored = load(conn, uid)
    conn.execute(
        "INSERT INTO fills VALUES (?, ?, ?, ?, ?, ?, ?)",
        (tx_hash, log_index, uid, str(sell), str(buy), str(fee), block_number),
    )
    return True, apply(conn, stored, with_fill(stored, sell, buy, fee), now)


def revert_fill(
    conn: sqlite3.Connection, tx_hash: bytes, now: float
) -> tuple[list[OrderUid], Changes]:
    fills = conn.execute(
        "SELECT uid, executed_sell, executed_buy, executed_fee FROM fills WHERE tx_hash = ?"
        " ORDER BY log_index",
        (tx_hash,),
    ).fetchall()
    conn.execute("DELETE FROM fills WHERE tx_hash = ?", (tx_hash,))
    changes: Changes = []
    touched: dict[OrderUid, None] = {}
    for uid, sell, buy, fee in fills:
        stored = load(conn, uid)
        reverted = with_fill(stored, int(sell), int(buy), int(fee), revert=True)
        changes += apply(conn, stored, reverted, now)
        touched[OrderUid(bytes(uid))] = None
    return list(touched), changes


def set_fill_cursor(conn: sqlite3.Connection, block: int) -> tuple[None, Changes]:
    conn.execute(
        "INSERT INTO fill_cursor VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET block = ?",
        (block, block),
    )
    return None, []


def expire(conn: sqlite3.Connection, now: float) -> tuple[list[OrderUid], Changes]:
    rows = conn.execute(
        f"SELECT uid, owner, status FROM orders WHERE {UNSETTLED_SQL} AND valid_to < ?", (now,)
    ).fetchall()
    changes = []
    for uid, owner, current in rows:
        status = next_status(OrderStatus(current), Event.EXPIRE, Progress.NONE)
        conn.execute("UPDATE orders SET status = ? WHERE uid = ?", (status.value, uid))
        change = StatusChange(OrderUid(bytes(uid)), Address(owner), status, now)
        changes.append(change)
    return [c.uid for c in changes], changes
