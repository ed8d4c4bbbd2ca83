"""Signed webhooks end to end against ``tributary serve`` on its devnet (issue 16 item 3).

A node without ``--webhook-allow-private`` refuses a loopback URL, a replayed, expired or
too far-reaching registration, and another key's signature. A node with it delivers a real
order's status changes to a local receiver with valid signatures: the receiver fails its
first requests (processing one of them before failing, as a crash before the answer would),
the deliveries are retried and arrive, and deduping by idempotency key processes each event
once; a webhook whose receiver never listens shows its deliveries ``failed``."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import pytest
from aiohttp import web

from bench.intake import free_port
from intents.client import ApiError, RequestTerms, TributaryClient, verify_webhook
from intents.types import Address, TokenAddress
from intents.webhook_wire import WebhookRegistration
from settlement.deployment import Account
from solver.demo import limit_order, wallet_of
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
    node: ServedNode, account: Account, url: str, *, expiry: int | None = None
) -> WebhookRegistration:
    """``account``'s signed registration of ``url``, good for 10 minutes unless ``expiry``."""
    terms = RequestTerms(expiry=expiry)
    return wallet_of(node.deployment, account).webhook_registration(url, terms)


async def refused(node: TributaryClient, body: WebhookRegistration) -> tuple[int, str]:
    """(HTTP status, errorType) of the node's refusal of ``body``."""
    with pytest.raises(ApiError) as refusal:
        await node.register_webhook(body)
    return refusal.value.status, refusal.value.error_type


async def test_unsafe_replayed_expired_and_foreign_registrations_are_refused(
    strict_node: ServedNode,
) -> None:
    node, (alice, bob) = strict_node, strict_node.deployment.accounts[:2]
    now = int(time.time())
    async with TributaryClient(node.url) as client:
        for url in ("http://127.0.0.1:9/hook", "http://localhost:9/", "http://[::1]/",
                    "http://169.254.169.254/latest", "http://[::ffff:10.0.0.1]/"):  # fmt: skip
            answer = await refused(client, registration(node, alice, url))
            assert answer == (400, "UnsafeWebhookUrl"), url
        public = "https://93.184.215.14/hook"  # an IP literal: nothing to resolve
        # bob's signature on a registration that names alice as its owner
        foreign = msgspec.structs.replace(registration(node, bob, public), owner=alice.address)
        for body, want in (
            (registration(node, alice, public, expiry=now - 1), (400, "SignatureExpired")),
            (registration(node, alice, public, expiry=now + 3700), (400, "ExcessiveExpiry")),
            (registration(node, alice, "ftp://x.org/"), (400, "InvalidWebhookUrl")),
            (foreign, (401, "WrongOwner")),
        ):
            assert await refused(client, body) == want, body
        body = registration(node, alice, public)
        created = await client.register_webhook(body)
        assert created.secret.startswith("whsec_"), created
        # the same signed request again
        assert await refused(client, body) == (409, "NonceAlreadyUsed")
        listed = await client.webhooks(alice.address)
        assert [(h.id, h.url) for h in listed] == [(created.id, public)]
        assert "secret" not in msgspec.to_builtins(listed[0])
        deletion = wallet_of(node.deployment, alice).webhook_deletion(created.id)
        assert await client.delete_webhook(created.id, deletion) == "Deleted"
        with pytest.raises(ApiError) as again:
            await client.delete_webhook(created.id, deletion)
        assert (again.value.status, again.value.error_type) == (409, "NonceAlreadyUsed")
        assert await client.webhooks(alice.address) == []


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


async def test_status_changes_arrive_signed_retried_once_each_and_failures_show(
    node: ServedNode,
) -> None:
    alice = node.deployment.accounts[0]
    wallet = wallet_of(node.deployment, alice)
    port, dead_port = free_port(), free_port()
    async with TributaryClient(node.url) as client:
        live = await client.register_webhook(
            wallet.webhook_registration(f"http://127.0.0.1:{port}/hook")
        )
        dead = await client.register_webhook(
            wallet.webhook_registration(f"http://127.0.0.1:{dead_port}/hook")
        )
        receiver = Receiver(live.secret, failures=2)  # < max attempts (3)
        async with receiving(receiver, port):
            order = limit_order(
                Address(alice.address), node.deployment.weth, TokenAddress(node.token), 10**16, 1
            )
            uid = await client.post_order(wallet.sign_order(order))
            try:
                await client.wait(uid, until={"fulfilled"}, within=30)
            except TimeoutError:
                raise AssertionError(node.log.read_text()[-3000:]) from None
            for _ in range(120):
                events = [e for e in receiver.processed.values() if e["uid"] == uid]
                if len(events) >= 2:
                    break
                await asyncio.sleep(0.25)
            assert sorted(e["status"] for e in events) == ["filled", "open"], (
                events
            )  # as the SSE stream names them
            assert receiver.bad_signatures == 0
            assert all(e["owner"] == alice.address and e["type"] == "order.status" for e in events)
            # retried after the failures, but each event processed once
            assert max(receiver.received.values()) >= 2
            assert len(receiver.processed) == len(receiver.received)
            for _ in range(40):  # the last answer may still be on its way back
                rows = await client.deliveries(live.id)
                if {r.state for r in rows} == {"delivered"}:
                    break
                await asyncio.sleep(0.25)
            assert {r.state for r in rows} == {"delivered"}, rows
            assert len(receiver.processed) == len(receiver.received) == 2
            assert max(r.attempts for r in rows) >= 2
        for _ in range(60):  # 3 attempts, 0.3 s then 0.6 s apart, each refused at once
            rows = await client.deliveries(dead.id)
            if rows and all(r.state == "failed" for r in rows):
                break
            await asyncio.sleep(0.25)
        assert len(rows) == 2 and all(r.state == "failed" for r in rows), rows
        assert all(r.attempts == 3 and r.last_error for r in rows), rows
