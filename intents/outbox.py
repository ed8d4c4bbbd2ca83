"""The status outbox's reader: every committed status change, in commit order, fed to this
process's ``ChangeFeed``.

Each book writes its status changes to an outbox table in the transaction that makes
them, with increasing ids. One ``OutboxPoller`` per process reads ``id > last`` when woken
(NOTIFY on PostgreSQL, the writer's commit on SQLite) or every ``interval`` seconds, so a
lost wake-up delays changes but never loses them, and publishes them with their ids (what
an SSE client resumes from). It also prunes rows older than ``retention`` about once a
minute, always keeping the newest row so the oldest kept id says what was pruned.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from intents.feed import ChangeFeed, StatusChange
from intents.order import OrderStatus
from intents.types import Address, OrderUid

log = logging.getLogger(__name__)

RETENTION = 3600.0  # seconds a change stays readable for a resuming client
PRUNE_EVERY = 60.0
BATCH = 1000


class Outbox(Protocol):
    async def outbox_after(self, after: int, limit: int = BATCH) -> list[tuple[int, StatusChange]]:
        """Committed changes with an outbox id above ``after``, in commit order, each
        carrying its id."""
        ...

    async def outbox_bounds(self) -> tuple[int, int]:
        """The oldest and newest outbox ids kept, (0, 0) if none was ever written."""
        ...

    async def prune_outbox(self, before: float) -> int:
        """Delete rows written before ``before`` (unix seconds), except the newest; how many."""
        ...


def from_rows(rows: Iterable[Sequence[Any]]) -> list[tuple[int, StatusChange]]:
    """Outbox rows ``(id, uid, owner, status, time)`` as changes carrying their ids."""
    return [
        (int(i), StatusChange(OrderUid(bytes(u)), Address(o), OrderStatus(s), t, int(i)))
        for i, u, o, s, t in rows
    ]


class OutboxPoller:
    """Publishes the outbox's new rows into ``feed``; ``wake()`` to read now."""

    def __init__(
        self,
        outbox: Outbox,
        feed: ChangeFeed,
        *,
        interval: float,
        retention: float = RETENTION,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._outbox = outbox
        self._feed = feed
        self._interval = interval
        self._retention = retention
        self._clock = clock
        self._wake = asyncio.Event()
        self._last = 0
        self._committed = 0
        self._pruned_at = 0.0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start from the newest committed change: subscribers see changes from now on."""
        _, self._last = await self._outbox.outbox_bounds()
        self._pruned_at = self._clock()
        self._task = asyncio.create_task(self._run(), name="outbox-poller")

    def wake(self) -> None:
        self._wake.set()

    def committed(self, outbox_id: int) -> None:
        """This process committed changes up to ``outbox_id`` (any thread)."""
        self._committed = max(self._committed, outbox_id)

    @property
    def floor(self) -> int:
        """The newest outbox id this process knows to be committed: a subscription opened
        now must not be given the changes up to it (they happened before it)."""
        return max(self._last, self._committed)

    async def poll(self) -> None:
        """Publish every row above the last one published."""
        while True:
            rows = await self._outbox.outbox_after(self._last, BATCH)
            if not rows:
                return
            self._last = rows[-1][0]
            self._feed.publish(c for _, c in rows)
            if len(rows) < BATCH:
                return

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self.poll()
                now = self._clock()
                if now - self._pruned_at >= PRUNE_EVERY:
                    self._pruned_at = now
                    await self._outbox.prune_outbox(now - self._retention)
            except Exception as exc:  # the database is away: retry on the next tick
                log.warning("reading the status outbox failed (%s); retrying", exc)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
