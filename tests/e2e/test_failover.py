"""Failover (issue 5, acceptance 4): two nodes share one PostgreSQL order book and one devnet;
only the elected one runs auctions. When the leader dies, the other takes over within a few
seconds and keeps settling, and no order is settled twice: every order has exactly one
``Trade`` event, and the settlement contract's ``filledAmount`` agrees with the book.

Twice: with two ``tributary serve`` processes, the leader SIGKILLed; and with two nodes in
this process (each with its own order-book pool, RPC client, API, auctioneer and
``PostgresLeader`` connection), where the leader dies as a killed process does: its
auctioneer stops without cleanup and its database connections drop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestServer
from eth_abi.abi import decode

from bench.intake import free_port
from devnet.anvil import Devnet
from devnet.artifacts import COW, load_artifact
from devnet.gpv2 import deploy_gpv2
from devnet.serve import prepare_devnet
from intents.book_postgres import PostgresBook
from intents.client import OrderQuoteRequest, TributaryClient
from intents.http import ApiSettings, create_app
from intents.keccak import keccak256
from intents.order import OrderKind, OrderStatus
from intents.types import OrderUid, TokenAddress
from intents.validation import OrderValidator
from intents.wire import U256, OrderCreation, OrderResponse, parse_uid
from settlement.chain_reader import RpcChainReader
from settlement.deployment import Deployment
from settlement.fills import Fill
from settlement.jsonrpc import BatchingRpcClient
from solver import dto
from solver.auctioneer import Auctioneer
from solver.demo import limit_order, wallet_of
from solver.leader import PostgresLeader
from solver.liquidity_source import ChainLiquidity
from solver.network import NetworkSettings, build_auctioneer, pools_from_deployment
from tests.e2e.helpers import E18, Market, devnet_market

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
TRADE_TOPIC = (
    "0x" + keccak256(b"Trade(address,address,address,uint256,uint256,uint256,bytes)").hex()
)
TAKEOVER_SECONDS = 5.0
SETTLE_SECONDS = 60.0


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Market]:
    with devnet_market(tmp_path_factory) as market:
        yield market


@dataclass
class Node:
    name: str
    url: str
    book: PostgresBook
    leader: PostgresLeader
    auctioneer: Auctioneer
    task: asyncio.Task[None]


@contextlib.asynccontextmanager
async def running_node(market: Market, name: str, schema: str, key: int) -> AsyncIterator[Node]:
    """One node: API + auctioneer over the shared book, campaigning for ``key``."""
    d = market.deployment
    rpc = BatchingRpcClient(d.rpc_url)
    book = await PostgresBook.open(PG_URL, schema=schema)
    chain = RpcChainReader(rpc, d.settlement, d.vault_relayer)
    validator = OrderValidator(domain_separator=d.domain_separator, chain=chain, book=book)
    server = TestServer(
        create_app(book=book, validator=validator, settings=ApiSettings(settlement=d.settlement))
    )
    await server.start_server()
    leader = PostgresLeader(PG_URL, key=key, retry_seconds=0.25, name=name)
    await leader.__aenter__()
    auctioneer, _tracker = build_auctioneer(
        NetworkSettings(deployment=market.path, engines=("optimal",), interval=0.5, solve_time=2),
        rpc=rpc,
        book=book,
        chain=chain,
        liquidity=ChainLiquidity(rpc, market.pools),
        leadership=leader,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(auctioneer.run(stop), name=f"auctioneer-{name}")
    try:
        yield Node(name, str(server.make_url("")).rstrip("/"), book, leader, auctioneer, task)
    finally:
        stop.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await leader.__aexit__(None, None, None)
        await server.close()
        await book.close()
        await rpc.close()


async def kill(node: Node) -> None:
    """Stop ``node`` as SIGKILL would: no graceful end of its round, connections dropped."""
    node.task.cancel()
    await node.leader.__aexit__(None, None, None)  # its lock connection is gone
    await node.book.close()


@pytest.fixture
async def shared_schema() -> AsyncIterator[str]:
    try:
        connection = await asyncpg.connect(PG_URL, timeout=2)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        pytest.skip(f"PostgreSQL is not reachable at {PG_URL}: {exc}")
    schema = f"test_failover_{uuid.uuid4().hex[:8]}"
    try:
        yield schema
    finally:
        await connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await connection.close()


async def wait_status(book: PostgresBook, uids: list[str], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        states = [await book.get(OrderUid(parse_uid(uid))) for uid in uids]
        if all(s is not None and s.status is OrderStatus.FILLED for s in states):
            return
        assert time.monotonic() < deadline, [s.status if s else None for s in states]
        await asyncio.sleep(0.2)


def trades_on_chain(market: Market) -> dict[bytes, int]:
    """Number of ``Trade`` events per order UID emitted by the settlement contract."""
    logs = market.devnet.rpc(
        "eth_getLogs",
        {"address": market.deployment.settlement, "fromBlock": "0x0", "topics": [TRADE_TOPIC]},
    )
    count: dict[bytes, int] = {}
    for log in logs:
        *_, uid = decode(
            ["address", "address", "uint256", "uint256", "uint256", "bytes"],
            bytes.fromhex(log["data"][2:]),
        )
        count[uid] = count.get(uid, 0) + 1
    return count


async def test_the_follower_takes_over_and_no_order_settles_twice(
    market: Market, shared_schema: str
) -> None:
    d = market.deployment
    tka, tkb = TokenAddress(d.tokens["TKA"]), TokenAddress(d.tokens["TKB"])
    traders = d.accounts
    key = secrets.randbits(62)

    def order_body(i: int, buy: TokenAddress) -> OrderCreation:
        """Trader ``i`` sells 0.1 WETH for at least 90 of ``buy`` (the pool gives ~99)."""
        account = traders[i % len(traders)]
        order = limit_order(account.address, d.weth, buy, E18 // 10, 90 * E18 + i)
        return wallet_of(d, account).sign_order(order)

    async with running_node(market, "a", shared_schema, key) as a:
        await asyncio.wait_for(a.leader.wait_leader(), TAKEOVER_SECONDS)
        async with (
            running_node(market, "b", shared_schema, key) as b,
            TributaryClient(a.url) as to_a,
            TributaryClient(b.url) as to_b,
        ):
            await asyncio.sleep(0.5)
            assert not b.leader.leading
            first = [await to_a.post_order(order_body(i, tka)) for i in range(2)]
            await wait_status(b.book, first, SETTLE_SECONDS)  # b's book sees a's fills
            assert b.auctioneer.rounds == 0, "the follower ran an auction"

            killed_at = time.monotonic()
            await kill(a)
            await asyncio.wait_for(b.leader.wait_leader(), TAKEOVER_SECONDS)
            takeover = time.monotonic() - killed_at
            assert takeover < TAKEOVER_SECONDS

            second = [await to_b.post_order(order_body(i, tkb)) for i in range(2, 4)]
            await wait_status(b.book, second, SETTLE_SECONDS)
            assert b.auctioneer.rounds > 0

            settle_art = load_artifact(COW, "GPv2Settlement")
            trades = trades_on_chain(market)
            for uid in first + second:
                raw = parse_uid(uid)
                stored = await b.book.get(OrderUid(raw))
                assert stored is not None
                (filled,) = market.devnet.call(settle_art, d.settlement, "filledAmount", raw)
                assert trades.get(raw) == 1, f"order {uid} settled {trades.get(raw)} times"
                assert filled == stored.executed_sell_amount == stored.order.sell_amount


async def test_a_leader_killed_between_mining_and_recording_leaves_no_order_open(
    market: Market, shared_schema: str
) -> None:
    """The leader's settlement is mined, then the leader dies before writing the fill: the
    new leader reads the fill from the chain instead of settling the order again."""
    d = market.deployment
    account = d.accounts[0]
    order = limit_order(account.address, d.weth, TokenAddress(d.tokens["TKA"]), E18 // 10, 90 * E18)
    key = secrets.randbits(62)
    async with (
        running_node(market, "a", shared_schema, key) as a,
        TributaryClient(a.url) as to_a,
    ):
        await asyncio.wait_for(a.leader.wait_leader(), TAKEOVER_SECONDS)
        mined = asyncio.Event()

        async def die_before_recording(*_: object) -> list[Fill]:
            mined.set()
            await asyncio.Event().wait()  # hangs until the node is killed
            return []

        a.auctioneer.submitter.tracker.track = die_before_recording  # type: ignore[method-assign,assignment]
        async with running_node(market, "b", shared_schema, key) as b:
            uid = await to_a.post_order(wallet_of(d, account).sign_order(order))
            await asyncio.wait_for(mined.wait(), SETTLE_SECONDS)
            await kill(a)
            stored = await b.book.get(OrderUid(parse_uid(uid)))
            assert stored is not None and stored.status is OrderStatus.OPEN
            await asyncio.wait_for(b.leader.wait_leader(), TAKEOVER_SECONDS)
            await wait_status(b.book, [uid], SETTLE_SECONDS)
            assert trades_on_chain(market).get(parse_uid(uid)) == 1
            assert all(not r.submissions for r in b.auctioneer.reports)  # nothing retried


# -- two node processes ----------------------------------------------------------------------


@pytest.fixture
async def database() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for the nodes' book (they use its public schema)."""
    try:
        admin = await asyncpg.connect(PG_URL, timeout=2)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        pytest.skip(f"PostgreSQL is not reachable at {PG_URL}: {exc}")
    name = f"tributary_failover_{uuid.uuid4().hex[:8]}"
    await admin.execute(f"CREATE DATABASE {name}")
    try:
        yield PG_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


