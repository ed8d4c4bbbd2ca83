"""Shared devnet setup of the end-to-end tests."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from devnet.anvil import Devnet
from devnet.gpv2 import deploy_gpv2
from devnet.uniswap import ERC20, create_v2_pair, deploy_uniswap_v2, mint, wrap_eth
from intents.book import OrderBook, open_book
from intents.client import ApiError, TributaryClient
from intents.http import ApiSettings, create_app
from intents.types import TokenAddress
from intents.validation import OrderValidator
from intents.wire import OrderCreation
from settlement.chain_pools import ChainPool
from settlement.chain_reader import RpcChainReader
from settlement.deployment import Deployment
from settlement.hooks import RpcHookSimulator
from settlement.interactions import PoolKind
from settlement.jsonrpc import BatchingRpcClient
from settlement.submitter import Outcome
from solver.auctioneer import Auctioneer, RoundReport
from solver.liquidity_source import ChainLiquidity
from solver.model import executed_amounts
from solver.network import NetworkSettings, build_auctioneer

E18 = 10**18


@dataclass(frozen=True)
class Market:
    devnet: Devnet
    deployment: Deployment
    path: Path
    """Where the deployment is saved (for ``NetworkSettings.deployment``)."""
    pools: tuple[ChainPool, ...]

    @property
    def tka(self) -> TokenAddress:
        return self.deployment.tokens["TKA"]

    @property
    def tkb(self) -> TokenAddress:
        return self.deployment.tokens["TKB"]


@contextmanager
def devnet_market(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Market]:
    """A fresh devnet: GPv2 and WETH/TKA, WETH/TKB Uniswap V2 pairs (1 TKA = 1 TKB = 0.001
    WETH); the deployment's traders hold and have approved TKA and TKB."""
    with Devnet() as devnet:
        deployment = deploy_gpv2(devnet, ("TKA", "TKB"))
        v2 = deploy_uniswap_v2(devnet, deployment.weth)
        me = deployment.deployer.address
        pools = []
        for symbol in ("TKA", "TKB"):
            token = deployment.tokens[symbol]
            mint(devnet, token, me, 10**6 * E18)
            wrap_eth(devnet, deployment.weth, me, 1000 * E18)
            pair = create_v2_pair(devnet, v2, token, deployment.weth, 10**6 * E18, 1000 * E18)
            t0, t1 = sorted((token, deployment.weth), key=lambda a: int(a, 16))
            pools.append(ChainPool(PoolKind.UNISWAP_V2, pair, t0, t1, 3000, v2.router))
        path = tmp_path_factory.mktemp("devnet") / "devnet.json"
        deployment.save(path)
        yield Market(devnet, deployment, path, tuple(pools))


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """``app`` served on a free local port while the block runs; its base URL."""
    server = TestServer(app)
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


def demo_command(url: str, deployment: Path) -> list[str]:
    """``tributary demo`` against ``url`` as a command line."""
    return [
        sys.executable, "-m", "solver.cli", "demo", "--url", url,
        "--deployment", str(deployment), "--timeout", "30",
    ]  # fmt: skip


@dataclass
class Node:
    url: str
    book: OrderBook
    auctioneer: Auctioneer
    session: aiohttp.ClientSession
    """For the auctioneer's rounds and the endpoints the client does not cover."""
    client: TributaryClient
    """How the tests post, read and follow orders, as a user does."""


@asynccontextmanager
async def running_node(
    devnet: Devnet,
    deployment_path: Path,
    pools: Sequence[ChainPool],
    book_path: Path,
    settings: NetworkSettings | None = None,
) -> AsyncIterator[Node]:
    """The orderbook API over a fresh book at ``book_path`` plus an auctioneer over
    ``pools`` (``settings``: default all three engines); the chain is reverted after."""
    snapshot = devnet.snapshot()
    d = Deployment.load(deployment_path)
    rpc = BatchingRpcClient(d.rpc_url)
    book = await open_book(f"sqlite:///{book_path}")
    chain = RpcChainReader(rpc, d.settlement, d.vault_relayer)
    hooks = RpcHookSimulator(rpc, d.settlement, d.hooks_trampoline) if d.hooks_trampoline else None
    validator = OrderValidator(
        domain_separator=d.domain_separator, chain=chain, book=book, hooks=hooks
    )
    app = create_app(book=book, validator=validator, settings=ApiSettings(settlement=d.settlement))
    server = TestServer(app)
    await server.start_server()
    auctioneer, _tracker = build_auctioneer(
        settings or NetworkSettings(deployment=deployment_path),
        rpc=rpc,
        book=book,
        chain=chain,
        liquidity=ChainLiquidity(rpc, pools),
    )
    session = aiohttp.ClientSession()
    url = str(server.make_url("")).rstrip("/")
    try:
        async with TributaryClient(url) as client:
            yield Node(url, book, auctioneer, session, client)
    finally:
        await session.close()
        await server.close()
        await book.close()
        await rpc.close()
        devnet.revert(snapshot)


async def refusal(client: TributaryClient, creation: OrderCreation) -> ApiError:
    """The node's refusal of ``creation`` (the test fails if the order is taken)."""
    with pytest.raises(ApiError) as refused:
        await client.post_order(creation)
    return refused.value


def token_balances(
    devnet: Devnet, owners: Sequence[str], tokens: Sequence[str]
) -> dict[tuple[str, str], int]:
    """``balanceOf`` of every (owner, token), in one batch."""
    calls = [(ERC20, t, "balanceOf", (o,)) for o in owners for t in tokens]
    values = devnet.call_many(calls)
    return {(o, t): v[0] for (_, t, _, (o,)), v in zip(calls, values, strict=True)}


def promised(reports: Sequence[RoundReport]) -> dict[tuple[str, str], int]:
    """Net balance change per (owner, token) that the settled winners promised: their
    executed amounts at their clearing prices, rounded as GPv2 rounds."""
    change: dict[tuple[str, str], int] = {}
    for report in reports:
        if report.auction is None:
            continue
        orders = {o.uid: o for o in report.auction.orders}
        for winner, submission in report.submissions:
            if submission.outcome is not Outcome.SETTLED:
                continue
            solution = winner.solution
            for trade in solution.trades:
                order = orders[trade.order]
                sold, bought = executed_amounts(order, trade, solution.prices)
                key_sell, key_buy = (order.owner, order.sell_token), (order.owner, order.buy_token)
                change[key_sell] = change.get(key_sell, 0) - sold
                change[key_buy] = change.get(key_buy, 0) + bought
    return change
