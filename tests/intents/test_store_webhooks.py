"""The book's webhooks on both backends: registration consumes its nonce in the same
transaction (a replay writes nothing), the per-owner cap, deletion by the owner only, a
delivery row per webhook for every status change in the change's own transaction, claims
under a lease, retries and failure."""

from __future__ import annotations

import time

from intents.book import OrderBook
from intents.errors import ErrorCode, OrderError
from intents.webhook_store import DeliveryState, StoredWebhook
from tests.intents.test_store import ALICE, BOB, NOW, book, make_order

__all__ = ["book"]  # the fixture, parametrized over SQLite and PostgreSQL


def hook(n: int, owner: str = ALICE) -> StoredWebhook:
    return StoredWebhook(f"wh_{n}", owner, f"https://h{n}.example.org/", f"whsec_{n}", NOW)  # type: ignore[arg-type]


async def refused(code: ErrorCode, call: object) -> None:
    try:
        await call  # type: ignore[misc]
    except OrderError as exc:
        assert exc.code is code, exc
    else:
        raise AssertionError(f"expected {code}")


async def test_register_consumes_the_nonce_and_caps_per_owner(book: OrderBook) -> None:
    await book.register_webhook(hook(1), b"\x01" * 32, cap=2)
    await refused(ErrorCode.NONCE_ALREADY_USED, book.register_webhook(hook(2), b"\x01" * 32, 2))
    assert [h.id for h in await book.webhooks_by_owner(ALICE)] == ["wh_1"]
    await book.register_webhook(hook(2), b"\x02" * 32, cap=2)
    await refused(ErrorCode.TOO_MANY_WEBHOOKS, book.register_webhook(hook(3), b"\x03" * 32, 2))
    # the refused registration wrote nothing: its nonce is still free
    await book.register_webhook(hook(4, BOB), b"\x03" * 32, cap=2)
    await book.delete_webhook("wh_2", ALICE, b"\x04" * 32)
    await book.register_webhook(hook(3), b"\x03" * 32, cap=2)
    assert [h.id for h in await book.webhooks_by_owner(ALICE)] == ["wh_1", "wh_3"]
    stored = await book.get_webhook("wh_3")
    assert stored is not None and stored.secret == "whsec_3" and stored.owner == ALICE


async def test_delete_only_by_the_owner(book: OrderBook) -> None:
    await book.register_webhook(hook(1), b"\x01" * 32, cap=5)
    await refused(ErrorCode.WEBHOOK_NOT_FOUND, book.delete_webhook("wh_1", BOB, b"\x02" * 32))
    await refused(ErrorCode.NONCE_ALREADY_USED, book.delete_webhook("wh_1", ALICE, b"\x01" * 32))
    await book.delete_webhook("wh_1", ALICE, b"\x03" * 32)
    assert await book.get_webhook("wh_1") is None


async def test_status_changes_become_deliveries_claimed_retried_and_failed(
    book: OrderBook,
) -> None:
    await book.register_webhook(hook(1), b"\x01" * 32, cap=5)
    await book.register_webhook(hook(2), b"\x02" * 32, cap=5)
    order, other = make_order(1), make_order(2, BOB)
    await book.insert(order)
    await book.insert(other)  # Bob has no webhook: no delivery
    await book.cancel([order.uid], ALICE)
    for hook_id in ("wh_1", "wh_2"):
        rows = await book.deliveries(hook_id, 10)
        assert [d.body.count(b'"status":"open"') for d in rows] == [0, 1]
        assert all(d.state is DeliveryState.PENDING and d.attempts == 0 for d in rows)
        assert all(b"0x" + order.uid.hex().encode() in d.body for d in rows)
    now = time.time() + 1
    claimed = await book.claim_deliveries(now, lease=30, limit=10)
    assert len(claimed) == 4 and {d.url for d in claimed} == {
        "https://h1.example.org/",
        "https://h2.example.org/",
    }
    assert await book.claim_deliveries(now, lease=30, limit=10) == []  # leased
    first, second, third, fourth = claimed
    await book.finish_delivery(first.id, error=None, retry_at=None)
    await book.finish_delivery(second.id, error="HTTP 500", retry_at=now + 5)
    await book.finish_delivery(third.id, error="refused", retry_at=None)
    again = await book.claim_deliveries(now + 6, lease=30, limit=10)
    assert [d.id for d in again] == [second.id]  # the retry is due; the fourth still leased
    assert again[0].attempts == 1 and again[0].last_error == "HTTP 500"
    states = {d.id: d for h in ("wh_1", "wh_2") for d in await book.deliveries(h, 10)}
    assert states[first.id].state is DeliveryState.DELIVERED
    assert states[third.id].state is DeliveryState.FAILED
    assert states[third.id].last_error == "refused" and states[third.id].attempts == 1
    assert states[fourth.id].state is DeliveryState.PENDING
    await book.delete_webhook("wh_1", ALICE, b"\x09" * 32)
    assert await book.deliveries("wh_1", 10) == []
