"""One behaviour suite for every ``OrderBook`` adapter: SQLite (always) and PostgreSQL (when
the server at 127.0.0.1:5432 answers; each test gets its own schema, dropped afterwards)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import textwrap
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import msgspec
import pytest

from intents.book import OrderBook, open_book
from intents.book_postgres import PostgresBook
from intents.errors import DuplicatedOrder, ErrorCode, OrderError, OrderNotFound
from intents.feed import StatusChange, Subscription
from intents.order import (
    BuyTokenBalance,
    Order,
    OrderClass,
    OrderKind,
    OrderStatus,
    SellTokenBalance,
    SigningScheme,
    StoredOrder,
)
from intents.types import UINT32_MAX, UINT256_MAX, Address, OrderUid, TokenAddress

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
ALICE = Address("0x" + "a1" * 20)
BOB = Address("0x" + "b0" * 20)
NOW = 1_800_000_000.0
ROOT = Path(__file__).resolve().parents[2]


def make_order(
    n: int,
    owner: Address = ALICE,
    *,
    kind: OrderKind = OrderKind.SELL,
    partially_fillable: bool = True,
    valid_to: int = int(NOW) + 3600,
    sell_amount: int = 10**24,
    buy_amount: int = 3 * 10**21,
    order_class: OrderClass = OrderClass.LIMIT,
) -> StoredOrder:
    uid = n.to_bytes(32, "big") + bytes.fromhex(owner[2:]) + valid_to.to_bytes(4, "big")
    return StoredOrder(
        uid=OrderUid(uid),
        owner=owner,
        order=Order(
            sell_token=TokenAddress("0x" + "c0" * 20),
            buy_token=TokenAddress("0x" + "d0" * 20),
            receiver=Address("0x" + "00" * 20),
            sell_amount=sell_amount,
            buy_amount=buy_amount,
            valid_to=valid_to,
            app_data=bytes(range(32)),
            fee_amount=0,
            kind=kind,
            partially_fillable=partially_fillable,
        ),
        signing_scheme=SigningScheme.EIP712,
        signature=b"\x1b" * 65,
        order_class=order_class,
        creation_time=NOW - 100 + n,
    )


_pg_unreachable: str | None = None


async def _pg_reason() -> str | None:
    """Why PostgreSQL cannot be used (None if it can); asked once per session."""
    global _pg_unreachable
    if _pg_unreachable is None:
        try:
            conn = await asyncpg.connect(PG_URL, timeout=3)
        except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
            _pg_unreachable = f"PostgreSQL not reachable at 127.0.0.1:5432: {exc!r}"
        else:
            await conn.close()
            _pg_unreachable = ""
    return _pg_unreachable or None


@contextlib.asynccontextmanager
async def fresh_postgres_book() -> AsyncIterator[PostgresBook]:
    """A PostgreSQL book in a schema of its own, dropped afterwards; skips if no server."""
    reason = await _pg_reason()
    if reason:
        pytest.skip(reason)
    schema = f"test_book_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    pg_book = await PostgresBook.open(PG_URL, schema=schema)
    try:
        yield pg_book
    finally:
        await pg_book.close()
        conn = await asyncpg.connect(PG_URL)
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        await conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def book(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[OrderBook]:
    if request.param == "sqlite":
        sqlite_book = await open_book(f"sqlite:///{tmp_path}/nested/dir/book.db")
        yield sqlite_book
        await sqlite_book.close()
        return
    async with fresh_postgres_book() as pg_book:
        yield pg_book


async def fill(
    book: OrderBook, order: StoredOrder, sell: int, buy: int, tx: int, log_index: int = 0
) -> bool:
    return await book.record_fill(
        order.uid,
        executed_sell=sell,
        executed_buy=buy,
        executed_fee=7,
        tx_hash=tx.to_bytes(32, "big"),
        log_index=log_index,
        block_number=100 + tx,
    )


async def statuses(book: OrderBook, order: StoredOrder) -> list[OrderStatus]:
    return [c.status for c in await book.status_history(order.uid)]


async def test_round_trip_keeps_every_field(book: OrderBook) -> None:
    order = msgspec.structs.replace(
        make_order(1, sell_amount=UINT256_MAX, buy_amount=UINT256_MAX - 1),
        order=Order(
            sell_token=TokenAddress("0x" + "ee" * 20),
            buy_token=TokenAddress("0x" + "ff" * 20),
            receiver=BOB,
            sell_amount=UINT256_MAX,
            buy_amount=UINT256_MAX - 1,
            valid_to=UINT32_MAX,
            app_data=b"\xab" * 32,
            fee_amount=2**200 + 3,
            kind=OrderKind.BUY,
            partially_fillable=False,
            sell_token_balance=SellTokenBalance.EXTERNAL,
            buy_token_balance=BuyTokenBalance.INTERNAL,
        ),
        signing_scheme=SigningScheme.PRESIGN,
        signature=b"",
        order_class=OrderClass.MARKET,
        creation_time=1_700_000_000.123456,
        app_data_json='{"version":"1.1.0","metadata":{}}',
    )
    await book.insert(order)
    assert await book.get(order.uid) == order
    assert await book.get(make_order(2).uid) is None
    assert await book.count() == 1


async def test_duplicate_is_refused_and_changes_nothing(book: OrderBook) -> None:
    order = make_order(1)
    await book.insert(order)
    impostor = msgspec.structs.replace(order, signature=b"\x00" * 65, creation_time=NOW)
    with pytest.raises(DuplicatedOrder) as refused:
        await book.insert(impostor)
    assert refused.value.code is ErrorCode.DUPLICATED_ORDER
    assert await book.count() == 1
    assert await book.get(order.uid) == order
    assert await statuses(book, order) == [OrderStatus.OPEN]


async def test_fifty_concurrent_inserts_of_one_order_store_it_once(book: OrderBook) -> None:
    order = make_order(1)
    results = await asyncio.gather(
        *(book.insert(order) for _ in range(50)),
        *(book.insert(make_order(n)) for n in range(2, 12)),  # others in the same groups
        return_exceptions=True,
    )
    same = results[:50]
    assert sum(r is None for r in same) == 1
    assert all(isinstance(r, DuplicatedOrder) for r in same if r is not None)
    assert results[50:] == [None] * 10
    assert await book.count() == 11
    assert await statuses(book, order) == [OrderStatus.OPEN]


async def test_partial_then_complete_fill(book: OrderBook) -> None:
    order = make_order(1, sell_amount=10**30)
    await book.insert(order)
    assert await fill(book, order, 4 * 10**29, 10**21, tx=1)
    stored = await book.get(order.uid)
    assert stored is not None
    assert stored.status is OrderStatus.PARTIALLY_FILLED
    assert (stored.executed_sell_amount, stored.executed_buy_amount) == (4 * 10**29, 10**21)
    assert await fill(book, order, 6 * 10**29, 2 * 10**21, tx=2)
    stored = await book.get(order.uid)
    assert stored is not None
    assert stored.status is OrderStatus.FILLED
    assert stored.executed_sell_amount == 10**30
    assert stored.executed_buy_amount == 3 * 10**21
    assert stored.executed_fee_amount == 14
    assert await statuses(book, order) == [
        OrderStatus.OPEN,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.FILLED,
    ]
    assert await book.open_orders(NOW) == []


async def test_fill_is_counted_once_per_log_and_reverted_on_reorg(book: OrderBook) -> None:
    order, other = make_order(1, sell_amount=100), make_order(2, sell_amount=100)
    await book.insert(order)
    await book.insert(other)
    assert await fill(book, order, 100, 5, tx=9, log_index=3)
    assert not await fill(book, order, 100, 5, tx=9, log_index=3)  # replayed log
    assert await fill(book, other, 30, 1, tx=9, log_index=4)  # same tx, another trade
    stored = await book.get(order.uid)
    assert stored is not None
    assert (stored.status, stored.executed_sell_amount) == (OrderStatus.FILLED, 100)

    touched = await book.revert_fill((9).to_bytes(32, "big"))
    assert sorted(touched) == sorted([order.uid, other.uid])
    for o in (order, other):
        reverted = await book.get(o.uid)
        assert reverted == o  # back to open with nothing executed
    assert await statuses(book, order) == [OrderStatus.OPEN, OrderStatus.FILLED, OrderStatus.OPEN]
    assert await book.revert_fill((9).to_bytes(32, "big")) == []

    assert await fill(book, order, 100, 5, tx=9, log_index=3)  # re-mined: counts again
    stored = await book.get(order.uid)
    assert stored is not None
    assert (stored.status, stored.executed_sell_amount) == (OrderStatus.FILLED, 100)


async def test_fill_of_unknown_order_is_refused(book: OrderBook) -> None:
    with pytest.raises(OrderNotFound):
        await fill(book, make_order(1), 1, 1, tx=1)
    # the refused fill was not recorded: the same log can be recorded once the order exists
    await book.insert(make_order(1))
    assert await fill(book, make_order(1), 1, 1, tx=1)


async def test_fill_cursor_starts_unset_and_keeps_the_last_block_set(book: OrderBook) -> None:
    assert await book.fill_cursor() is None
    await book.set_fill_cursor(41)
    await book.set_fill_cursor(2**40)  # beyond 32 bits: a block number
    assert await book.fill_cursor() == 2**40


async def test_fill_transactions_lists_each_transaction_of_a_block_range_once(
    book: OrderBook,
) -> None:
    await book.insert(make_order(1))
    await book.insert(make_order(2))
    for tx, log_index in [(1, 0), (1, 1), (2, 0), (5, 0)]:  # blocks 101, 101, 102, 105
        assert await fill(book, make_order(1 + log_index), 1, 1, tx, log_index)
    found = await book.fill_transactions(101, 104)
    assert sorted(found) == [tx.to_bytes(32, "big") for tx in (1, 2)]
    assert await book.fill_transactions(106, 2**40) == []


async def test_owner_cancels_open_and_partially_filled_orders(book: OrderBook) -> None:
    a, b, c = make_order(1), make_order(2), make_order(3, sell_amount=50)
    for o in (a, b, c):
        await book.insert(o)
    await fill(book, b, 1, 1, tx=1)
    await fill(book, c, 50, 1, tx=2)  # filled: stays filled, and refuses the whole request
    with pytest.raises(OrderError) as refused:
        await book.cancel([a.uid, b.uid, c.uid], ALICE)
    assert refused.value.code is ErrorCode.ORDER_FULLY_EXECUTED
    assert await statuses(book, a) == [OrderStatus.OPEN]
    cancelled = await book.cancel([a.uid, b.uid, a.uid], ALICE)
    assert cancelled == [a.uid, b.uid]
    with pytest.raises(OrderError) as refused:  # CoW: a second cancellation is refused
        await book.cancel([a.uid], ALICE)
    assert refused.value.code is ErrorCode.ALREADY_CANCELLED
    assert await statuses(book, a) == [OrderStatus.OPEN, OrderStatus.CANCELLED]
    assert await statuses(book, b) == [
        OrderStatus.OPEN,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.CANCELLED,
    ]
    stored_c = await book.get(c.uid)
    assert stored_c is not None and stored_c.status is OrderStatus.FILLED
    assert await book.open_orders(NOW) == []


async def test_cancellation_by_someone_else_cancels_nothing(book: OrderBook) -> None:
    mine, theirs = make_order(1, owner=BOB), make_order(2, owner=ALICE)
    await book.insert(mine)
    await book.insert(theirs)
    with pytest.raises(OrderError) as refused:
        await book.cancel([mine.uid, theirs.uid], BOB)
    assert refused.value.code is ErrorCode.WRONG_OWNER
    with pytest.raises(OrderNotFound):
        await book.cancel([mine.uid, make_order(3).uid], BOB)
    assert [o.uid for o in await book.open_orders(NOW)] == [mine.uid, theirs.uid]
    assert await statuses(book, mine) == [OrderStatus.OPEN]


async def test_expiry(book: OrderBook) -> None:
    soon = make_order(1, valid_to=int(NOW) + 10)
    later = make_order(2, valid_to=int(NOW) + 1000)
    partial = make_order(3, valid_to=int(NOW) + 10)
    market = make_order(4, order_class=OrderClass.MARKET)
    for o in (soon, later, partial, market):
        await book.insert(o)
    await fill(book, partial, 1, 1, tx=1)
    assert await book.count_open_limit_orders(ALICE, NOW) == 3
    assert await book.count_open_limit_orders(BOB, NOW) == 0
    # valid at its validTo second (GPv2: block.timestamp <= validTo), not after
    assert len(await book.open_orders(NOW + 10)) == 4
    assert await book.expire(NOW + 10) == []
    assert sorted(await book.expire(NOW + 11)) == sorted([soon.uid, partial.uid])
    assert await book.expire(NOW + 11) == []
    assert [o.uid for o in await book.open_orders(NOW + 11)] == [later.uid, market.uid]
    assert await book.count_open_limit_orders(ALICE, NOW + 11) == 1
    history = await book.status_history(soon.uid)
    assert [(c.status, c.time) for c in history] == [
        (OrderStatus.OPEN, soon.creation_time),
        (OrderStatus.EXPIRED, NOW + 11),
    ]
    with pytest.raises(OrderError) as refused:
        await book.cancel([soon.uid], ALICE)
    assert refused.value.code is ErrorCode.ORDER_EXPIRED


async def test_paging_newest_first(book: OrderBook) -> None:
    alices = [make_order(n) for n in range(25)]
    for n, o in enumerate(alices):
        await book.insert(o)
        if n % 8 == 0:
            await book.insert(make_order(100 + n, owner=BOB))
    pages = [await book.list_by_owner(ALICE, offset, 10) for offset in (0, 10, 20, 30)]
    assert [len(p) for p in pages] == [10, 10, 5, 0]
    assert [o for p in pages for o in p] == alices[::-1]
    assert len(await book.list_by_owner(BOB, 0, 100)) == 4
    assert await book.count() == 29


async def test_change_feed_delivers_committed_changes(book: OrderBook) -> None:
    with book.subscribe(ALICE) as alices, book.subscribe() as everyone:
        a, b = make_order(1), make_order(2, owner=BOB)
        await book.insert(a)
        await book.insert(b)
        await book.cancel([a.uid], ALICE)
        seen = [await asyncio.wait_for(anext(alices), 5) for _ in range(2)]
        assert [(c.uid, c.owner, c.status) for c in seen] == [
            (a.uid, ALICE, OrderStatus.OPEN),
            (a.uid, ALICE, OrderStatus.CANCELLED),
        ]
        assert seen[0].time == a.creation_time
        all_seen = [await asyncio.wait_for(anext(everyone), 5) for _ in range(3)]
        assert {c.uid for c in all_seen} == {a.uid, b.uid}
        with pytest.raises(DuplicatedOrder):
            await book.insert(a)
        await book.cancel([b.uid], BOB)  # a later change, to prove nothing came in between
        last = await asyncio.wait_for(anext(everyone), 5)
        assert (last.uid, last.status) == (b.uid, OrderStatus.CANCELLED)
    with pytest.raises(StopAsyncIteration):
        await anext(alices)


async def _drain(sub: Subscription) -> list[StatusChange]:
    return [c async for c in sub]


async def test_postgres_feed_keeps_delivering_after_a_lost_listen_connection() -> None:
    async with fresh_postgres_book() as book:
        admin = await asyncpg.connect(PG_URL)
        try:
            with book.subscribe() as sub:
                killed = await admin.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE query LIKE 'LISTEN %' AND query LIKE $1",
                    f"%{book._channel}%",
                )
                assert killed == 1
                # written while nobody listens: the outbox poller still delivers them, in order
                orders = [make_order(n) for n in range(5)]
                for order in orders:
                    await book.insert(order)
                got = [await asyncio.wait_for(anext(sub), 5) for _ in orders]
                assert [c.uid for c in got] == [o.uid for o in orders]
                ids = [c.outbox_id for c in got]
                assert ids == sorted(ids) and 0 not in ids
                assert not sub.lagged
        finally:
            await admin.close()


_WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from intents.book import open_book
    from tests.intents.test_store import make_order

    async def main() -> None:
        book = await open_book("sqlite:///" + sys.argv[1])
        async def worker(k: int) -> None:
            for n in range(k, 10**9, 16):
                order = make_order(n)
                await book.insert(order)
                print(order.uid.hex(), flush=True)
        await asyncio.gather(*(worker(k) for k in range(16)))

    asyncio.run(main())
    """
)


async def test_every_acknowledged_insert_survives_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "book.db"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _WRITER,
        str(path),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    acked: list[bytes] = []
    deadline = time.monotonic() + 60
    while len(acked) < 1500 and time.monotonic() < deadline:
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        if not line:
            break
        acked.append(line)
    proc.send_signal(signal.SIGKILL)  # mid-stream: the writer is still inserting
    rest, err = await proc.communicate()
    assert proc.returncode == -signal.SIGKILL, err
    acked += rest.splitlines(keepends=True)
    uids = [OrderUid(bytes.fromhex(line.decode())) for line in acked if line.endswith(b"\n")]
    assert len(uids) >= 1500, err

    book = await open_book(f"sqlite:///{path}")
    try:
        missing = [uid.hex() for uid in uids if await book.get(uid) is None]
        assert missing == []
        assert await book.count() >= len(uids)
    finally:
        await book.close()


async def test_unknown_url_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported order book URL"):
        await open_book("mysql://localhost/db")
