"""The cow-sdk pre-sign flow against ``tributary serve`` on its devnet: the order is posted
first (``presignaturePending``), the owner's ``setPreSignature(uid, true)`` opens it, an
auction fills it; a revoked pre-signature sends an open order back to pending."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing

import pytest

from intents.client import TributaryClient
from intents.http.events import StatusEvent
from intents.order import Order, OrderKind, OrderStatus
from intents.types import Address, TokenAddress
from settlement.jsonrpc import BatchingRpcClient
from solver.demo import limit_order, wallet_of
from tests.e2e.serve_node import ServedNode, send_tx, served_node
from tests.settlement.test_chain_reader import SETTLEMENT


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedNode]:
    with served_node(tmp_path_factory.mktemp("presign")) as served:
        yield served


async def next_status(events: AsyncIterator[StatusEvent], within: float) -> OrderStatus:
    """The order's next status from ``TributaryClient.follow`` (its state when followed
    first); ``TimeoutError`` after ``within`` seconds."""
    async with asyncio.timeout(within):
        return (await anext(events)).status


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
    account = node.deployment.accounts[0]
    owner = account.address
    order = weth_sell(node, owner, 0.9)
    async with TributaryClient(node.url) as client:
        uid = await client.post_order(wallet_of(node.deployment, account).presign_order(order))
        async with aclosing(client.follow(uid=uid)) as events:
            assert await next_status(events, 10) == "presignaturePending"
            state = await client.order(uid)
            assert (state.status, state.signing_scheme) == ("presignaturePending", "presign")
            await set_presignature(node, owner, uid, True)
            assert await next_status(events, 20) == "open"
            assert await next_status(events, 60) == "filled", node.log.read_text()[-3000:]
        state = await client.order(uid)
        assert state.status == "fulfilled"
        assert int(state.executed_buy_amount) >= order.buy_amount


async def test_revoking_sends_an_open_order_back_to_pending(node: ServedNode) -> None:
    account = node.deployment.accounts[1]
    owner = account.address
    order = weth_sell(node, owner, 3.0)  # far above the market: stays open
    assert order.kind is OrderKind.SELL
    async with TributaryClient(node.url) as client:
        uid = await client.post_order(wallet_of(node.deployment, account).presign_order(order))
        async with aclosing(client.follow(uid=uid)) as events:
            assert await next_status(events, 10) == "presignaturePending"
            await set_presignature(node, owner, uid, True)
            assert await next_status(events, 20) == "open"
            await set_presignature(node, owner, uid, False)
            assert await next_status(events, 20) == "presignaturePending"
        state = await client.order(uid)
        assert (state.status, int(state.executed_buy_amount)) == ("presignaturePending", 0)
