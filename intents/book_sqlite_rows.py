"""Reading and rewriting one order row of the SQLite book inside the writer's transaction,
shared by its operations (``intents.book_sqlite`` and its pre-signature and quote parts)."""

from __future__ import annotations

import sqlite3

from intents.book_rows import COLUMNS, from_row, not_found
from intents.feed import StatusChange
from intents.order import StoredOrder
from intents.types import OrderUid

SELECT = f"SELECT {', '.join(COLUMNS)} FROM orders"


def load(conn: sqlite3.Connection, uid: OrderUid) -> StoredOrder:
    """The stored order ``uid``; ``OrderNotFound`` if there is none."""
    row = conn.execute(f"{SELECT} WHERE uid = ?", (uid,)).fetchone()
    if row is None:
        raise not_found(uid)
    return from_row(row)


def apply(
    conn: sqlite3.Connection, before: StoredOrder, after: StoredOrder, now: float
) -> list[StatusChange]:
    """Write ``after``'s status, executed amounts and pre-signature; its status change, if
    it moved (for ``status_history`` and the feed)."""
    conn.execute(
        "UPDATE orders SET status = ?, executed_sell = ?, executed_buy = ?, executed_fee = ?,"
        " presigned = ? WHERE uid = ?",
        (
            after.status.value,
            str(after.executed_sell_amount),
            str(after.executed_buy_amount),
            str(after.executed_fee_amount),
            after.presigned,
            after.uid,
        ),
    )
    if after.status is before.status:
        return []
    return [StatusChange(after.uid, after.owner, after.status, now)]
