"""The auctioneer's budget follows the round's deadline: the solvers are due at the round's
start plus ``solve_time`` minus ``settle_time`` (building the auction comes out of their
share), an engine that overruns is not waited for, and each phase is timed."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from intents.chain import FakeChain
from solver import dto
from solver.auctioneer import LATE_GRACE, AuctioneerConfig
from solver.book_auction import FixedGasPrice
from solver.model import Auction, Solution
from tests.solver.test_auctioneer import CONFIG, OWNER, SELL, OnePool, auctioneer, stored

SOLVE_TIME, SETTLE_TIME = 0.6, 0.2


class Clocked:
    """Records the deadline it was given; overruns it by ``overrun`` seconds."""

    def __init__(self, overrun: float) -> None:
        self.overrun = overrun
        self.deadline: datetime | None = None

    @property
    def name(self) -> str:
        return "clocked"

    def solve(self, auction: Auction) -> list[Solution]:
        self.deadline = auction.deadline
        left = (auction.deadline - datetime.now(UTC)).total_seconds()
        time.sleep(max(left, 0.0) + self.overrun)
        return []


class SlowLiquidity(OnePool):
    async def liquidity(self) -> list[dto.Liquidity]:
        await asyncio.sleep(0.15)  # a slow node: the build phase eats into the solvers' share
        return await super().liquidity()


@pytest.mark.parametrize("overrun", [0.0, 1.5], ids=["punctual", "overrunning"])
async def test_the_solvers_get_the_deadline_minus_the_settlement_reserve(
    overrun: float, caplog: pytest.LogCaptureFixture
) -> None:
    chain = FakeChain()
    chain.balances[(OWNER, SELL)] = chain.allowances[(OWNER, SELL)] = 10**30
    a = auctioneer([stored()], chain)
    a.config = AuctioneerConfig(
        settlement=CONFIG.settlement,
        weth=CONFIG.weth,
        solve_time=SOLVE_TIME,
        settle_time=SETTLE_TIME,
    )
    a.liquidity = SlowLiquidity()
    a.gas_price = FixedGasPrice(1)
    engine = Clocked(overrun)
    a.engines = [engine]
    started = datetime.now(UTC)
    caplog.set_level(logging.INFO, logger="solver.auctioneer")
    async with aiohttp.ClientSession() as session:
        report = await a.run_round(session)
    assert report.error is None
    assert engine.deadline is not None
    due = engine.deadline - started
    assert timedelta(seconds=SOLVE_TIME - SETTLE_TIME) <= due
    assert due < timedelta(seconds=SOLVE_TIME - SETTLE_TIME + 0.1)
    assert set(report.phases) == {"build", "solve", "verify", "settle"}
    assert report.phases["build"] >= 0.15
    # solving got what building left of the solvers' share, and no more than a grace late
    share = SOLVE_TIME - SETTLE_TIME
    assert report.phases["build"] + report.phases["solve"] < share + LATE_GRACE + 0.15
    if overrun:
        assert "missed auction" in caplog.text
    assert "phases: build" in caplog.text


def test_the_settlement_reserve_must_leave_the_solvers_time() -> None:
    with pytest.raises(ValueError, match="settle_time"):
        AuctioneerConfig(
            settlement=CONFIG.settlement, weth=CONFIG.weth, solve_time=1, settle_time=1
        )