@dataclass
class Process:
    url: str
    log: Path
    popen: subprocess.Popen[bytes]

    def leads(self) -> bool:
        return "leads the auctioneer" in self.log.read_text()


def _spawn(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)


async def start_node(
    name: str, rpc_url: str, deployment: Path, database: str, *extra: str
) -> Process:
    port = free_port()
    log = deployment.parent / f"{name}.log"
    command = [
        sys.executable, "-m", "solver.cli", "serve", "--port", str(port),
        "--rpc-url", rpc_url, "--deployment", str(deployment), "--database", database,
        "--auction-interval", "0.5", "--solve-time", "2", *extra,
    ]  # fmt: skip
    popen = _spawn(command, log)
    node = Process(f"http://127.0.0.1:{port}", log, popen)
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as http:
        while True:
            assert popen.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, f"node {name} not healthy"
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(node.url + "/healthz") as response:
                    if response.status == 200:
                        return node
            await asyncio.sleep(0.3)


async def wait_fulfilled(node: TributaryClient, uids: list[str]) -> list[OrderResponse]:
    """Every order of ``uids`` once fulfilled, followed on ``node``'s status events (each
    replica's feed carries every replica's changes), within ``SETTLE_SECONDS``."""
    waits = (node.wait(uid, until={"fulfilled"}, within=SETTLE_SECONDS) for uid in uids)
    return list(await asyncio.gather(*waits))


