"""Signed webhooks end to end against ``tributary serve`` on its devnet (issue 16 item 3).

A node without ``--webhook-allow-private`` refuses a loopback URL, a replayed, expired or
too far-reaching registration, and another key's signature. A node with it delivers a real
order's status changes to a local receiver with valid signatures: the receiver fails its
first requests (processing one of them before failing, as a crash before the answer would),
the deliveries are retried and arrive, and deduping by idempotency key processes each event
once; a webhook whose receiver never listens shows its deliveries ``failed``."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bench.intake import free_port
from intents.order import SigningScheme
from intents.signing import sign
from intents.types import Address, TokenAddress
from intents.webhook_signing import verify_webhook
from intents.webhooks import deletion_digest, registration_digest
from settlement.deployment import Account
from solver.demo import limit_order, order_state, post, signed_body
from tests.e2e.serve_node import ServedNode, served_node


@pytest.fixture(scope="module")
def strict_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedNode]:
    with served_node(tmp_path_factory.mktemp("webhooks-strict")) as served:
        yield served


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedNode]:
    flags = ("--webhook-allow-private", "--webhook-retry-base", "0.3",
             "--webhook-max-attempts", "3", "--webhook-timeout", "2")  # fmt: skip
    with served_node(tmp_path_factory.mktemp("webhooks"), *flags) as served:
        yield served


def registration(
    node: ServedNode, account: Account, url: str, *, expiry: int | None = None, key: str = ""
) -> dict[str, Any]:
    owner = Address(account.address)
    nonce = secrets.token_bytes(32)
    expiry = int(time.time()) + 600 if expiry is None else expiry
    digest = registration_digest(node.deployment.domain_separator, owner, url, nonce, expiry)
    signature = sign(SigningScheme.EIP712, digest, bytes.fromhex((key or account.private_key)[2:]))
    return {"owner": owner, "url": url, "nonce": "0x" + nonce.hex(), "expiry": expiry,
            "signingScheme": "eip712", "signature": "0x" + signature.hex()}  # fmt: skip


async def register(http: aiohttp.ClientSession, node: ServedNode, body: dict[str, Any]) -> Any:
    async with http.post(f"{node.url}/api/v1/webhooks", json=body) as response:
        return response.status, await response.json()


async def test_unsafe_replayed_expired_and_foreign_registrations_are_refused(
    strict_node: ServedNode,
) -> None:
    node, (alice, bob) = strict_node, strict_node.deployment.accounts[:2]
    now = int(time.time())
    async with aiohttp.ClientSession() as http:
        for url in ("http://127.0.0.1:9/hook", "http://localhost:9/", "http://[::1]/",
                    "http://169.254.169.254/latest", "http://[::ffff:10.0.0.1]/"):  # fmt: skip
            status, answer = await register(http, node, registration(node, alice, url))
            assert (status, answer["errorType"]) == (400, "UnsafeWebhookUrl"), (url, answer)
        public = "https://93.184.215.14/hook"  # an IP literal: nothing to resolve
        for body, want in (
            (registration(node, alice, public, expiry=now - 1), (400, "SignatureExpired")),
            (registration(node, alice, public, expiry=now + 3700), (400, "ExcessiveExpiry")),
            (registration(node, alice, "ftp://x.org/"), (400, "InvalidWebhookUrl")),
            (registration(node, alice, public, key=bob.private_key), (401, "WrongOwner")),
        ):
            status, answer = await register(http, node, body)
            assert (status, answer["errorType"]) == want, answer
        body = registration(node, alice, public)
        status, created = await register(http, node, body)
        assert status == 201 and created["secret"].startswith("whsec_"), created
        status, answer = await register(http, node, body)  # the same signed request again
        assert (status, answer["errorType"]) == (409, "NonceAlreadyUsed")
        async with http.get(f"{node.url}/api/v1/webhooks", params={"owner": alice.address}) as r:
            listed = await r.json()
        assert [(h["id"], h["url"]) for h in listed] == [(created["id"], public)]
        assert "secret" not in listed[0]
        nonce, expiry = secrets.token_bytes(32), now + 600
        digest = deletion_digest(
            node.deployment.domain_separator, alice.address, created["id"], nonce, expiry
        )
        signature = sign(SigningScheme.EIP712, digest, bytes.fromhex(alice.private_key[2:]))
        deletion = {"owner": alice.address, "nonce": "0x" + nonce.hex(), "expiry": expiry,
                    "signingScheme": "eip712", "signature": "0x" + signature.hex()}  # fmt: skip
        async with http.delete(f"{node.url}/api/v1/webhooks/{created['id']}", json=deletion) as r:
            assert r.status == 200, await r.text()
        async with http.delete(f"{node.url}/api/v1/webhooks/{created['id']}", json=deletion) as r:
            assert (r.status, (await r.json())["errorType"]) == (409, "NonceAlreadyUsed")


class Receiver:
    """Dedupes by idempotency key; fails its first ``failures`` requests, the first of them
    after processing the event (a crash before answering)."""

    def __init__(self, secret: str, failures: int) -> None:
        self.secret = secret
        self.failures = failures
        self.received: Counter[str] = Counter()
        self.processed: dict[str, Any] = {}
        self.bad_signatures = 0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            event_id = verify_webhook(self.secret, dict(request.headers), body)
        except ValueError:
            self.bad_signatures += 1
            return web.Response(status=400)
        assert request.headers["Idempotency-Key"] == event_id
        self.received[event_id] += 1
        first = sum(self.received.values()) == 1
        if event_id not in self.processed and (first or self.failures <= 0):
            self.processed[event_id] = await request.json()
        if self.failures > 0:
            self.failures -= 1
            return web.Response(status=500)
        return web.Response(status=204)


@asynccontextmanager
async def receiving(receiver: Receiver, port: int) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}/hook"
    finally:
        await runner.cleanup()


async def deliveries(http: aiohttp.ClientSession, node: ServedNode, hook: str) -> Any:
    async with http.get(f"{node.url}/api/v1/webhooks/{hook}/deliveries") as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def test_status_changes_arrive_signed_retried_once_each_and_failures_show(
    node: ServedNode,
) -> None:
    alice = node.deployment.accounts[0]
    port, dead_port = free_port(), free_port()
    async with aiohttp.ClientSession() as http:
        status, live = await register(
            http, node, registration(node, alice, f"http://127.0.0.1:{port}/hook")
        )
        assert status == 201, live
        status, dead = await register(
            http, node, registration(node, alice, f"http://127.0.0.1:{dead_port}/hook")
        )
        assert status == 201, dead
        receiver = Receiver(live["secret"], failures=2)  # < max attempts (3)
        async with receiving(receiver, port):
            order = limit_order(
                Address(alice.address), node.deployment.weth, TokenAddress(node.token), 10**16, 1
            )
            uid = await post(http, node.url, signed_body(node.deployment, alice, order))
            for _ in range(120):
                state = await order_state(http, node.url, uid)
                events = [e for e in receiver.processed.values() if e["uid"] == uid]
                if state["status"] == "fulfilled" and len(events) >= 2:
                    break
                await asyncio.sleep(0.25)
            assert state["status"] == "fulfilled", node.log.read_text()[-3000:]
            assert sorted(e["status"] for e in events) == ["filled", "open"], (
                events
            )  # as the SSE stream names them
            assert receiver.bad_signatures == 0
            assert all(e["owner"] == alice.address and e["type"] == "order.status" for e in events)
            # retried after the failures, but each event processed once
            assert max(receiver.received.values()) >= 2
            assert len(receiver.processed) == len(receiver.received)
            for _ in range(40):  # the last answer may still be on its way back
                rows = await deliveries(http, node, live["id"])
                if {r["state"] for r in rows} == {"delivered"}:
                    break
                await asyncio.sleep(0.25)
            assert {r["state"] for r in rows} == {"delivered"}, rows
            assert len(receiver.processed) == len(receiver.received) == 2
            assert max(r["attempts"] for r in rows) >= 2
        for _ in range(60):  # 3 attempts, 0.3 s then 0.6 s apart, each refused at once
            rows = await deliveries(http, node, dead["id"])
            if rows and all(r["state"] == "failed" for r in rows):
                break
            await asyncio.sleep(0.25)
        assert len(rows) == 2 and all(r["state"] == "failed" for r in rows), rows
        assert all(r["attempts"] == 3 and r["lastError"] for r in rows), rows
