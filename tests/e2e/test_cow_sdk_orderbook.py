"""Every ``OrderBookApi`` method of cow-sdk — the version package.json pins (5.x) and the
latest 9.x (the npm alias ``cow-sdk-9``) — against ``tributary serve`` on its built-in
devnet (seeded pools, funded traders, auctioneer on), with CoW-shaped answers checked; the
settlement transaction of a filled order is reached from its trades and checked on the
chain. And a browser's request: a preflight, then a POST with ``Origin``."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from intents.order import OrderKind
from intents.types import TokenAddress
from intents.wire import encode
from settlement.deployment import Account, Deployment
from settlement.fills import TRADE_TOPIC
from settlement.jsonrpc import BatchingRpcClient
from solver.demo import limit_order, wallet_of
from tests.e2e.serve_node import served_node

SCRIPT = Path(__file__).with_name("cow_sdk_orderbook.mjs")
TX_HASH = re.compile(r"^0x[0-9a-f]{64}$")
APP_DATA = '{"appCode":"tributary-e2e","metadata":{},"version":"1.3.0"}'


@dataclass(frozen=True)
class Node:
    url: str
    deployment: Deployment
    weth: TokenAddress
    token: TokenAddress
    unit: int  # WETH sold per order
    worth: int  # what ``unit`` is worth in ``token`` at the pool's price
    log: Path


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    workdir = tmp_path_factory.mktemp("cow-sdk-orderbook")
    with served_node(workdir) as served:
        w, t = served.reserves()
        unit = min(w // 10_000, 10**17)
        yield Node(
            served.url,
            served.deployment,
            served.deployment.weth,
            TokenAddress(served.token),
            unit,
            t * unit // w,
            served.log,
        )


def _spec(node: Node, owner: str, buy_amount: int) -> dict[str, Any]:
    return {
        "sellToken": node.weth,
        "buyToken": node.token,
        "receiver": owner,
        "sellAmount": str(node.unit),
        "buyAmount": str(buy_amount),
        "validTo": int(time.time()) + 600,
        "appData": "0x" + "00" * 32,
        "feeAmount": "0",
        "kind": "sell",
        "partiallyFillable": False,
    }


def run_sdk(node: Node, sdk: str, trader: Account) -> dict[str, Any]:
    request = {
        "sdk": sdk,
        "apiUrl": node.url,
        "chainId": node.deployment.chain_id,
        "settlement": node.deployment.settlement,
        "privateKey": trader.private_key,
        "fill": _spec(node, trader.address, node.worth * 9 // 10),  # 10% below the market
        "stuck": _spec(node, trader.address, node.worth * 10),  # 10x the market: never
        "quote": {
            "sellToken": node.weth,
            "buyToken": node.token,
            "kind": "sell",
            "sellAmountBeforeFee": str(node.unit),
        },
        "appData": APP_DATA,
        "nativeToken": node.token,
        "timeoutSeconds": 60,
    }
    done = subprocess.run(
        ["node", str(SCRIPT)],
        input=json.dumps(request).encode(),
        capture_output=True,
        timeout=150,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode() + node.log.read_text()[-3000:]
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


async def _receipt(node: Node, tx_hash: str) -> dict[str, Any]:
    async with BatchingRpcClient(node.deployment.rpc_url) as rpc:
        receipt: dict[str, Any] = await rpc.call("eth_getTransactionReceipt", [tx_hash])
    return receipt


@pytest.mark.parametrize(
    ("sdk", "account", "trades_path_version"),
    [("@cowprotocol/cow-sdk", 0, "v1"), ("cow-sdk-9", 1, "v2")],
)
def test_every_order_book_api_method(
    node: Node, sdk: str, account: int, trades_path_version: str
) -> None:
    trader = node.deployment.accounts[account]
    answer = run_sdk(node, sdk, trader)
    calls, uid, stuck = answer["calls"], answer["uid"], answer["stuckUid"]
    owner = answer["owner"]
    assert (calls["sendOrder"], calls["sendStuckOrder"]) == (uid, stuck)

    order = calls["getOrder"]
    assert order["status"] == "fulfilled", (order, node.log.read_text()[-3000:])
    assert order["executedFeeToken"] == node.weth
    assert int(order["executedFee"]) > 0  # a limit order: the winning solver's fee
    assert order["totalFee"] == str(int(order["executedFeeAmount"]) + int(order["executedFee"]))
    assert int(order["executedBuyAmount"]) >= node.worth * 9 // 10

    # the settlement transaction, from the order's trades, is the one that traded it
    trades = calls["getTradesByOrder"]
    assert len(trades) == 1
    [trade] = trades
    assert TX_HASH.match(trade["txHash"]) and trade["txHash"] == calls["txHash"]
    assert (trade["orderUid"], trade["owner"]) == (uid, owner)
    assert (trade["sellToken"], trade["buyToken"]) == (node.weth, node.token)
    assert trade["buyAmount"] == order["executedBuyAmount"]
    assert trade["sellAmount"] == order["executedSellAmount"]
    assert isinstance(trade["blockNumber"], int) and isinstance(trade["logIndex"], int)
    receipt = asyncio.run(_receipt(node, trade["txHash"]))
    assert int(receipt["status"], 16) == 1
    assert int(receipt["blockNumber"], 16) == trade["blockNumber"]
    [log] = [entry for entry in receipt["logs"] if int(entry["logIndex"], 16) == trade["logIndex"]]
    assert log["topics"][0] == "0x" + TRADE_TOPIC.hex()
    assert uid[2:] in log["data"]
    assert [t["orderUid"] for t in calls["getTradesByOwner"]] == [uid]

    assert uid in [o["uid"] for o in calls["getTxOrders"]]
    assert {uid, stuck} <= {o["uid"] for o in calls["getOrders"]}
    assert calls["getOrderMultiEnv"]["uid"] == uid

    status = calls["getOrderCompetitionStatus"]
    assert status["type"] == "traded"
    assert status["value"][-1]["executedAmounts"]["buy"] == order["executedBuyAmount"]

    quote = calls["getQuote"]
    assert quote["quote"]["sellToken"] == node.weth and int(quote["quote"]["buyAmount"]) > 0
    assert calls["getNativePrice"]["price"] > 0
    assert int(calls["getTotalSurplus"]["totalSurplus"]) > 0  # filled above its limit

    assert calls["uploadAppData"] == calls["appDataHash"]
    assert calls["getAppData"] == {"fullAppData": APP_DATA}

    competition = calls["getSolverCompetitionByTx"]
    assert trade["txHash"] in competition["transactionHashes"]
    assert uid in competition["auction"]["orders"]
    [winner] = [s for s in competition["solutions"] if s["isWinner"]]
    assert uid in [o["id"] for o in winner["orders"]]
    if trades_path_version == "v1":
        assert isinstance(winner["solver"], str)  # the retired v1 shape
    else:
        assert winner["txHash"] == trade["txHash"]
    assert calls["getSolverCompetitionById"] == competition

    assert calls["getVersion"].startswith("tributary ")
    assert "error" not in (calls["sendSignedOrderCancellations"] or {})
    assert calls["getCancelledOrder"]["status"] == "cancelled"
    assert calls["getOrderLink"] == f"{node.url}/api/v1/orders/{uid}"


async def test_a_browser_posts_an_order(node: Node) -> None:
    trader = node.deployment.accounts[2]
    order = limit_order(
        trader.address, node.weth, node.token, node.unit, node.worth * 10, kind=OrderKind.SELL
    )
    origin = "https://dapp.example"
    async with aiohttp.ClientSession(node.url) as http:
        preflight = {
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        }
        async with http.options("/api/v1/orders", headers=preflight) as response:
            assert response.status == 204
            assert response.headers["Access-Control-Allow-Origin"] == "*"
            assert "POST" in response.headers["Access-Control-Allow-Methods"]
            assert "content-type" in response.headers["Access-Control-Allow-Headers"].lower()
        headers = {"Origin": origin, "Content-Type": "application/json"}
        body = encode(wallet_of(node.deployment, trader).sign_order(order))  # the raw request
        async with http.post("/api/v1/orders", data=body, headers=headers) as response:
            assert response.status == 201, await response.text()
            assert response.headers["Access-Control-Allow-Origin"] == "*"
