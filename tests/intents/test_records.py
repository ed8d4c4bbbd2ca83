"""The book's records (``intents.records``) on both backends: trades with their settlement
transaction, orders of a transaction, solver fees, app data and competitions, durable
across a reopen, and added to a book created before they existed."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import msgspec
import pytest

from intents.book import OrderBook, open_book
from intents.book_postgres import PostgresBook
from intents.records import (
    AppDataConflict,
    CompetitionRecord,
    HookFailureRecord,
    SolutionOrder,
    SolutionRecord,
)
from intents.types import OrderUid
from intents.wire import to_hex
from tests.intents.test_store import ALICE, BOB, PG_URL, book, fill, fresh_postgres_book, make_order

__all__ = ["book"]  # the two-backend book fixture of test_store

NEW_TABLES = (
    "app_data",
    "competitions",
    "competition_transactions",
    "solver_fees",
    "hook_failures",
)


def tx(n: int) -> bytes:
    return n.to_bytes(32, "big")


def competition(auction_id: int, tx_hash: bytes | None, uid: bytes, fee: int) -> CompetitionRecord:
    winner = SolutionRecord(
        solver="baseline",
        solver_address="0x" + "5a" * 20,
        score=123,
        ranking=1,
        clearing_prices={"0x" + "c0" * 20: 7, "0x" + "d0" * 20: 11},
        orders=[SolutionOrder(to_hex(uid), 10**20, 3 * 10**17, fee)],
        is_winner=True,
        filtered_out=False,
        tx_hash=None if tx_hash is None else to_hex(tx_hash),
        reference_score=100,
    )
    loser = SolutionRecord(
        solver="optimal",
        solver_address="0x" + "5a" * 20,
        score=99,
        ranking=2,
        clearing_prices={},
        orders=[],
        is_winner=False,
        filtered_out=False,
    )
    return CompetitionRecord(
        auction_id=auction_id,
        auction_start_block=1000 + auction_id,
        auction_deadline_block=1003 + auction_id,
        orders=[to_hex(uid)],
        prices={"0x" + "d0" * 20: 2 * 10**18},
        solutions=[winner, loser],
        reference_scores={"baseline": 100},
    )


async def test_trades_carry_the_settlement_transaction_newest_first(book: OrderBook) -> None:
    first, second, bobs = make_order(1), make_order(2), make_order(3, BOB)
    for order in (first, second, bobs):
        await book.insert(order)
    await fill(book, first, 10**20, 10**17, tx=1)
    await fill(book, second, 10**20, 10**17, tx=2, log_index=0)
    await fill(book, first, 2 * 10**20, 2 * 10**17, tx=2, log_index=1)
    await fill(book, bobs, 5, 1, tx=3)

    trades = await book.trades(owner=ALICE)
    assert [(t.tx_hash, t.log_index) for t in trades] == [(tx(2), 1), (tx(2), 0), (tx(1), 0)]
    newest = trades[0]
    assert (newest.uid, newest.owner, newest.block_number) == (first.uid, ALICE, 102)
    assert (newest.sell_token, newest.buy_token) == (first.order.sell_token, first.order.buy_token)
    assert (newest.executed_sell, newest.executed_buy, newest.executed_fee) == (
        2 * 10**20,
        2 * 10**17,
        7,
    )
    assert [t.tx_hash for t in await book.trades(uid=first.uid)] == [tx(2), tx(1)]
    assert [t.log_index for t in await book.trades(owner=ALICE, offset=1, limit=1)] == [0]
    assert await book.trades(owner=ALICE, offset=3) == []

    assert [s.uid for s in await book.orders_of_transaction(tx(2))] == [second.uid, first.uid]
    assert await book.orders_of_transaction(tx(9)) == []
    await book.revert_fill(tx(2))  # a reorg: the trades of the transaction are gone
    assert [t.tx_hash for t in await book.trades(owner=ALICE)] == [tx(1)]
    assert await book.orders_of_transaction(tx(2)) == []


async def test_solver_fees_count_only_recorded_settlements(book: OrderBook) -> None:
    order = make_order(1)
    await book.insert(order)
    await book.record_competition(competition(1, tx(1), order.uid, fee=40))
    assert await book.solver_fees([order.uid]) == {}  # not mined into the book yet
    await fill(book, order, 10**20, 10**17, tx=1)
    await book.record_competition(competition(2, tx(2), order.uid, fee=2))
    await fill(book, order, 10**20, 10**17, tx=2)
    assert await book.solver_fees([order.uid, make_order(5).uid]) == {order.uid: 42}
    await book.revert_fill(tx(2))
    assert await book.solver_fees([order.uid]) == {order.uid: 40}
    assert await book.solver_fees([]) == {}


async def test_hook_failures_are_kept_and_shown_only_for_recorded_settlements(
    book: OrderBook,
) -> None:
    order, other = make_order(1), make_order(2)
    for o in (order, other):
        await book.insert(o)
    target = "0x" + "ab" * 20

    def failure(tx_n: int, stage: str, index: int) -> HookFailureRecord:
        return HookFailureRecord(
            uid=order.uid, tx_hash=tx(tx_n), stage=stage, index=index, target=target
        )

    await fill(book, order, 10**20, 10**17, tx=1)
    await fill(book, order, 10**20, 10**17, tx=2)
    await book.record_hook_failures([failure(1, "post", 1), failure(1, "pre", 0)])
    await book.record_hook_failures([failure(1, "pre", 0), failure(2, "post", 0)])  # idempotent
    await book.record_hook_failures([])
    found = await book.hook_failures([order.uid, other.uid])
    assert found == {
        order.uid: [failure(1, "pre", 0), failure(1, "post", 1), failure(2, "post", 0)]
    }
    await book.revert_fill(tx(2))  # a reorg: that settlement's failures are not shown
    assert await book.hook_failures([order.uid]) == {
        order.uid: [failure(1, "pre", 0), failure(1, "post", 1)]
    }
    assert await book.hook_failures([]) == {}


async def test_app_data_is_stored_once_per_hash(book: OrderBook) -> None:
    key = b"\x11" * 32
    assert await book.app_data(key) is None
    assert await book.put_app_data(key, '{"a":1}') is True
    assert await book.put_app_data(key, '{"a":1}') is False
    with pytest.raises(AppDataConflict) as conflict:
        await book.put_app_data(key, '{"a":2}')
    assert conflict.value.code == "AppDataMismatch"
    assert await book.app_data(key) == '{"a":1}'


async def test_app_data_posted_with_an_order_is_found(book: OrderBook) -> None:
    order = make_order(1)
    await book.insert(msgspec.structs.replace(order, app_data_json='{"x":[]}'))
    assert await book.app_data(order.order.app_data) == '{"x":[]}'


async def test_competitions_by_id_by_transaction_and_latest(book: OrderBook) -> None:
    assert await book.competition() is None
    uid = make_order(1).uid
    one, two = competition(1, tx(1), uid, 3), competition(2, None, uid, 0)
    await book.record_competition(one)
    await book.record_competition(two)
    assert await book.competition(auction_id=1) == one
    assert await book.competition(tx_hash=tx(1)) == one
    assert await book.competition() == two
    assert await book.competition(auction_id=3) is None
    assert await book.competition(tx_hash=tx(2)) is None
    assert one.transaction_hashes == [to_hex(tx(1))]
    assert two.transaction_hashes == []


async def test_records_survive_a_reopen(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/book.db"
    first = await open_book(url)
    order = make_order(1)
    await first.insert(order)
    await fill(first, order, 10**20, 10**17, tx=1)
    await first.put_app_data(b"\x22" * 32, "{}")
    await first.record_competition(competition(4, tx(1), order.uid, 5))
    await first.close()
    again = await open_book(url)
    try:
        assert [t.tx_hash for t in await again.trades(uid=order.uid)] == [tx(1)]
        assert await again.app_data(b"\x22" * 32) == "{}"
        record = await again.competition(tx_hash=tx(1))
        assert record is not None and record.auction_id == 4
        assert await again.solver_fees([order.uid]) == {order.uid: 5}
    finally:
        await again.close()


async def _records_work(migrated: OrderBook, uid: OrderUid) -> None:
    """The fill recorded before the migration is a trade; the new tables take writes."""
    assert [t.tx_hash for t in await migrated.trades(uid=uid)] == [tx(1)]
    assert await migrated.put_app_data(b"\x33" * 32, "{}")
    await migrated.record_competition(competition(1, tx(1), uid, 9))
    assert await migrated.solver_fees([uid]) == {uid: 9}


async def test_a_sqlite_book_from_before_the_records_gains_them(tmp_path: Path) -> None:
    import sqlite3

    url, path = f"sqlite:///{tmp_path}/old.db", tmp_path / "old.db"
    old = await open_book(url)
    order = make_order(1)
    await old.insert(order)
    await fill(old, order, 10**20, 10**17, tx=1)
    await old.close()
    conn = sqlite3.connect(path)  # back to the schema before this change
    for table in NEW_TABLES:
        conn.execute(f"DROP TABLE {table}")
    conn.execute("DROP INDEX fills_uid")
    conn.commit()
    conn.close()
    migrated = await open_book(url)
    try:
        await _records_work(migrated, order.uid)
    finally:
        await migrated.close()


async def test_a_postgres_book_from_before_the_records_gains_them() -> None:
    async with fresh_postgres_book() as pg_book:
        order = make_order(1)
        await pg_book.insert(order)
        await fill(pg_book, order, 10**20, 10**17, tx=1)
        schema = pg_book._schema
        conn = await asyncpg.connect(PG_URL)
        try:  # back to the schema before this change
            for table in NEW_TABLES:
                await conn.execute(f"DROP TABLE {schema}.{table}")
            await conn.execute(f"DROP INDEX {schema}.fills_uid")
        finally:
            await conn.close()
        migrated = await PostgresBook.open(PG_URL, schema=schema)
        try:
            await _records_work(migrated, order.uid)
        finally:
            await migrated.close()
