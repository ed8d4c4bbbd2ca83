"""Pre-signature events in the order book, on both adapters: pending ``presign`` orders
open on a signed event and go back on revocation, a replaced block window (a reorg)
undoes what it drops, and books made before pre-signatures were indexed are migrated."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import msgspec

from intents.book import OrderBook, open_book
from intents.book_postgres import PostgresBook
from intents.book_rows import ADDED_COLUMNS
from intents.lifecycle import gate
from intents.order import OrderStatus, SigningScheme, StoredOrder
from intents.presignatures import PreSignatureEvent
from tests.intents.test_store import (
    ALICE,
    NOW,
    PG_URL,
    book,
    fill,
    fresh_postgres_book,
    make_order,
)

__all__ = ["book"]  # the two-backend fixture


def presign_order(n: int, *, signed: bool = False) -> StoredOrder:
    """A pending (or, ``signed``, open) ``presign`` order, as intake stores it."""
    order = msgspec.structs.replace(
        make_order(n), signing_scheme=SigningScheme.PRESIGN, signature=b"", presigned=signed
    )
    return gate(order)


def event(order: StoredOrder, block: int, signed: bool, log_index: int = 0) -> PreSignatureEvent:
    return PreSignatureEvent(block, log_index, order.owner, order.uid, signed)


async def status(book: OrderBook, order: StoredOrder) -> OrderStatus:
    stored = await book.get(order.uid)
    assert stored is not None
    return stored.status


async def test_a_pending_order_opens_on_its_event_and_goes_back_on_revocation(
    book: OrderBook,
) -> None:
    order = presign_order(1)
    await book.insert(order)
    assert await status(book, order) is OrderStatus.PRESIGNATURE_PENDING
    assert await book.open_orders(NOW) == []  # not auctioned while pending
    assert await book.replace_presignatures(10, [event(order, 12, True)], 9) == [order.uid]
    assert await status(book, order) is OrderStatus.OPEN
    assert [o.uid for o in await book.open_orders(NOW)] == [order.uid]
    revoke = [event(order, 12, True), event(order, 14, False)]
    assert await book.replace_presignatures(10, revoke, 9) == [order.uid]
    assert await status(book, order) is OrderStatus.PRESIGNATURE_PENDING
    assert await book.open_orders(NOW) == []
    history = [c.status for c in await book.status_history(order.uid)]
    assert history == [
        OrderStatus.PRESIGNATURE_PENDING,
        OrderStatus.OPEN,
        OrderStatus.PRESIGNATURE_PENDING,
    ]
    assert await book.presignature_cursor() == 9
    assert await book.presignature_events(13) == [event(order, 14, False)]


async def test_a_replaced_window_undoes_the_events_it_drops(book: OrderBook) -> None:
    order, other = presign_order(1), presign_order(2)
    for o in (order, other):
        await book.insert(o)
    await book.replace_presignatures(10, [event(order, 11, True), event(other, 12, True)], 9)
    # a reorg from block 12: the other order's event is gone, the first one's moved
    changed = await book.replace_presignatures(12, [event(order, 13, False)], 11)
    assert sorted(changed) == sorted([order.uid, other.uid])
    assert await status(book, order) is OrderStatus.PRESIGNATURE_PENDING
    assert await status(book, other) is OrderStatus.PRESIGNATURE_PENDING
    assert await book.presignature_events(0) == [event(order, 11, True), event(order, 13, False)]
    # the same window again changes nothing; final blocks below it are kept
    assert await book.replace_presignatures(12, [event(order, 13, False)], 12) == []
    assert await book.presignature_cursor() == 12


async def test_an_event_indexed_before_its_order_decides_its_status(book: OrderBook) -> None:
    order = presign_order(1)  # intake read the chain before the event was mined
    await book.replace_presignatures(10, [event(order, 11, True)], 10)
    await book.insert(order)
    assert await status(book, order) is OrderStatus.OPEN
    revoked = presign_order(2, signed=True)
    await book.replace_presignatures(11, [event(revoked, 12, False)], 11)
    await book.insert(revoked)
    assert await status(book, revoked) is OrderStatus.PRESIGNATURE_PENDING


async def test_fills_and_pre_signatures_compose(book: OrderBook) -> None:
    order = presign_order(1)
    await book.insert(order)
    await book.replace_presignatures(10, [event(order, 11, True)], 10)
    assert await fill(book, order, 10**23, 3 * 10**20, tx=1)
    assert await status(book, order) is OrderStatus.PARTIALLY_FILLED
    await book.replace_presignatures(12, [event(order, 12, False)], 11)
    assert await status(book, order) is OrderStatus.PRESIGNATURE_PENDING
    await book.revert_fill((1).to_bytes(32, "big"))  # a reverted fill leaves it pending
    assert await status(book, order) is OrderStatus.PRESIGNATURE_PENDING
    await book.replace_presignatures(12, [], 12)  # the revocation reorged out: signed again
    assert await status(book, order) is OrderStatus.OPEN


async def test_pending_orders_expire_and_other_schemes_ignore_events(book: OrderBook) -> None:
    pending, plain = presign_order(1), make_order(2)
    for o in (pending, plain):
        await book.insert(o)
    await book.replace_presignatures(10, [event(plain, 11, False)], 10)
    assert await status(book, plain) is OrderStatus.OPEN  # an eip712 order needs no event
    assert sorted(await book.expire(pending.order.valid_to + 1)) == sorted([pending.uid, plain.uid])
    assert await status(book, pending) is OrderStatus.EXPIRED


_OLD_SQLITE = """
CREATE TABLE orders (
    seq INTEGER PRIMARY KEY, uid BLOB NOT NULL UNIQUE, owner TEXT NOT NULL,
    sell_token TEXT NOT NULL, buy_token TEXT NOT NULL, receiver TEXT NOT NULL,
    sell_amount TEXT NOT NULL, buy_amount TEXT NOT NULL, valid_to INTEGER NOT NULL,
    app_data BLOB NOT NULL, fee_amount TEXT NOT NULL, kind TEXT NOT NULL,
    partially_fillable INTEGER NOT NULL, sell_token_balance TEXT NOT NULL,
    buy_token_balance TEXT NOT NULL, signing_scheme TEXT NOT NULL, signature BLOB NOT NULL,
    order_class TEXT NOT NULL, creation_time REAL NOT NULL, app_data_json TEXT,
    status TEXT NOT NULL, executed_sell TEXT NOT NULL, executed_buy TEXT NOT NULL,
    executed_fee TEXT NOT NULL
);
"""


async def test_an_older_sqlite_book_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = make_order(1)
    conn = sqlite3.connect(path)
    conn.executescript(_OLD_SQLITE)
    conn.execute(
        "INSERT INTO orders (uid, owner, sell_token, buy_token, receiver, sell_amount,"
        " buy_amount, valid_to, app_data, fee_amount, kind, partially_fillable,"
        " sell_token_balance, buy_token_balance, signing_scheme, signature, order_class,"
        " creation_time, status, executed_sell, executed_buy, executed_fee)"
        " VALUES (?, ?, 't', 'u', 'r', '5', '6', ?, ?, '0', 'sell', 1, 'erc20', 'erc20',"
        " 'presign', x'', 'limit', 1.0, 'open', '0', '0', '0')",
        (old.uid, ALICE, old.order.valid_to, old.order.app_data),
    )
    conn.commit()
    conn.close()
    book = await open_book(f"sqlite:///{path}")
    try:
        stored = await book.get(old.uid)
        assert stored is not None  # stored signed before pending existed: still open
        assert (stored.presigned, stored.quote_id, stored.status) == (True, None, OrderStatus.OPEN)
        await book.insert(presign_order(2))
        assert await status(book, presign_order(2)) is OrderStatus.PRESIGNATURE_PENDING
    finally:
        await book.close()


async def test_an_older_postgres_book_is_migrated() -> None:
    async with fresh_postgres_book() as first:
        await first.insert(make_order(1))
        async with first._pool.acquire() as conn:  # roll the schema back to before
            for column in ADDED_COLUMNS:
                await conn.execute(f"ALTER TABLE orders DROP COLUMN {column}")
        book = await PostgresBook.open(PG_URL, schema=first._schema)
        try:
            stored = await book.get(make_order(1).uid)
            assert stored is not None
            assert (stored.presigned, stored.quote_id) == (True, None)
        finally:
            await book.close()
