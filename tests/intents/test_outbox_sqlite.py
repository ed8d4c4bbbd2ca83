"""The SQLite book writes every status change to ``status_outbox`` in the transaction that
makes it, with increasing ids (the source of a cross-process event stream)."""

from __future__ import annotations

from pathlib import Path

from intents.book_sqlite import SqliteBook
from intents.order import OrderStatus
from tests.intents.test_store import ALICE, BOB, NOW, make_order


async def test_every_status_change_is_in_the_outbox_in_commit_order(tmp_path: Path) -> None:
    book = await SqliteBook.open(tmp_path / "book.sqlite3", clock=lambda: NOW)
    try:
        a, b = make_order(1), make_order(2, owner=BOB)
        await book.insert(a)
        await book.insert(b)
        await book.cancel([a.uid], ALICE)
        rows = await book.outbox_after(0)
        assert [(c.uid, c.owner, c.status) for _, c in rows] == [
            (a.uid, ALICE, OrderStatus.OPEN),
            (b.uid, BOB, OrderStatus.OPEN),
            (a.uid, ALICE, OrderStatus.CANCELLED),
        ]
        ids = [i for i, _ in rows]
        assert ids == sorted(ids) and len(set(ids)) == 3
        assert [c for _, c in await book.outbox_after(ids[0])] == [c for _, c in rows[1:]]
    finally:
        await book.close()
