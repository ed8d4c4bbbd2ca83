"""A real CoW client against a real node: orders signed by ``@cowprotocol/contracts`` +
ethers (the code ``@cowprotocol/cow-sdk`` signs with) and posted by Python and by the SDK's
own ``OrderBookApi`` to ``tributary serve`` running against the devnet (real chain reader:
balances and allowances from anvil)."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bench.intake import ServerProcess
from settlement.deployment import Deployment
from tests.intents.strategies import SIGNED_FIELDS

SCRIPT = Path(__file__).with_name("cow_sdk_sign.mjs")


@pytest.fixture(scope="module")
def server(devnet: Deployment, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp("cow-sdk")
    deployment_file = workdir / "devnet.json"
    devnet.save(deployment_file)
    database = f"sqlite:///{workdir / 'orderbook.sqlite3'}"
    with ServerProcess(deployment_file, database, workdir / "server.log") as process:
        yield process


def sdk(devnet: Deployment, orders: list[dict[str, Any]], api_url: str | None = None) -> Any:
    """Run the client script; its JSON answer."""
    trader = devnet.accounts[-1]
    request = {
        "chainId": devnet.chain_id,
        "settlement": devnet.settlement,
        "privateKey": trader.private_key,
        "orders": orders,
        **({"apiUrl": api_url} if api_url else {}),
    }
    done = subprocess.run(
        ["node", str(SCRIPT)],
        input=json.dumps(request).encode(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


def spec(devnet: Deployment, kind: str, sell: str, buy: str, **changes: Any) -> dict[str, Any]:
    order = {
        "sellToken": devnet.tokens[sell],
        "buyToken": devnet.tokens[buy],
        "receiver": devnet.accounts[-1].address,
        "sellAmount": str(10**18),
        "buyAmount": str(5 * 10**17),
        "validTo": int(time.time()) + 1800,
        "appData": "0x" + "00" * 32,
        "feeAmount": "0",
        "kind": kind,
        "partiallyFillable": False,
    }
    order.update(changes)
    return order


async def test_sdk_signed_sell_and_buy_orders_are_accepted_with_the_sdk_uid(
    devnet: Deployment, server: ServerProcess
) -> None:
    signed = sdk(
        devnet,
        [
            spec(devnet, "sell", "TKA", "TKB"),
            spec(devnet, "buy", "TKB", "TKC", receiver="0x" + "42" * 20, partiallyFillable=True),
        ],
    )
    async with aiohttp.ClientSession(server.url) as http:
        for item in signed["orders"]:
            async with http.post("/api/v1/orders", json=item["creation"]) as response:
                assert response.status == 201, await response.text()
                assert await response.json() == item["uid"]
            async with http.get(f"/api/v1/orders/{item['uid']}") as response:
                assert response.status == 200
                got = await response.json()
            for field in SIGNED_FIELDS:
                assert got[field] == item["creation"][field], field
            assert (got["uid"], got["owner"], got["status"]) == (
                item["uid"],
                signed["owner"],
                "open",
            )
            assert got["settlementContract"] == devnet.settlement


async def test_the_sdk_order_book_api_posts_and_reads_back(
    devnet: Deployment, server: ServerProcess
) -> None:
    signed = sdk(
        devnet,
        [spec(devnet, "sell", "TKC", "TKA", feeAmount=str(10**15), buyAmount="7")],
        api_url=server.url,
    )
    [item] = signed["orders"]
    assert item["posted"] == item["uid"]
    for field in SIGNED_FIELDS:
        assert item["fetched"][field] == item["creation"][field], field


async def test_balance_is_read_from_the_chain(devnet: Deployment, server: ServerProcess) -> None:
    too_much = str(10**30)  # the devnet funds each trader with 10**24 of each token
    signed = sdk(devnet, [spec(devnet, "sell", "TKA", "TKC", sellAmount=too_much)])
    [item] = signed["orders"]
    async with (
        aiohttp.ClientSession(server.url) as http,
        http.post("/api/v1/orders", json=item["creation"]) as response,
    ):
        assert response.status == 400
        assert (await response.json())["errorType"] == "InsufficientBalance"
        async with http.get(f"/api/v1/orders/{item['uid']}") as missing:
            assert missing.status == 404
