"""Leader election for the auctioneer: only one node runs auctions at a time.

With the PostgreSQL order book several nodes share one database; the leader is the one
holding a session-level advisory lock (``pg_try_advisory_lock``) on a dedicated
connection. Followers retry every ``retry_seconds``. The lock lives exactly as long as the
connection: when it dies (process killed, ``pg_terminate_backend``, network lost) the
server releases the lock and another node takes it; the old leader notices on its next
probe (or at once, through asyncpg's termination listener) and stops leading.

The auctioneer consults a ``Leadership`` (the hook of ``solver.auctioneer``): ``await
is_leader()`` before each round; ``wait_leader()`` blocks until this node leads, and
``still_leading(term)`` tells whether it has led without interruption since a round began,
so a node that lost the lock mid-round need not settle. With the embedded SQLite book
there is one node, and ``AlwaysLeader`` always leads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from types import TracebackType
from typing import Any, Protocol, Self

import asyncpg

log = logging.getLogger(__name__)

AUCTIONEER_LOCK = 0x74726962_61756374  # advisory lock key ("tribauct")


class Leadership(Protocol):
    """Whether this node may run auctions now."""

    async def is_leader(self) -> bool:
        """Whether this node may run auctions now."""
        ...

    @property
    def term(self) -> int:
        """Counts the times this node became leader; a round started in one term must not
        settle in another."""
        ...

    async def wait_leader(self) -> int:
        """Return (the current term) once this node leads."""
        ...

    def still_leading(self, term: int) -> bool:
        """This node leads, without interruption since ``term`` began."""
        ...


class AlwaysLeader:
    """The single node of an embedded (SQLite) book: leads from start to end."""

    term = 1

    async def is_leader(self) -> bool:
        return True

    async def wait_leader(self) -> int:
        return self.term

    def still_leading(self, term: int) -> bool:
        return term == self.term

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


class PostgresLeader:
    """Campaigns for ``key`` on its own connection to ``url`` while used as an async
    context manager; leads while it holds the lock and its connection answers."""

    def __init__(
        self,
        url: str,
        *,
        key: int = AUCTIONEER_LOCK,
        retry_seconds: float = 1.0,
        probe_timeout_seconds: float = 2.0,
        name: str = "node",
    ) -> None:
        self._url = url
        self._key = key
        self._retry = retry_seconds
        self._probe_timeout = probe_timeout_seconds
        self._name = name
        self._term = 0
        self._leading = asyncio.Event()
        self._connection_lost = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def leading(self) -> bool:
        """Holds the lock on a live connection (as far as the last probe knows)."""
        return self._leading.is_set()

    async def is_leader(self) -> bool:
        return self.leading

    @property
    def term(self) -> int:
        return self._term

    async def wait_leader(self) -> int:
        await self._leading.wait()
        return self._term

    def still_leading(self, term: int) -> bool:
        return self.leading and term == self._term

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._campaign(), name=f"leader-{self._name}")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _campaign(self) -> None:
        while True:
            connection: Any = None
            try:
                connection = await asyncpg.connect(self._url, timeout=self._probe_timeout)
                self._connection_lost.clear()
                connection.add_termination_listener(lambda _c: self._connection_lost.set())
                await self._acquire(connection)
                self._term += 1
                self._leading.set()
                log.info("%s leads the auctioneer (term %d)", self._name, self._term)
                await self._hold(connection)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                if self._leading.is_set():
                    log.warning("%s lost the auctioneer lock: %s", self._name, exc)
                else:
                    log.info("%s cannot campaign for the auctioneer lock: %s", self._name, exc)
            finally:
                self._leading.clear()
                if connection is not None:
                    # closing the session releases the lock (also when it was never taken)
                    connection.terminate()
            await asyncio.sleep(self._retry)

    async def _acquire(self, connection: Any) -> None:
        """Return once the lock is ours, trying every ``retry_seconds``."""
        while True:
            acquired = await connection.fetchval(
                "SELECT pg_try_advisory_lock($1)", self._key, timeout=self._probe_timeout
            )
            if acquired:
                return
            await asyncio.sleep(self._retry)

    async def _hold(self, connection: Any) -> None:
        """Probe the connection every ``retry_seconds`` (the lock lives as long as the
        session); return only by raising when it stops answering."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._connection_lost.wait(), self._retry)
            if self._connection_lost.is_set() or connection.is_closed():
                raise asyncpg.InterfaceError("the lock's connection was closed")
            await connection.fetchval("SELECT 1", timeout=self._probe_timeout)


def leadership_for(
    database_url: str, *, name: str = "node"
) -> contextlib.AbstractAsyncContextManager[Leadership]:
    """The election the order book at ``database_url`` calls for."""
    if database_url.startswith(("postgresql://", "postgres://")):
        return PostgresLeader(database_url, name=name)
    return AlwaysLeader()
