"""Auctioneer leader election on the real PostgreSQL: one leader, fast takeover."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest

from solver.leader import AlwaysLeader, PostgresLeader, leadership_for

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


async def _postgres_reachable() -> bool:
    try:
        connection = await asyncpg.connect(PG_URL, timeout=2)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await connection.close()
    return True


@pytest.fixture
async def lock_key() -> AsyncIterator[int]:
    """A fresh lock key per test, so tests (and running nodes) never contend."""
    if not await _postgres_reachable():
        pytest.skip(f"PostgreSQL is not reachable at {PG_URL}")
    yield secrets.randbits(62)


def _elector(key: int, name: str) -> PostgresLeader:
    return PostgresLeader(PG_URL, key=key, retry_seconds=0.2, name=name)


async def _until(condition: object, seconds: float) -> float:
    """Seconds until ``condition()`` holds; fails after ``seconds``."""
    assert callable(condition)
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, "condition not reached in time"
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def _backend_pid_holding(key: int) -> int:
    connection = await asyncpg.connect(PG_URL)
    try:
        pid = await connection.fetchval(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND objid = ($1::bigint & 4294967295)::oid"
            " AND classid = ($1::bigint >> 32)::oid",
            key,
        )
    finally:
        await connection.close()
    assert isinstance(pid, int)
    return pid


async def test_exactly_one_of_two_electors_leads(lock_key: int) -> None:
    async with _elector(lock_key, "a") as a, _elector(lock_key, "b") as b:
        await asyncio.wait_for(
            asyncio.wait(
                [
                    asyncio.ensure_future(a.wait_leader()),
                    asyncio.ensure_future(b.wait_leader()),
                ],
                return_when=asyncio.FIRST_COMPLETED,
            ),
            5,
        )
        for _ in range(10):  # several follower retry periods
            await asyncio.sleep(0.1)
            assert a.leading != b.leading


async def test_killing_the_leaders_connection_hands_over(lock_key: int) -> None:
    async with _elector(lock_key, "a") as a:
        term = await asyncio.wait_for(a.wait_leader(), 5)
        async with _elector(lock_key, "b") as b:
            await asyncio.sleep(0.5)
            assert not b.leading
            admin = await asyncpg.connect(PG_URL)
            try:
                pid = await _backend_pid_holding(lock_key)
                assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
            finally:
                await admin.close()
            elapsed = await _until(lambda: b.leading, 5)
            assert elapsed < 3
            assert await b.is_leader() and not await a.is_leader()
            assert not a.still_leading(term)
            # the old leader reconnects as a follower and stays one
            await asyncio.sleep(0.6)
            assert not a.leading and b.leading


async def test_leaving_releases_the_lock_to_the_follower(lock_key: int) -> None:
    a, b = _elector(lock_key, "a"), _elector(lock_key, "b")
    await a.__aenter__()
    try:
        await asyncio.wait_for(a.wait_leader(), 5)
        async with b:
            await asyncio.sleep(0.3)
            assert not b.leading
            await a.__aexit__(None, None, None)
            assert not a.leading
            assert await asyncio.wait_for(b.wait_leader(), 3) == 1
    finally:
        await a.__aexit__(None, None, None)


async def test_an_unreachable_database_means_no_leadership() -> None:
    leader = PostgresLeader("postgresql://postgres@127.0.0.1:1/test", retry_seconds=0.05)
    async with leader:
        await asyncio.sleep(0.3)
        assert not leader.leading
        assert leader.term == 0


async def test_the_sqlite_book_always_leads() -> None:
    election = leadership_for("sqlite:///data/orderbook.sqlite3")
    assert isinstance(election, AlwaysLeader)
    async with election:
        term = await election.wait_leader()
        assert await election.is_leader() and election.still_leading(term)
    assert isinstance(leadership_for(PG_URL), PostgresLeader)
