"""The event stream when its subscriber falls behind: the changes it got, then ``lagged``,
then the end of the stream (the client reconnects and re-reads state)."""

from __future__ import annotations

import time

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from intents.feed import ChangeFeed, StatusChange
from intents.http.events import EventStreams
from intents.order import OrderStatus
from intents.types import Address, OrderUid

OWNER = Address("0x" + "0a" * 20)


class _NoOutbox:
    """Nothing written yet (the test publishes into the feed directly)."""

    async def outbox_after(self, after: int, limit: int = 1000) -> list[tuple[int, StatusChange]]:
        return []

    async def outbox_bounds(self) -> tuple[int, int]:
        return 0, 0

    async def prune_outbox(self, before: float) -> int:
        return 0


async def test_a_lagging_subscriber_is_told_and_disconnected() -> None:
    feed = ChangeFeed(maxsize=1)
    streams = EventStreams(feed.subscribe, _NoOutbox(), heartbeat=5.0)

    async def handler(request: web.Request) -> web.StreamResponse:
        return await streams.serve(request, None)

    app = web.Application()
    app.router.add_get("/events", handler)
    async with TestClient(TestServer(app)) as client, client.get("/events") as stream:
        assert await stream.content.readline() == b": subscribed\n"
        assert await stream.content.readline() == b"\n"
        changes = [
            StatusChange(OrderUid(bytes([i]) * 56), OWNER, OrderStatus.OPEN, time.time())
            for i in range(3)
        ]
        feed.publish(changes)  # all at once: the queue of one overflows
        rest = (await stream.content.read()).decode()
    frames = [frame for frame in rest.split("\n\n") if frame]
    assert len(frames) == 2
    assert frames[0].startswith("event: status\ndata: ")
    assert ("0x" + changes[0].uid.hex()) in frames[0]
    assert frames[1] == "event: lagged\ndata: {}"
