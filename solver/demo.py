"""``tributary demo``: a handful of signed intents from several funded devnet accounts,
posted to a running node, followed until final, and how each was filled.

The intents trade WETH against the token of the deepest seeded WETH pair, priced from that
pair's reserves: a market-like sell, a coincidence of wants (two users selling each other's
token within 1% of the pair's price: matched against each other when that pays them more
than routing each alone, routed otherwise), a partially fillable limit sell, and a buy
order.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from intents.client import TributaryClient, Wallet
from intents.order import Order, OrderKind, OrderStatus
from intents.types import Address, TokenAddress
from intents.wire import OrderResponse, encode
from settlement.deployment import Account, Deployment
from settlement.jsonrpc import BatchingRpcClient
from solver import dto
from solver.network import pools_from_deployment


@dataclass(frozen=True, slots=True)
class Intent:
    label: str
    account: Account
    order: Order


def wallet_of(deployment: Deployment, account: Account) -> Wallet:
    """The client ``Wallet`` of a devnet account."""
    return Wallet(
        account.private_key, chain_id=deployment.chain_id, settlement=deployment.settlement
    )


def signed_body(deployment: Deployment, account: Account, order: Order) -> bytes:
    """The ``OrderCreation`` JSON of ``order`` signed (EIP-712) by ``account``."""
    return encode(wallet_of(deployment, account).sign_order(order))


def limit_order(
    owner: Address,
    sell: TokenAddress,
    buy: TokenAddress,
    sell_amount: int,
    buy_amount: int,
    *,
    kind: OrderKind = OrderKind.SELL,
    partial: bool = False,
    valid_for: int = 600,
) -> Order:
    return Order(
        sell_token=sell,
        buy_token=buy,
        receiver=owner,
        sell_amount=sell_amount,
        buy_amount=buy_amount,
        valid_to=int(time.time()) + valid_for,
        app_data=bytes(32),
        fee_amount=0,
        kind=kind,
        partially_fillable=partial,
    )


async def post(http: aiohttp.ClientSession, url: str, body: bytes) -> str:
    """Post an order; its UID (raises with the API's error body otherwise)."""
    async with http.post(
        f"{url}/api/v1/orders", data=body, headers={"Content-Type": "application/json"}
    ) as response:
        answer = await response.json()
        if response.status != 201:
            raise RuntimeError(f"order refused: HTTP {response.status} {answer}")
        return str(answer)


async def order_state(http: aiohttp.ClientSession, url: str, uid: str) -> dict[str, object]:
    async with http.get(f"{url}/api/v1/orders/{uid}") as response:
        response.raise_for_status()
        state: dict[str, object] = await response.json()
        return state


def demo_intents(deployment: Deployment, pool: dto.ConstantProductPool) -> list[Intent]:
    """The demo's intents against ``pool`` (a WETH pair): amounts from its reserves."""
    weth = deployment.weth
    (token,) = [TokenAddress(t) for t in pool.tokens if t != weth]
    w, t = int(pool.tokens[weth].balance), int(pool.tokens[token].balance)
    a = deployment.accounts
    unit = min(w // 10_000, 10**17)  # <= 0.01% of the pool, the partial order <= 20 WETH
    at = t * unit // w  # the same value in the token
    return [
        Intent(
            "market sell WETH", a[0], limit_order(a[0].address, weth, token, unit, at * 9 // 10)
        ),
        Intent(
            "CoW: sells WETH", a[1], limit_order(a[1].address, weth, token, unit, at * 99 // 100)
        ),
        Intent(
            "CoW: sells token", a[2], limit_order(a[2].address, token, weth, at, unit * 99 // 100)
        ),
        Intent(
            "partially fillable limit sell",
            a[3],
            limit_order(
                a[3].address, weth, token, 200 * unit, 200 * at * 990 // 1000, partial=True
            ),
        ),
        Intent(
            "buy token",
            a[4 % len(a)],
            limit_order(
                a[4 % len(a)].address, weth, token, unit * 11 // 10, at // 2, kind=OrderKind.BUY
            ),
        ),
    ]


async def follow_until_settled(node: TributaryClient, uid: str) -> OrderResponse:
    """The order once final, or once a partially fillable one has traded (it stays open
    for more), following its status events."""
    async for event in node.follow(uid=uid):
        if event.status is not OrderStatus.OPEN:
            break
    return await node.order(uid)


async def run_demo(url: str, deployment_path: str, wait_s: float) -> int:
    """Post the demo intents to the node at ``url`` and print how each was filled."""
    deployment = Deployment.load(deployment_path)
    async with BatchingRpcClient(deployment.rpc_url) as rpc:
        source = pools_from_deployment(Path(deployment_path), rpc)
        pools = [
            p
            for p in await source.liquidity()
            if isinstance(p, dto.ConstantProductPool) and deployment.weth in p.tokens
        ]
    if not pools:
        print("no seeded WETH pair in the deployment: start the node on the built-in devnet")
        return 1
    deepest = max(pools, key=lambda p: int(p.tokens[deployment.weth].balance))
    intents = demo_intents(deployment, deepest)
    async with TributaryClient(url) as node:
        uids = [
            await node.post_order(wallet_of(deployment, i.account).sign_order(i.order))
            for i in intents
        ]
        for intent, uid in zip(intents, uids, strict=True):
            print(f"posted {intent.label}: {uid}")
        try:
            async with asyncio.timeout(wait_s):
                states = await asyncio.gather(*(follow_until_settled(node, u) for u in uids))
        except TimeoutError:
            states = [await node.order(uid) for uid in uids]
    for intent, s in zip(intents, states, strict=True):
        print(
            f"{intent.label:32} {s.status:16} sold {s.executed_sell_amount} "
            f"(+fee {s.executed_fee_amount}), bought {s.executed_buy_amount}"
        )
    return 0


def demo_command(args: argparse.Namespace) -> int:
    """Entry point of ``tributary demo``."""
    return asyncio.run(run_demo(args.url.rstrip("/"), args.deployment, args.timeout))
