"""``GET /api/v1/events``: order status changes as server-sent events.

Each change is one ``status`` event whose data is the change as JSON and whose ``id`` is
its status-outbox id; a comment line every ``heartbeat`` seconds keeps idle connections
(and proxies) alive. A client reconnecting with ``Last-Event-ID`` (as ``EventSource`` does)
gets every change after that id, none twice: the stream subscribes first, then sends the
outbox's rows after the id, then the live changes above the last one sent. A new stream
gets the changes committed after it says ``subscribed`` (the feed is fed from the outbox
up to a poll late, so the outbox's newest id at that moment is its floor). A subscriber
that falls too far behind, or resumes from an id the outbox no longer keeps, gets a
``lagged`` event and is disconnected, so it re-reads state instead of silently missing
changes. Application shutdown ends every stream cleanly.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import msgspec
from aiohttp import web

from intents.feed import StatusChange, Subscription
from intents.order import OrderStatus
from intents.outbox import BATCH, Outbox
from intents.types import Address
from intents.wire import to_hex

log = logging.getLogger(__name__)


class StatusEvent(msgspec.Struct, frozen=True, rename="camel"):
    """The data of one ``status`` event."""

    uid: str
    owner: str
    status: OrderStatus
    time: float


_encode = msgspec.json.Encoder().encode
HEARTBEAT = b": heartbeat\n\n"
LAGGED = b"event: lagged\ndata: {}\n\n"
_MAX_ID_DIGITS = 19  # a BIGINT


def encode_change(change: StatusChange) -> bytes:
    """One SSE frame for ``change`` (with its outbox id, once it has one)."""
    data = _encode(StatusEvent(to_hex(change.uid), change.owner, change.status, change.time))
    head = f"id: {change.outbox_id}\n".encode() if change.outbox_id else b""
    return head + b"event: status\ndata: " + data + b"\n\n"


def last_event_id(request: web.Request) -> int | None:
    """The ``Last-Event-ID`` to resume after: None without one, -1 if it is not an id."""
    raw = request.headers.get("Last-Event-ID")
    if raw is None or not raw.strip():
        return None
    raw = raw.strip()
    return int(raw) if raw.isdigit() and len(raw) <= _MAX_ID_DIGITS else -1


class EventStreams:
    """The open event streams of one application, so shutdown can end them all."""

    def __init__(
        self,
        subscribe: Callable[[Address | None], Subscription],
        outbox: Outbox,
        heartbeat: float,
    ) -> None:
        self.subscribe = subscribe
        self.outbox = outbox
        self.heartbeat = heartbeat
        self._open: set[Subscription] = set()

    async def serve(self, request: web.Request, owner: Address | None) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        resume = last_event_id(request)
        with self.subscribe(owner) as sub:
            self._open.add(sub)
            try:
                last: int | None = None
                if resume is None:  # only what commits after this read, on any replica
                    _, last = await self.outbox.outbox_bounds()
                await response.prepare(request)
                # An immediate comment lets the client know the subscription is live:
                # whatever it causes from now on is sent.
                await response.write(b": subscribed\n\n")
                if resume is not None:
                    last = await self._backlog(response, owner, resume)
                if last is None:
                    await response.write(LAGGED)
                else:
                    await self._pump(sub, response, last)
            except ConnectionResetError:
                log.debug("event stream client went away (owner=%s)", owner)
            finally:
                self._open.discard(sub)
        return response

    async def _backlog(
        self, response: web.StreamResponse, owner: Address | None, after: int
    ) -> int | None:
        """Send the kept changes after outbox id ``after``; the last id sent past (None if
        changes after ``after`` may be gone: pruned, or the id is not this book's)."""
        low, high = await self.outbox.outbox_bounds()
        if after < 0 or after > high or low > after + 1:
            return None
        while True:
            rows = await self.outbox.outbox_after(after, BATCH)
            for i, change in rows:
                if owner is None or change.owner == owner:
                    await response.write(encode_change(change))
                after = i
            if len(rows) < BATCH:
                return after

    async def _pump(self, sub: Subscription, response: web.StreamResponse, last: int) -> None:
        """Send live changes above outbox id ``last`` (those at or below it were sent from
        the backlog)."""
        changes = aiter(sub)
        while True:
            try:
                change = await asyncio.wait_for(anext(changes), self.heartbeat)
            except TimeoutError:
                await response.write(HEARTBEAT)
                continue
            except StopAsyncIteration:
                break
            if change.outbox_id and change.outbox_id <= last:
                continue
            await response.write(encode_change(change))
        if sub.lagged:
            await response.write(LAGGED)

    def close_all(self) -> None:
        """End every open stream (their handlers then return)."""
        for sub in list(self._open):
            sub.close()
