"""Verified, stored quotes on ``tributary serve`` and its devnet: a quote for a funded
trader is ``verified`` (its trade simulated on the chain), and with nothing else trading an
order signed from it as cow-sdk signs (the fee folded into the sell amount) executes within
1 bp of the quote; one at the SDK's default 0.5% slippage fills. Each order names its quote
(``quoteId``) and the node links it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from intents.types import Address, TokenAddress
from settlement.deployment import Account
from solver.demo import limit_order, order_state, post, signed_body
from tests.e2e.serve_node import ServedNode, served_node

WETH_SOLD = 5 * 10**16  # 0.05 WETH: the size whose fee the issue saw left out


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedNode]:
    with served_node(tmp_path_factory.mktemp("quotes")) as served:
        yield served


async def quote(http: aiohttp.ClientSession, node: ServedNode, owner: str) -> Any:
    request = {
        "sellToken": node.deployment.weth,
        "buyToken": node.token,
        "from": owner,
        "kind": "sell",
        "sellAmountBeforeFee": str(WETH_SOLD),
    }
    async with http.post(f"{node.url}/api/v1/quote", json=request) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def order_from_quote(
    http: aiohttp.ClientSession, node: ServedNode, account: Account, slippage_bps: int
) -> tuple[Any, dict[str, Any]]:
    """Quote, sign and post as cow-sdk does; the quote and the order once final."""
    answer = await quote(http, node, account.address)
    q = answer["quote"]
    sell = int(q["sellAmount"]) + int(q["feeAmount"])
    assert sell == WETH_SOLD
    buy = int(q["buyAmount"]) * (10_000 - slippage_bps) // 10_000
    order = limit_order(
        Address(account.address), node.deployment.weth, TokenAddress(node.token), sell, buy
    )
    body = signed_body(node.deployment, account, order)
    uid = await post(http, node.url, body[:-1] + b',"quoteId":' + str(answer["id"]).encode() + b"}")
    for _ in range(60):
        state = await order_state(http, node.url, uid)
        if state["status"] != "open":
            break
        await asyncio.sleep(0.5)
    return answer, state


async def test_quotes_are_verified_and_orders_from_them_fill_at_the_quote(
    node: ServedNode,
) -> None:
    accounts = node.deployment.accounts
    async with aiohttp.ClientSession() as http:
        exact, filled = await order_from_quote(http, node, accounts[0], slippage_bps=0)
        assert exact["verified"] is True, node.log.read_text()[-3000:]
        assert filled["status"] == "fulfilled", node.log.read_text()[-3000:]
        assert filled["quoteId"] == exact["id"]
        quoted = int(exact["quote"]["buyAmount"])
        assert abs(int(filled["executedBuyAmount"]) - quoted) * 10_000 <= quoted  # <= 1 bp
        assert int(filled["executedSellAmount"]) == WETH_SOLD

        slipped, state = await order_from_quote(http, node, accounts[1], slippage_bps=50)
        assert slipped["verified"] is True
        assert state["status"] == "fulfilled", node.log.read_text()[-3000:]
        assert state["quoteId"] == slipped["id"]


async def test_a_quote_for_a_trader_without_funds_is_not_verified(node: ServedNode) -> None:
    async with aiohttp.ClientSession() as http:
        answer = await quote(http, node, "0x" + "42" * 20)
    assert answer["verified"] is False
    assert int(answer["quote"]["buyAmount"]) > 0 and answer["id"] > 0
