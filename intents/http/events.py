"""``GET /api/v1/events``: order status changes as server-sent events.

Each change is one ``status`` event whose data is the change as JSON; a comment line every
``heartbeat`` seconds keeps idle connections (and proxies) alive. A subscriber that falls
too far behind gets a ``lagged`` event and is disconnected, so it re-reads state instead of
silently missing changes. Application shutdown ends every stream cleanly.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import msgspec
from aiohttp import web

from intents.feed import StatusChange, Subscription
from intents.order import OrderStatus
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


def encode_change(change: StatusChange) -> bytes:
    """One SSE frame for ``change``."""
    data = _encode(StatusEvent(to_hex(change.uid), change.owner, change.status, change.time))
    return b"event: status\ndata: " + data + b"\n\n"


class EventStreams:
    """The open event streams of one application, so shutdown can end them all."""

    def __init__(
        self, subscribe: Callable[[Address | None], Subscription], heartbeat: float
    ) -> None:
        self.subscribe = subscribe
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
        with self.subscribe(owner) as sub:
            self._open.add(sub)
            try:
                await response.prepare(request)
                # An immediate comment lets the client know the subscription is live.
                await response.write(b": subscribed\n\n")
                await self._pump(sub, response)
            except ConnectionResetError:
                log.debug("event stream client went away (owner=%s)", owner)
            finally:
                self._open.discard(sub)
        return response

    async def _pump(self, sub: Subscription, response: web.StreamResponse) -> None:
        changes = aiter(sub)
        while True:
            try:
                change = await asyncio.wait_for(anext(changes), self.heartbeat)
            except TimeoutError:
                await response.write(HEARTBEAT)
                continue
            except StopAsyncIteration:
                break
            await response.write(encode_change(change))
        if sub.lagged:
            await response.write(b"event: lagged\ndata: {}\n\n")

    def close_all(self) -> None:
        """End every open stream (their handlers then return)."""
        for sub in list(self._open):
            sub.close()
