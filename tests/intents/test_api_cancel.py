"""Cancellation answers as CoW's orderbook gives them (issue 13; ``OrderCancellationError`` in
crates/orderbook/src/orderbook.rs and api/cancel_order.rs): the orders' state first
(``OrderNotFound`` 404, ``OrderFullyExecuted``, ``AlreadyCancelled``, ``OrderExpired``,
``OnChainOrder`` 400), then the signature (``InvalidSignature`` 400), then the owner
(``WrongOwner`` 401); one refusal cancels nothing. Both ``DELETE /api/v1/orders`` and the
deprecated single ``DELETE /api/v1/orders/{uid}``."""

from __future__ import annotations

import json
import time
from typing import Any

import msgspec
import pytest

from intents.eip712 import cancellation_digest
from intents.order import OrderStatus, SigningScheme
from intents.signing import sign
from intents.types import Address, OrderUid
from tests.intents.test_api import (
    KEY,
    OTHER_KEY,
    OWNER,
    SEPARATOR,
    World,
    body,
    cancellation,
    order,
    uid_of,
    world,
)
from tests.intents.test_store import make_order

__all__ = ["world"]


def single(uid: OrderUid, key: bytes) -> bytes:
    signature = sign(SigningScheme.EIP712, cancellation_digest(SEPARATOR, uid), key)
    return json.dumps({"signature": "0x" + signature.hex(), "signingScheme": "eip712"}).encode()


async def delete_many(world: World, uids: list[OrderUid], key: bytes = KEY) -> tuple[int, Any]:
    async with world.client.delete("/api/v1/orders", data=cancellation(uids, key)) as r:
        return r.status, await r.json()


async def delete_one(world: World, uid: OrderUid, key: bytes = KEY) -> tuple[int, Any]:
    async with world.client.delete(f"/api/v1/orders/0x{uid.hex()}", data=single(uid, key)) as r:
        return r.status, await r.json()


def code(answer: tuple[int, Any]) -> tuple[int, str]:
    status, doc = answer
    return status, doc if status == 200 else doc["errorType"]


async def placed(world: World, **changes: Any) -> OrderUid:
    o = order(**changes)
    status, _ = await world.post(body(o))
    assert status == 201
    return uid_of(o)


async def status_of(world: World, uid: OrderUid) -> OrderStatus:
    stored = await world.book.get(uid)
    assert stored is not None
    return stored.status


@pytest.mark.parametrize("endpoint", ["many", "one"])
async def test_cancel_answers_follow_cow(world: World, endpoint: str) -> None:
    async def cancel(uid: OrderUid, key: bytes = KEY) -> tuple[int, str]:
        if endpoint == "many":
            return code(await delete_many(world, [uid], key))
        return code(await delete_one(world, uid, key))

    # an unknown UID is 404 OrderNotFound, whoever signs (not 401 WrongOwner)
    assert await cancel(uid_of(order(buy_amount=12345)), OTHER_KEY) == (404, "OrderNotFound")
    # someone else's signature on an existing order: 401 WrongOwner, it stays open
    uid = await placed(world)
    assert await cancel(uid, OTHER_KEY) == (401, "WrongOwner")
    assert await status_of(world, uid) is OrderStatus.OPEN
    # the owner cancels; a second cancellation is refused
    assert await cancel(uid) == (200, "Cancelled")
    assert await status_of(world, uid) is OrderStatus.CANCELLED
    assert await cancel(uid) == (400, "AlreadyCancelled")
    # a filled order: OrderFullyExecuted, and it stays filled
    filled = await placed(world, buy_amount=7)
    await world.book.record_fill(
        filled,
        executed_sell=10**18,
        executed_buy=7,
        executed_fee=10**15,
        tx_hash=b"\x01" * 32,
        log_index=0,
        block_number=1,
    )
    assert await cancel(filled) == (400, "OrderFullyExecuted")
    assert await status_of(world, filled) is OrderStatus.FILLED
    # an expired order: OrderExpired
    late = await placed(world, buy_amount=8)
    await world.book.expire(time.time() + 10**6)
    assert await cancel(late) == (400, "OrderExpired")
    assert await status_of(world, late) is OrderStatus.EXPIRED


@pytest.mark.parametrize("scheme", [SigningScheme.PRESIGN, SigningScheme.EIP1271])
async def test_on_chain_orders_are_cancelled_on_chain(world: World, scheme: SigningScheme) -> None:
    stored = msgspec.structs.replace(make_order(1, Address(OWNER)), signing_scheme=scheme)
    await world.book.insert(stored)
    assert code(await delete_many(world, [stored.uid])) == (400, "OnChainOrder")
    assert code(await delete_one(world, stored.uid)) == (400, "OnChainOrder")
    assert await status_of(world, stored.uid) is OrderStatus.OPEN


async def test_a_batch_with_one_refusal_cancels_none(world: World) -> None:
    first, second = await placed(world, buy_amount=1), await placed(world, buy_amount=2)
    unknown = uid_of(order(buy_amount=3))
    assert code(await delete_many(world, [first, unknown, second])) == (404, "OrderNotFound")
    assert code(await delete_many(world, [first])) == (200, "Cancelled")
    assert code(await delete_many(world, [second, first])) == (400, "AlreadyCancelled")
    assert await status_of(world, second) is OrderStatus.OPEN
    assert code(await delete_many(world, [second, second])) == (200, "Cancelled")
    assert await status_of(world, second) is OrderStatus.CANCELLED


async def test_state_is_checked_before_the_signature(world: World) -> None:
    uid = await placed(world)
    bad = {"signature": "0x" + "00" * 64 + "1b", "signingScheme": "eip712"}
    path = f"/api/v1/orders/0x{uid.hex()}"
    async with world.client.delete(path, data=json.dumps(bad).encode()) as r:
        assert (r.status, (await r.json())["errorType"]) == (400, "InvalidSignature")
    unknown = uid_of(order(buy_amount=99))
    async with world.client.delete(f"/api/v1/orders/0x{unknown.hex()}", data=json.dumps(bad)) as r:
        assert (r.status, (await r.json())["errorType"]) == (404, "OrderNotFound")
    # the single cancellation's signature covers its UID only: a batch signature is refused
    async with world.client.delete(path, data=cancellation([uid], KEY)) as r:
        assert (r.status, (await r.json())["errorType"]) == (422, "InvalidField")
    assert await status_of(world, uid) is OrderStatus.OPEN
