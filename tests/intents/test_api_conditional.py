"""``/api/v1/conditional_orders`` over HTTP (app + SQLite book + fake chain): creation and
its refusals with codes and sentences, the view with parts and history, listing by owner,
and cancellation signed by the owner only."""

from __future__ import annotations

import time

import msgspec

from intents.wire import encode
from tests.intents.conditional_helpers import cancellation_body, eoa_creation
from tests.intents.test_api import SEPARATOR, World, world
from tests.intents.test_conditional import KEY, OTHER_KEY, OWNER, twap

__all__ = ["world"]


async def test_create_read_list_and_cancel(world: World) -> None:
    client = world.client
    params = msgspec.structs.replace(twap(), t0=int(time.time()) + 600)
    body = encode(eoa_creation(SEPARATOR, params, KEY))
    async with client.post("/api/v1/conditional_orders", data=body) as response:
        assert response.status == 201
        cid = await response.json()
    async with client.post("/api/v1/conditional_orders", data=body) as response:
        assert (response.status, (await response.json())["errorType"]) == (400, "DuplicatedOrder")
    async with client.get(f"/api/v1/conditional_orders/{cid}") as response:
        view = await response.json()
    assert (view["status"], view["owner"], len(view["parts"])) == ("active", OWNER, 4)
    assert [p["status"] for p in view["parts"]] == ["pending"] * 4
    assert view["parts"][0]["orderUid"] is None and view["history"][0]["event"] == "created"
    async with client.get(f"/api/v1/account/{OWNER}/conditional_orders") as response:
        assert [c["id"] for c in await response.json()] == [cid]

    url = f"/api/v1/conditional_orders/{cid}"
    async with client.delete(url, data=cancellation_body(SEPARATOR, cid, OTHER_KEY)) as response:
        assert (response.status, (await response.json())["errorType"]) == (401, "WrongOwner")
    async with client.delete(url, data=cancellation_body(SEPARATOR, cid, KEY)) as response:
        assert (response.status, await response.json()) == (200, "Cancelled")
    async with client.delete(url, data=cancellation_body(SEPARATOR, cid, KEY)) as response:
        assert (response.status, (await response.json())["errorType"]) == (400, "AlreadyCancelled")
    async with client.get(url) as response:
        assert (await response.json())["status"] == "cancelled"


async def test_refusals_carry_a_code_and_a_sentence(world: World) -> None:
    client = world.client
    unknown = "0x" + "ab" * 52
    async with client.get(f"/api/v1/conditional_orders/{unknown}") as response:
        answer = await response.json()
        assert (response.status, answer["errorType"]) == (404, "ConditionalOrderNotFound")
    async with client.get("/api/v1/conditional_orders/0x12") as response:
        assert (response.status, (await response.json())["errorType"]) == (400, "InvalidField")
    too_few = msgspec.structs.replace(twap(), n=1, t0=int(time.time()) + 600)
    body = encode(eoa_creation(SEPARATOR, too_few, KEY))
    async with client.post("/api/v1/conditional_orders", data=body) as response:
        answer = await response.json()
    assert (response.status, answer["errorType"]) == (400, "InvalidConditionalOrder")
    assert answer["description"].startswith("n (the number of parts) must be more than 1")
    async with client.post("/api/v1/conditional_orders", data=b'{"params": 1}') as response:
        assert (response.status, (await response.json())["errorType"]) == (422, "InvalidField")
