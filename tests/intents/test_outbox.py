"""The status outbox on both backends: every status change is written to it in the
transaction that makes it, with ids in commit order; the per-process ``OutboxPoller``
publishes it into the book's feed in that order (the ids an SSE client resumes from), and
pruning keeps the newest row."""

from __future__ import annotations

import asyncio

import pytest

from intents.book import OrderBook
from intents.feed import ChangeFeed, StatusChange
from intents.order import OrderStatus
from intents.outbox import OutboxPoller
from intents.types import Address
from tests.intents.test_store import ALICE, BOB, book, fill, make_order

__all__ = ["book"]


async def test_every_status_change_is_in_the_outbox_in_commit_order(book: OrderBook) -> None:
    _, start = await book.outbox_bounds()
    a, b = make_order(1), make_order(2, owner=BOB)
    await book.insert(a)
    await book.insert(b)
    await book.cancel([a.uid], ALICE)
    assert await fill(book, b, 10**23, 3 * 10**20, tx=1)
    rows = await book.outbox_after(start)
    assert [(c.uid, c.owner, c.status) for _, c in rows] == [
        (a.uid, ALICE, OrderStatus.OPEN),
        (b.uid, BOB, OrderStatus.OPEN),
        (a.uid, ALICE, OrderStatus.CANCELLED),
        (b.uid, BOB, OrderStatus.PARTIALLY_FILLED),
    ]
    ids = [i for i, _ in rows]
    assert ids == sorted(ids) and len(set(ids)) == 4
    assert [c.outbox_id for _, c in rows] == ids
    assert [c for _, c in await book.outbox_after(ids[1])] == [c for _, c in rows[2:]]
    assert await book.outbox_bounds() == (ids[0], ids[-1])


async def test_the_books_feed_comes_from_the_outbox_with_ids(book: OrderBook) -> None:
    orders = [make_order(n) for n in range(20)]
    with book.subscribe() as sub:
        await asyncio.gather(*(book.insert(o) for o in orders))
        got = [await asyncio.wait_for(anext(sub), 5) for _ in orders]
    assert sorted(c.uid for c in got) == sorted(o.uid for o in orders)
    ids = [c.outbox_id for c in got]
    assert ids == sorted(ids) and len(set(ids)) == len(orders) and min(ids) > 0
    rows = await book.outbox_after(ids[0] - 1)
    assert [c for _, c in rows] == got


async def test_pruning_keeps_the_newest_row(book: OrderBook) -> None:
    for n in range(3):
        await book.insert(make_order(n))
    _, high = await book.outbox_bounds()
    assert await book.prune_outbox(float("inf")) >= 2
    assert await book.outbox_bounds() == (high, high)
    await book.insert(make_order(9))
    assert await book.prune_outbox(0.0) == 0
    assert (await book.outbox_bounds())[0] == high


class _ListOutbox:
    """An outbox in a list, that fails while ``down``."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, StatusChange]] = []
        self.down = False
        self.pruned: list[float] = []

    def add(self, n: int) -> StatusChange:
        change = StatusChange(make_order(n).uid, Address(ALICE), OrderStatus.OPEN, float(n), n)
        self.rows.append((n, change))
        return change

    async def outbox_after(self, after: int, limit: int = 1000) -> list[tuple[int, StatusChange]]:
        if self.down:
            raise OSError("database away")
        return [r for r in self.rows if r[0] > after][:limit]

    async def outbox_bounds(self) -> tuple[int, int]:
        return (self.rows[0][0], self.rows[-1][0]) if self.rows else (0, 0)

    async def prune_outbox(self, before: float) -> int:
        self.pruned.append(before)
        return 0


async def test_the_poller_starts_at_the_newest_row_and_delivers_in_order() -> None:
    outbox, feed = _ListOutbox(), ChangeFeed()
    outbox.add(1)  # before the start: not delivered
    poller = OutboxPoller(outbox, feed, interval=60.0)
    await poller.start()
    try:
        with feed.subscribe() as sub:
            changes = [outbox.add(n) for n in range(2, 2500)]  # more than one batch
            poller.wake()
            got = [await asyncio.wait_for(anext(sub), 5) for _ in changes]
            assert got == changes
            assert [c.outbox_id for c in got] == list(range(2, 2500))
    finally:
        await poller.close()


async def test_the_poller_needs_no_wake_up_and_survives_a_failing_read() -> None:
    outbox, feed = _ListOutbox(), ChangeFeed()
    poller = OutboxPoller(outbox, feed, interval=0.05)
    await poller.start()
    try:
        with feed.subscribe() as sub:
            outbox.down = True
            await asyncio.sleep(0.2)  # several failing polls
            first = outbox.add(1)
            outbox.down = False
            assert await asyncio.wait_for(anext(sub), 5) == first  # never woken: the timer
    finally:
        await poller.close()


@pytest.mark.parametrize("elapsed", [30.0, 61.0])
async def test_the_poller_prunes_about_once_a_minute(elapsed: float) -> None:
    now = [1000.0]
    outbox, feed = _ListOutbox(), ChangeFeed()
    poller = OutboxPoller(outbox, feed, interval=60.0, retention=3600.0, clock=lambda: now[0])
    await poller.start()
    try:
        now[0] += elapsed
        poller.wake()
        await asyncio.sleep(0.05)
        assert outbox.pruned == ([now[0] - 3600.0] if elapsed >= 60 else [])
    finally:
        await poller.close()


async def test_a_subscription_gets_no_change_committed_before_it(book: OrderBook) -> None:
    # The feed publishes up to a poll after the commit: a subscription opened in between
    # must still not see the earlier change (the floor), only the later ones.
    before, after = make_order(1), make_order(2)
    await book.insert(before)
    with book.subscribe() as sub:
        await book.insert(after)
        first = await asyncio.wait_for(anext(sub), 5)
        assert first.uid == after.uid
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(anext(sub), 0.3)  # the earlier insert never arrives


async def test_the_feed_skips_changes_at_or_below_a_subscriptions_floor() -> None:
    feed = ChangeFeed()
    changes = [
        StatusChange(make_order(n).uid, Address(ALICE), OrderStatus.OPEN, 0.0, n) for n in (4, 5)
    ]
    unnumbered = StatusChange(make_order(6).uid, Address(ALICE), OrderStatus.OPEN, 0.0)
    with feed.subscribe(floor=4) as sub:
        feed.publish([*changes, unnumbered])
        sub.close()
        assert [c async for c in sub] == [changes[1], unnumbered]
