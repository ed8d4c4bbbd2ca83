"""The in-process status-change fan-out (``intents.feed``) behind the SSE stream."""

from __future__ import annotations

import asyncio

import pytest

from intents.feed import ChangeFeed, StatusChange, Subscription
from intents.order import OrderStatus
from intents.types import Address, OrderUid

ALICE = Address("0x" + "a1" * 20)
BOB = Address("0x" + "b0" * 20)


def change(n: int, owner: Address = ALICE) -> StatusChange:
    return StatusChange(OrderUid(n.to_bytes(56, "big")), owner, OrderStatus.OPEN, float(n))


async def drain(sub: Subscription) -> list[StatusChange]:
    return [c async for c in sub]


async def test_owner_filter_and_order() -> None:
    feed = ChangeFeed()
    with feed.subscribe(ALICE) as alices, feed.subscribe() as everyone:
        feed.publish([change(1), change(2, BOB), change(3)])
        assert [await anext(alices) for _ in range(2)] == [change(1), change(3)]
        assert [await anext(everyone) for _ in range(3)] == [change(1), change(2, BOB), change(3)]
    feed.publish([change(4)])  # after unsubscribing: not delivered, not kept
    assert await drain(alices) == []


async def test_a_lagging_subscriber_is_dropped_after_what_it_had_queued() -> None:
    feed = ChangeFeed(maxsize=3)
    with feed.subscribe() as slow, feed.subscribe(BOB) as other:
        feed.publish([change(n) for n in range(5)])
        assert slow.lagged
        assert await drain(slow) == [change(0), change(1), change(2)]
        assert not other.lagged  # filtered out: nothing queued, still subscribed
        feed.publish([change(9, BOB)])
        assert await anext(other) == change(9, BOB)


async def test_close_ends_a_waiting_consumer() -> None:
    feed = ChangeFeed()
    sub = feed.subscribe()
    waiting = asyncio.create_task(drain(sub))
    await asyncio.sleep(0)
    feed.publish([change(1)])
    feed.close()
    assert await asyncio.wait_for(waiting, 5) == [change(1)]
    assert not sub.lagged
    with pytest.raises(StopAsyncIteration):
        await anext(sub)
