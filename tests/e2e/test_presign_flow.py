"""The cow-sdk pre-sign flow against ``tributary serve`` on its devnet: the order is posted
first (``presignaturePending``), the owner's ``setPreSignature(uid, true)`` opens it, an
auction fills it; a revoked pre-signature sends an open order back to pending."""

from __future__ import annotations

from collections.abc import Iterator

import aiohttp
import pytest

from intents.order import Order, OrderKind, SigningScheme
from intents.types import Address, TokenAddress
from intents.wire import OrderCreation, encode
from settlement.jsonrpc import BatchingRpcClient
from solver.demo import limit_order, post
from tests.e2e.serve_node import ServedNode, next_status, send_tx, served_node, status_events
from tests.settlement.test_chain_reader import SETTLEMENT


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedNode]:
    with served_node(tmp_path_factory.mktemp("presign")) as served:
        yield served


def presign_body(owner: Address, order: Order) -> bytes:
    creation = OrderCreation.from_order(
        order,
        signing_scheme=SigningScheme.PRESIGN,
        signature=bytes.fromhex(owner[2:]),
        from_=owner,
    )
    return encode(creation)


async def set_presignature(node: ServedNode, owner: str, uid: str, signed: bool) -> None:
    call = SETTLEMENT.encode_call("setPreSignature", bytes.fromhex(uid[2:]), signed)
    async with BatchingRpcClient(node.deployment.rpc_url) as rpc:
        await send_tx(rpc, owner, node.deployment.settlement, call)


def weth_sell(node: ServedNode, owner: Address, limit_factor: float) -> Order:
    """A WETH sell of <= 0.01% of the pool, asking ``limit_factor`` times its pool price."""
    w, t = node.reserves()
    unit = min(w // 10_000, 10**17)
    return limit_order(
        owner,
        node.deployment.weth,
        TokenAddress(node.token),
        unit,
        int(t * unit // w * limit_factor),
    )


async def test_post_then_presign_opens_and_fills(node: ServedNode) -> None:
    owner = node.deployment.accounts[0].address
    order = weth_sell(node, owner, 0.9)
    async with aiohttp.ClientSession() as http, status_events(http, node.url, owner) as events:
        uid = await post(http, node.url, presign_body(owner, order))
        assert await next_status(events, uid, 10) == "presignaturePending"
        async with http.get(f"{node.url}/api/v1/orders/{uid}") as response:
            state = await response.json()
        assert (state["status"], state["signingScheme"]) == ("presignaturePending", "presign")
        await set_presignature(node, owner, uid, True)
        assert await next_status(events, uid, 20) == "open"
        assert await next_status(events, uid, 60) == "filled", node.log.read_text()[-3000:]
        async with http.get(f"{node.url}/api/v1/orders/{uid}") as response:
            state = await response.json()
        assert state["status"] == "fulfilled"
        assert int(state["executedBuyAmount"]) >= order.buy_amount


async def test_revoking_sends_an_open_order_back_to_pending(node: ServedNode) -> None:
    owner = node.deployment.accounts[1].address
    order = weth_sell(node, owner, 3.0)  # far above the market: stays open
    assert order.kind is OrderKind.SELL
    async with aiohttp.ClientSession() as http, status_events(http, node.url, owner) as events:
        uid = await post(http, node.url, presign_body(owner, order))
        assert await next_status(events, uid, 10) == "presignaturePending"
        await set_presignature(node, owner, uid, True)
        assert await next_status(events, uid, 20) == "open"
        await set_presignature(node, owner, uid, False)
        assert await next_status(events, uid, 20) == "presignaturePending"
        async with http.get(f"{node.url}/api/v1/orders/{uid}") as response:
            state = await response.json()
        assert (state["status"], state["executedBuyAmount"]) == ("presignaturePending", "0")
