"""Status events reach subscribers on every replica (issue 13 item 1): two ``tributary
serve`` processes share one PostgreSQL book, one running the auctioneer, the other
``--no-auctioneer``. An order posted through the API-only replica is settled by the other's
round, and the API-only replica's SSE subscriber sees it open and then filled, with
increasing outbox ids; reconnecting with ``Last-Event-ID`` from its first event replays the
rest once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest

from intents.client import TributaryClient
from tests.e2e.test_failover import SETTLE_SECONDS, database, served_devnet, start_node

__all__ = ["database"]


async def _frames(stream: aiohttp.ClientResponse, uid: str, until: str) -> list[dict[str, str]]:
    """``uid``'s status events on ``stream`` up to the first with status ``until``."""
    found: list[dict[str, str]] = []
    fields: dict[str, str] = {}
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no {until} event for {uid}: {found}"
        line = (await asyncio.wait_for(stream.content.readline(), left)).decode().rstrip("\n")
        if line.startswith(":"):
            continue
        if line:
            key, _, value = line.partition(": ")
            fields[key] = value
            continue
        if fields.get("event") == "status" and uid in fields["data"]:
            found.append(fields)
            if f'"status":"{until}"' in fields["data"]:
                return found
        fields = {}


@pytest.mark.slow
async def test_an_event_from_the_auctioneer_replica_reaches_the_api_replica(
    tmp_path: Path, database: str
) -> None:
    async with served_devnet(tmp_path) as (_, d, path, _token, _unit, _worth, order_body):
        auctioneer = await start_node("auctioneer", d.rpc_url, path, database)
        api = await start_node("api", d.rpc_url, path, database, "--no-auctioneer")
        try:
            async with aiohttp.ClientSession() as http, TributaryClient(api.url) as client:
                owner = d.accounts[0].address
                async with http.get(f"{api.url}/api/v1/events?owner={owner}") as stream:
                    assert await stream.content.readline() == b": subscribed\n"
                    uid = await client.post_order(order_body(0))
                    live = await _frames(stream, uid, "filled")
                resume = {"Last-Event-ID": live[0]["id"]}
                async with http.get(f"{api.url}/api/v1/events", headers=resume) as stream:
                    assert await stream.content.readline() == b": subscribed\n"
                    replayed = await _frames(stream, uid, "filled")
        finally:
            for node in (auctioneer, api):
                node.popen.terminate()
                node.popen.wait(20)
        assert '"status":"open"' in live[0]["data"]
        ids = [int(f["id"]) for f in live]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        assert replayed == live[1:]
        # the fill was recorded by the auctioneer's process; the API replica ran no round
        assert auctioneer.leads() and not api.leads()
        assert "winners" not in api.log.read_text()
