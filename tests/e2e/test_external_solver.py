"""Acceptance 2 of issue 5: a second ``tributary solve-engine`` process competes with the
in-process routing engine over HTTP and its better-scoring solution wins; an external engine that
answers with a solution violating a limit price is rejected with a logged reason."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bench.intake import free_port
from intents.book import open_book
from intents.client import TributaryClient
from intents.http import ApiSettings, create_app
from intents.order import OrderStatus
from intents.types import OrderUid
from intents.validation import OrderValidator
from intents.wire import parse_uid
from settlement.chain_reader import RpcChainReader
from settlement.jsonrpc import BatchingRpcClient
from solver import dto
from solver.checks import Rejection
from solver.demo import limit_order, wallet_of
from solver.liquidity_source import ChainLiquidity
from solver.network import NetworkSettings, build_auctioneer
from tests.e2e.helpers import E18, Market, serving
from tests.e2e.test_auction import market

__all__ = ["market"]  # the module-scoped devnet fixture, shared with test_auction


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def solve_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """``tributary solve-engine --engine batch`` as its own process; its base URL and log."""
    port = free_port()
    log = tmp_path_factory.mktemp("engine") / "engine.log"
    cmd = [sys.executable, "-m", "solver.cli", "solve-engine", "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen([*cmd, "--engine", "batch"], stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not _listening(port):
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "solve-engine did not start"
            time.sleep(0.1)
        yield url, log
    finally:
        proc.terminate()
        proc.wait(10)


async def _cheating_solve(request: web.Request) -> web.Response:
    """Fill the first order completely at half its limit price, with no interactions."""
    auction = dto.decode_auction(await request.read())
    order = auction.orders[0]
    solution = dto.Solution(
        id=7,
        prices={order.sell_token: dto.U256(1), order.buy_token: dto.U256(2)},
        trades=[
            dto.Fulfillment(order=order.uid, executed_amount=order.sell_amount, fee=dto.U256(0))
        ],
        interactions=[],
    )
    return web.Response(body=dto.encode_solutions([solution]), content_type="application/json")


@pytest.fixture
async def cheater() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/solve", _cheating_solve)
    async with serving(app) as url:
        yield url


async def test_external_engine_wins_and_cheater_is_rejected(
    market: Market,
    solve_engine: tuple[str, Path],
    cheater: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    snapshot = market.devnet.snapshot()
    d = market.deployment
    rpc = BatchingRpcClient(d.rpc_url)
    book = await open_book(f"sqlite:///{tmp_path / 'book.sqlite3'}")
    chain = RpcChainReader(rpc, d.settlement, d.vault_relayer)
    validator = OrderValidator(domain_separator=d.domain_separator, chain=chain, book=book)
    server = TestServer(
        create_app(book=book, validator=validator, settings=ApiSettings(settlement=d.settlement))
    )
    await server.start_server()
    auctioneer, _ = build_auctioneer(
        NetworkSettings(
            deployment=market.path,
            engines=("optimal",),
            external=(solve_engine[0], cheater),
            solve_time=5.0,
        ),
        rpc=rpc,
        book=book,
        chain=chain,
        liquidity=ChainLiquidity(rpc, market.pools),
    )
    a = d.accounts
    try:
        url = str(server.make_url("")).rstrip("/")
        async with aiohttp.ClientSession() as http, TributaryClient(url) as node:
            # limits loose enough for routing alone (baseline bids), a CoW pays more (batch)
            uids = [
                await node.post_order(
                    wallet_of(d, a[0]).sign_order(
                        limit_order(a[0].address, market.tka, market.tkb, 100 * E18, 97 * E18)
                    )
                ),
                await node.post_order(
                    wallet_of(d, a[1]).sign_order(
                        limit_order(a[1].address, market.tkb, market.tka, 100 * E18, 97 * E18)
                    )
                ),
            ]
            with caplog.at_level(logging.INFO):
                report = await auctioneer.run_round(http)
        assert report.error is None, report.error
        assert report.bids.get("optimal", 0) >= 1
        assert report.bids.get("external-0", 0) >= 1
        assert report.bids.get("external-1") == 1
        # the cheater: rejected for its limit price, and the reason is in the log
        assert [(s, i, c) for s, i, c, _ in report.rejected if s == "external-1"] == [
            ("external-1", 7, Rejection.LIMIT_PRICE_VIOLATED)
        ]
        assert any(
            "external-1" in r.getMessage() and "LimitPriceViolated" in r.getMessage()
            for r in caplog.records
        )
        # the batch engine's CoW scores above routing each order alone: it wins, alone
        assert [w.solver for w in report.winners] == ["external-0"]
        (winner,) = report.winners
        assert report.ranking is not None
        routed = [
            b.score
            for b in (*report.ranking.ranked, *report.ranking.unfair)
            if b.solver == "optimal"
        ]
        assert routed and winner.score > max(routed)
        for uid in uids:
            stored = await book.get(OrderUid(parse_uid(uid)))
            assert stored is not None and stored.status is OrderStatus.FILLED
        # the winner was told over /notify, with the settlement's transaction
        ((_, submission),) = report.submissions
        assert submission.mined is not None
        tx = submission.mined.tx_hash.hex()
        engine_log = solve_engine[1].read_text()
        assert f"notification: Success for auction 1 solution {winner.solution_id}" in engine_log
        assert tx in engine_log
    finally:
        await server.close()
        await book.close()
        await rpc.close()
        market.devnet.revert(snapshot)
