"""In-process fan-out of order status changes to subscribers (the SSE stream's source).

Publishers never wait: each subscriber has a bounded queue, and one that falls that far
behind is dropped — its iteration ends after the queued changes, and ``lagged`` says why,
so the client reconnects and re-reads the state instead of silently missing changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import TracebackType

from intents.order import OrderStatus
from intents.types import Address, OrderUid

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StatusChange:
    """An order entered ``status`` at ``time`` (unix seconds); also a status-history row.
    ``outbox_id`` is its id in the status outbox once read from there (0 before): what an
    event stream client resumes from. It is not part of the change's identity."""

    uid: OrderUid
    owner: Address
    status: OrderStatus
    time: float
    outbox_id: int = field(default=0, compare=False)


class Subscription:
    """Status changes (all, or one owner's) as an async iterator; use as a ``with`` block
    so it is unregistered when the consumer goes away. Changes with an outbox id at or
    below ``floor`` were committed before the subscription and are not delivered."""

    def __init__(self, feed: ChangeFeed, owner: Address | None, maxsize: int, floor: int) -> None:
        self.owner = owner
        self.floor = floor
        self.lagged = False
        self._feed = feed
        self._queue: asyncio.Queue[StatusChange | None] = asyncio.Queue(maxsize)
        self._ended = False

    def _offer(self, change: StatusChange) -> bool:
        """Queue ``change``; False if the subscriber is too far behind."""
        try:
            self._queue.put_nowait(change)
        except asyncio.QueueFull:
            self.lagged = True
            self._end()
            return False
        return True

    def _end(self) -> None:
        self._ended = True
        # A full queue is fine: the consumer sees ``_ended`` once it has drained it.
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(None)

    def close(self) -> None:
        self._feed._discard(self)
        self._end()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> StatusChange:
        if self._ended and self._queue.empty():
            raise StopAsyncIteration
        change = await self._queue.get()
        if change is None:
            raise StopAsyncIteration
        return change


class ChangeFeed:
    """Delivers published changes to every matching subscriber. Event-loop thread only."""

    def __init__(self, maxsize: int = 10_000) -> None:
        self._maxsize = maxsize
        self._subscribers: set[Subscription] = set()

    def subscribe(self, owner: Address | None = None, *, floor: int = 0) -> Subscription:
        sub = Subscription(self, owner, self._maxsize, floor)
        self._subscribers.add(sub)
        return sub

    def publish(self, changes: Iterable[StatusChange]) -> None:
        for change in changes:
            for sub in list(self._subscribers):
                if sub.owner is not None and sub.owner != change.owner:
                    continue
                if change.outbox_id and change.outbox_id <= sub.floor:
                    continue
                if not sub._offer(change):
                    log.warning("dropped a lagging status subscriber (owner=%s)", sub.owner)
                    self._subscribers.discard(sub)

    def close(self) -> None:
        """End every subscription (the book is closing)."""
        for sub in list(self._subscribers):
            sub.close()

    def _discard(self, sub: Subscription) -> None:
        self._subscribers.discard(sub)