# the devnet, its deployment and file, the deepest WETH pool's other token, an order size in
# WETH and its worth in that token, and a signed limit order per index
ServedDevnet = tuple[
    Devnet, Deployment, Path, TokenAddress, int, int, Callable[[int], OrderCreation]
]


@contextlib.asynccontextmanager
async def served_devnet(tmp_path: Path) -> AsyncIterator[ServedDevnet]:
    """A devnet prepared as ``tributary serve`` would, with orders to post to it."""
    with Devnet() as devnet:
        d = deploy_gpv2(devnet)
        path = tmp_path / "devnet.json"
        d.save(path)
        prepare_devnet(devnet, d, path, 1)
        async with BatchingRpcClient(d.rpc_url) as rpc:
            pools = [
                p
                for p in await pools_from_deployment(path, rpc).liquidity()
                if isinstance(p, dto.ConstantProductPool) and d.weth in p.tokens
            ]
        pool = max(pools, key=lambda p: int(p.tokens[d.weth].balance))
        (token,) = [TokenAddress(t) for t in pool.tokens if t != d.weth]
        unit = min(int(pool.tokens[d.weth].balance) // 10_000, 10**17)
        worth = int(pool.tokens[token].balance) * unit // int(pool.tokens[d.weth].balance)

        def order_body(i: int) -> OrderCreation:
            account = d.accounts[i % len(d.accounts)]
            order = limit_order(account.address, d.weth, token, unit, worth * 9 // 10 + i)
            return wallet_of(d, account).sign_order(order)

        yield devnet, d, path, token, unit, worth, order_body


@pytest.mark.slow
async def test_sigkilling_the_leader_node_hands_over_to_the_other(
    tmp_path: Path, database: str
) -> None:
    async with served_devnet(tmp_path) as (devnet, d, path, token, unit, worth, order_body):
        nodes = [await start_node(n, d.rpc_url, path, database) for n in ("a", "b")]
        try:
            deadline = time.monotonic() + 10
            while sum(n.leads() for n in nodes) == 0:
                assert time.monotonic() < deadline, "no node leads"
                await asyncio.sleep(0.2)
            await asyncio.sleep(1.0)  # a second elector would have won by now
            assert sum(n.leads() for n in nodes) == 1
            leader, follower = nodes if nodes[0].leads() else nodes[::-1]
            async with (
                TributaryClient(leader.url) as to_leader,
                TributaryClient(follower.url) as to_follower,
            ):
                first = [await to_leader.post_order(order_body(i)) for i in range(2)]
                await wait_fulfilled(to_follower, first)
                assert "winners" not in follower.log.read_text()

                os.kill(leader.popen.pid, signal.SIGKILL)
                killed_at = time.monotonic()
                leader.popen.wait(10)
                while not follower.leads():
                    assert time.monotonic() - killed_at < TAKEOVER_SECONDS, "no takeover"
                    await asyncio.sleep(0.1)

                # the survivor also quotes, over the auctioneer's on-chain liquidity
                request = OrderQuoteRequest(
                    sell_token=d.weth,
                    buy_token=token,
                    from_=d.accounts[0].address,
                    kind=OrderKind.SELL,
                    sell_amount_before_fee=U256(unit),
                )
                quote = (await to_follower.quote(request)).quote
                assert int(quote.sell_amount) + int(quote.fee_amount) == unit
                assert int(quote.buy_amount) > worth * 9 // 10

                second = [await to_follower.post_order(order_body(i)) for i in range(2, 4)]
                states = await wait_fulfilled(to_follower, first + second)
        finally:
            for node in nodes:
                if node.popen.poll() is None:
                    node.popen.terminate()
                    node.popen.wait(20)

        settle_art = load_artifact(COW, "GPv2Settlement")
        logs = devnet.rpc(
            "eth_getLogs", {"address": d.settlement, "fromBlock": "0x0", "topics": [TRADE_TOPIC]}
        )
        trades: dict[bytes, int] = {}
        for log in logs:
            *_, raw = decode(
                ["address", "address", "uint256", "uint256", "uint256", "bytes"],
                bytes.fromhex(log["data"][2:]),
            )
            trades[raw] = trades.get(raw, 0) + 1
        for uid, state in zip(first + second, states, strict=True):
            raw = parse_uid(uid)
            (filled,) = devnet.call(settle_art, d.settlement, "filledAmount", raw)
            assert trades.get(raw) == 1, f"order {uid} settled {trades.get(raw)} times"
            assert filled == int(state.executed_sell_amount) == unit
