"""Resuming the event stream with ``Last-Event-ID`` on both backends (a real aiohttp server
over a real book): every change after the id arrives, in order, none twice, including
those written while the client was away and while it reconnects; an id the outbox no
longer keeps (or never had) gets ``lagged``."""

from __future__ import annotations

import asyncio

from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer

from intents.book import OrderBook
from intents.http.events import EventStreams
from intents.types import Address
from tests.intents.test_store import ALICE, BOB, book, make_order

__all__ = ["book"]


def _server(book: OrderBook) -> TestServer:
    streams = EventStreams(book.subscribe, book, heartbeat=5.0)

    async def handler(request: web.Request) -> web.StreamResponse:
        raw = request.query.get("owner")
        return await streams.serve(request, Address(raw) if raw else None)

    app = web.Application()
    app.router.add_get("/events", handler)
    return TestServer(app)


async def _frame(stream: ClientResponse) -> dict[str, str]:
    """The next event's fields (comments skipped)."""
    fields: dict[str, str] = {}
    while True:
        line = (await asyncio.wait_for(stream.content.readline(), 10)).decode().rstrip("\n")
        if not line:
            if fields:
                return fields
            continue
        if line.startswith(":"):
            continue
        key, _, value = line.partition(": ")
        fields[key] = value


async def _subscribed(stream: ClientResponse) -> None:
    assert await stream.content.readline() == b": subscribed\n"


async def test_resume_loses_nothing_and_repeats_nothing(book: OrderBook) -> None:
    orders = [make_order(n) for n in range(30)]
    async with TestClient(_server(book)) as client:
        async with client.get("/events") as stream:
            await _subscribed(stream)
            for order in orders[:5]:
                await book.insert(order)
            seen = [await _frame(stream) for _ in range(3)]  # then the client goes away
        for order in orders[5:15]:  # written while it is away
            await book.insert(order)
        headers = {"Last-Event-ID": seen[-1]["id"]}
        writer = asyncio.create_task(_insert_all(book, orders[15:]))  # and while it returns
        async with client.get("/events", headers=headers) as stream:
            await _subscribed(stream)
            rest = [await _frame(stream) for _ in orders[3:]]
        await writer
    frames = seen + rest
    assert [f["event"] for f in frames] == ["status"] * len(orders)
    assert [f["data"].split('"uid":"0x')[1][:64] for f in frames] == [
        o.uid.hex()[:64] for o in orders
    ]
    ids = [int(f["id"]) for f in frames]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


async def _insert_all(book: OrderBook, orders: list) -> None:  # type: ignore[type-arg]
    for order in orders:
        await book.insert(order)
        await asyncio.sleep(0)


async def test_resume_keeps_the_owner_filter(book: OrderBook) -> None:
    _, start = await book.outbox_bounds()
    await book.insert(make_order(1, owner=BOB))
    await book.insert(make_order(2))
    async with TestClient(_server(book)) as client:
        headers = {"Last-Event-ID": str(start)}
        async with client.get(f"/events?owner={ALICE}", headers=headers) as stream:
            await _subscribed(stream)
            frame = await _frame(stream)
    assert ALICE.lower() in frame["data"].lower() and BOB.lower() not in frame["data"].lower()


async def test_resume_from_a_pruned_or_foreign_id_is_lagged(book: OrderBook) -> None:
    for n in range(3):
        await book.insert(make_order(n))
    low, high = await book.outbox_bounds()
    await book.prune_outbox(float("inf"))  # only the newest is kept
    async with TestClient(_server(book)) as client:
        for last in (str(low), str(high + 5), "x1"):
            async with client.get("/events", headers={"Last-Event-ID": last}) as stream:
                await _subscribed(stream)
                assert await _frame(stream) == {"event": "lagged", "data": "{}"}
                assert await stream.content.read() == b""
        async with client.get("/events", headers={"Last-Event-ID": str(high - 1)}) as stream:
            await _subscribed(stream)
            await book.insert(make_order(7))
            first, second = await _frame(stream), await _frame(stream)
            assert int(first["id"]) == high  # the kept row, from the backlog
            assert int(second["id"]) > high  # then the live one
