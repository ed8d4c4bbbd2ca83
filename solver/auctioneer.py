"""The auctioneer: every ``interval`` seconds, one batch auction from the open orders.

A round: expire old orders; take the open ones; leave out those whose owner no longer has
the balance and allowance to pay (one batched read); read the liquidity; build the
solver-engine auction (reference prices from the liquidity); ask the in-process engines
and the external solvers at once under a deadline; check every solution (limit prices,
uniform prices, token flows, and a simulation of its settlement on the chain); score them
and run the fair combinatorial auction; settle each winner (``Submitter.submit``), whose
``FillTracker`` writes the fills back to the order book. Every round is logged; a round
that fails is logged and the loop goes on.

A round starts by bringing the book up to the chain (``FillIndexer.catch_up``): fills of
settlements the book has not recorded, e.g. one mined just before the previous leader
died, are recorded first, so their orders are not auctioned again; then the pre-signatures
(``PresignatureIndexer.catch_up``), so a ``presign`` order is auctioned once it is signed
on chain and no longer once it is revoked (the book's open orders leave pending ones out).

Given a ``same_chain`` check (``ChainGuard.verify``: the chain's identity, one batched
read), a round starts only once the node answers as the chain recorded at start: a node
that is down or swapped for another chain pauses the auctions (logged once, by the
breaker and the guard), and a round the chain fails in the middle of is one warning line.

It runs only while the injected ``Leadership`` says this node leads (one auctioneer per
network: the PostgreSQL book elects it with an advisory lock; ``AlwaysLeader`` otherwise),
and submits a winner only if it has led without interruption since the round began.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

import aiohttp

from intents.book import OrderBook
from intents.chain import ChainReader
from intents.order import StoredOrder
from intents.records import HookFailureRecord
from intents.types import Address, OrderUid, TokenAddress
from intents.wire import to_hex
from routing.pool import TokenAddress as PoolToken
from settlement.chain_pools import ChainPool
from settlement.encoding import Settlement
from settlement.fills import FillIndexer
from settlement.jsonrpc import ChainReadError
from settlement.presignatures import PresignatureIndexer
from settlement.submitter import Outcome, SettlementReverted, Submission, Submitter
from solver import dto_notification, order_hooks
from solver.book_auction import (
    BookAuction,
    GasPriceSource,
    RpcGasPrice,
    book_auction,
    order_from_book,
)
from solver.checks import SolutionRejected, check_solution, verify_solution
from solver.competition import Bid, Ranking, arbitrate
from solver.competition_record import competition_record
from solver.engines import Engine, solve_all
from solver.external import ExternalSolver
from solver.fee_policies import FeeConfig, order_quotes
from solver.fee_sweep import sweep_if_due
from solver.leader import AlwaysLeader, Leadership
from solver.liquidity_source import LiquiditySource
from solver.model import Auction, Solution
from solver.protocol_fee import FeeError, charge_solution
from solver.scoring import ScoringError
from solver.scoring import bid as make_bid
from solver.solution_settlement import settlement_of

logger = logging.getLogger(__name__)

LATE_GRACE = 0.2
"""Seconds past the solvers' deadline an answer may take to arrive (thread hand-off, HTTP)."""
PAUSED = "paused: the chain does not answer, or is not the one recorded at start"
"""``RoundReport.error`` of a round that did not run."""


@dataclass(frozen=True, slots=True)
class AuctioneerConfig:
    settlement: Address
    weth: TokenAddress
    v3_router: Address | None = None
    hooks_trampoline: Address | None = None
    """Orders' appData hooks run through it; without one, no hook is run."""
    interval: float = 2.0
    """Seconds between the starts of two rounds."""
    solve_time: float = 3.0
    """Seconds from a round's start to its auction's deadline."""
    settle_time: float = 0.5
    """Seconds of that deadline kept for checking (simulating) the solutions and settling
    the winners: the solvers' deadline is the round's start plus ``solve_time`` minus this
    (what the round's fund check and liquidity read take comes out of the solvers' share)."""
    max_winners: int = 10
    fees: FeeConfig | None = None
    """Protocol fee policies and the partner fee cap (``solver.fee_policies``); ``None``:
    no fee is charged."""

    def __post_init__(self) -> None:
        if not 0 <= self.settle_time < self.solve_time:
            raise ValueError("settle_time must leave the solvers part of solve_time")


@dataclass
class RoundReport:
    """What one round did (also logged)."""

    auction_id: int
    term: int
    """The leadership term the round ran in; it settles nothing once that term is over."""
    auction: Auction | None = None
    orders: int = 0
    unfunded: list[OrderUid] = field(default_factory=list)
    bids: dict[str, int] = field(default_factory=dict)
    """Solutions received per solver."""
    rejected: list[tuple[str, int, str, str]] = field(default_factory=list)
    """(solver, solution id, code, reason)."""
    winners: list[Bid[Solution]] = field(default_factory=list)
    ranking: Ranking[Solution] | None = None
    submissions: list[tuple[Bid[Solution], Submission]] = field(default_factory=list)
    """Each winner's settlement (``outcome`` is ``settled`` when its fills were recorded)."""
    dropped: list[tuple[Bid[Solution], str]] = field(default_factory=list)
    """Winners not sent, with the revert reason: re-simulated on the state the earlier
    winners' settlements left, they would revert."""
    phases: dict[str, float] = field(default_factory=dict)
    """Wall seconds of the round's phases: ``build`` (fund check, liquidity, auction),
    ``solve``, ``verify`` (checks and simulations, scoring, winner selection), ``settle``."""
    error: str | None = None
    start_block: int = 0
    """The chain's head when the round began."""
    failed_hooks: list[HookFailureRecord] = field(default_factory=list)
    """Hooks that reverted in the round's mined settlements (the batch settled regardless)."""


class Auctioneer:
    """Runs batch auctions over ``book`` and settles the winners through ``submitter``."""

    def __init__(
        self,
        *,
        book: OrderBook,
        chain: ChainReader,
        liquidity: LiquiditySource,
        pools: Mapping[str, ChainPool],
        engines: Sequence[Engine],
        external: Sequence[ExternalSolver],
        submitter: Submitter,
        fills: FillIndexer,
        config: AuctioneerConfig,
        leadership: Leadership | None = None,
        gas_price: GasPriceSource | None = None,
        same_chain: Callable[[], Awaitable[bool]] | None = None,
        presignatures: PresignatureIndexer | None = None,
    ) -> None:
        self.same_chain = same_chain
        """Asked before each round: is the node answering, as the chain recorded at start?"""
        self.book = book
        self.chain = chain
        self.liquidity = liquidity
        self.pools = pools
        self.engines = list(engines)
        self.external = list(external)
        self._external = {s.name: s for s in external}
        self.submitter = submitter
        self.fills = fills
        self.presignatures = presignatures
        self.config = config
        self.leadership = leadership or AlwaysLeader()
        self.rounds = 0
        """The last auction id (each round continues from the book's last competition)."""
        self.reports: list[RoundReport] = []
        self.on_round: Callable[[RoundReport], Awaitable[None]] | None = None
        """Called with each round's report once it ends (``solver.round_log`` records it
        for ``/api/v1/rounds``); its failure is logged, the rounds go on."""
        self.gas_price = gas_price
        """``None``: the submitter's node (``eth_gasPrice``)."""

    async def run(self, stop: asyncio.Event) -> None:
        """Run rounds every ``config.interval`` seconds until ``stop`` is set."""
        async with aiohttp.ClientSession() as session:
            while not stop.is_set():
                started = time.monotonic()
                if await self.leadership.is_leader():
                    await self.run_round(session)
                wait = max(self.config.interval - (time.monotonic() - started), 0.0)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), wait)

    async def run_round(self, session: aiohttp.ClientSession) -> RoundReport:
        """One auction, start to settlement; never raises (failures are in the report)."""
        report = RoundReport(auction_id=self.rounds + 1, term=self.leadership.term)
        try:
            await self._resume()
            self.rounds += 1
            report.auction_id = self.rounds
            if self.same_chain is None or await self.same_chain():
                await self._round(session, report)
                await self._record(report)
            else:
                report.error = PAUSED
                logger.debug("auction %d %s", report.auction_id, PAUSED)
        except ChainReadError as exc:  # the outage itself is logged once, by the client
            report.error = f"{type(exc).__name__}: {exc}"
            logger.warning("auction %d: the chain did not answer: %s", report.auction_id, exc)
        except Exception as exc:  # a failed round must not stop the network
            report.error = f"{type(exc).__name__}: {exc}"
            logger.exception("auction %d failed", report.auction_id)
        self.reports = [*self.reports[-99:], report]
        if self.on_round is not None:
            try:
                await self.on_round(report)
            except Exception:
                logger.exception("auction %d: its round was not recorded", report.auction_id)
        return report

    async def _resume(self) -> None:
        """Auction ids go on from the last recorded competition, read each round: a
        restarted node, or one leading again after another led, reuses none."""
        latest = await self.book.competition()
        self.rounds = max(self.rounds, latest.auction_id if latest else 0)

    async def _record(self, report: RoundReport) -> None:
        """The round's competition, into the book (a round without solutions: none)."""
        if report.auction is None or report.ranking is None:
            return
        record = competition_record(
            auction_id=report.auction_id,
            auction=report.auction,
            ranking=report.ranking,
            submissions=report.submissions,
            solver_address=self.submitter.solver,
            start_block=report.start_block,
        )
        await self.book.record_competition(record)

    async def _funded(
        self, orders: list[StoredOrder], report: RoundReport
    ) -> list[tuple[StoredOrder, int]]:
        """The orders whose owners can pay, with what each owner can pay (the smaller of
        balance and allowance of the sell token): all of a fill-or-kill order, some of a
        partially fillable one."""
        funds = await self.chain.funds([(s.owner, s.order.sell_token) for s in orders])
        kept = []
        for stored, f in zip(orders, funds, strict=True):
            available = order_hooks.available_to_sell(stored, f.balance, f.allowance)
            sell, _ = order_from_book(stored).remaining_amounts()
            need = 1 if stored.order.partially_fillable else sell + stored.order.fee_amount
            if available >= need:
                kept.append((stored, available))
            else:
                report.unfunded.append(stored.uid)
        if report.unfunded:
            logger.info(
                "auction %d leaves out %d unfunded order(s): %s",
                report.auction_id,
                len(report.unfunded),
                ", ".join(to_hex(u) for u in report.unfunded),
            )
        return kept

    async def build_auction(
        self,
        orders: list[tuple[StoredOrder, int]],
        auction_id: int,
        deadline: datetime | None = None,
    ) -> BookAuction:
        """The auction of ``orders`` (each with what its owner can pay) over the current
        liquidity and gas price, due at ``deadline`` (default: the solvers' share of a round
        starting now, ``solver_deadline``)."""
        liquidity = await self.liquidity.liquidity()
        source = self.gas_price or RpcGasPrice(self.submitter.rpc)
        return book_auction(
            str(auction_id),
            orders,
            liquidity,
            weth=PoolToken(self.config.weth),
            gas_price=await source.gas_price(),
            deadline=deadline or self.solver_deadline(datetime.now(UTC)),
            trampoline=self.config.hooks_trampoline,
            fees=self.config.fees,
            quotes=await order_quotes(self.book, (s for s, _ in orders), self.config.fees),
        )

    def solver_deadline(self, started: datetime) -> datetime:
        """When the solvers' answers are due in a round that started at ``started``: the
        auction's deadline minus what checking and settling the winners need."""
        return started + timedelta(seconds=self.config.solve_time - self.config.settle_time)

    async def market(self) -> Auction:
        """The current market as an auction without orders (pools, reference prices, gas
        price): what the quoter prices over."""
        return (await self.build_auction([], 0)).auction

    async def _solve(
        self, session: aiohttp.ClientSession, round_: BookAuction
    ) -> list[tuple[str, Solution]]:
        auction = round_.auction

        async def internal() -> list[Solution]:
            """The in-process engines one after the other (``solve_all``: ``batch``, last,
            merges the fills of those before it), off the event loop."""
            try:
                solutions = await asyncio.to_thread(solve_all, self.engines, auction)
                return [order_hooks.with_hooks_gas(s, auction) for s in solutions]
            except Exception:
                logger.exception("the engines failed on auction %s", auction.id)
                return []

        calls: list[tuple[str | None, Awaitable[list[Solution]]]] = (
            [(None, internal())] if self.engines else []
        )
        if self.external:
            wire = round_.wire()
            calls += [(s.name, s.solve(session, wire)) for s in self.external]
        tasks = {asyncio.ensure_future(call): name for name, call in calls}
        # engines stop at the deadline themselves; a late answer is not waited for
        grace = max((auction.deadline - datetime.now(UTC)).total_seconds(), 0.0) + LATE_GRACE
        done, late = await asyncio.wait(tasks, timeout=grace) if tasks else (set(), set())
        for task in late:
            who = tasks[task] or "the engines"
            logger.warning("solver %s missed auction %s's deadline", who, auction.id)
            task.cancel()
        # an in-process solution is its engine's bid
        return [
            (tasks[task] or s.engine, s) for task in tasks if task in done for s in task.result()
        ]

    async def _simulate(self, round_: BookAuction, _: Auction, solution: Solution) -> str | None:
        try:
            await self.submitter.simulate(self._settlement(round_, solution).calldata())
        except SettlementReverted as exc:
            return exc.reason
        return None

    def _settlement(self, round_: BookAuction, solution: Solution) -> Settlement:
        return settlement_of(
            solution, round_, self.pools, self.config.settlement, self.config.v3_router
        )

    async def _round(self, session: aiohttp.ClientSession, report: RoundReport) -> None:
        started, clock = datetime.now(UTC), time.monotonic()
        await self.fills.catch_up()
        report.start_block = self.fills.head
        if self.leadership.still_leading(report.term):
            await sweep_if_due(self.config.fees, report.auction_id, self.book, self.submitter)
        if self.presignatures is not None:
            await self.presignatures.catch_up()
        now = time.time()
        expired = await self.book.expire(now)
        if expired:
            logger.info("auction %d: %d order(s) expired", report.auction_id, len(expired))
        orders = await self._funded(await self.book.open_orders(now), report)
        report.orders = len(orders)
        if not orders:
            logger.debug("auction %d: no open orders", report.auction_id)
            return
        deadline = self.solver_deadline(started)
        round_ = await self.build_auction(orders, report.auction_id, deadline)
        report.auction = round_.auction
        clock = _phase(report, "build", clock)
        if deadline <= datetime.now(UTC):
            logger.warning(
                "auction %d: building it took the solvers' whole share of the deadline",
                report.auction_id,
            )
        proposals = await self._solve(session, round_)
        clock = _phase(report, "solve", clock)
        ranking = arbitrate(
            await self._bids(round_, proposals, report, int(now)),
            max_winners=self.config.max_winners,
            wrapped_native=PoolToken(self.config.weth),
        )
        report.winners = list(ranking.winners)
        report.ranking = ranking
        clock = _phase(report, "verify", clock)
        logger.info(
            "auction %d: %d order(s), bids %s, %d rejected, winners %s",
            report.auction_id,
            len(orders),
            report.bids or "{}",
            len(report.rejected),
            [f"{w.solver}#{w.solution_id} score {w.score}" for w in ranking.winners] or "none",
        )
        # one after the other: each is simulated (``Submitter.submit``) on the state the
        # earlier ones left once mined, and dropped if it would now revert
        for winner in ranking.winners:
            notification = await self._settle(round_, winner, report)
            external = self._external.get(winner.solver)
            if external is not None:
                await external.notify(session, notification)
        _phase(report, "settle", clock)
        phases = report.phases
        logger.info(
            "auction %d phases: build %.3f s, solve %.3f s, verify %.3f s, settle %.3f s "
            "(solvers' deadline %.3f s after the start)",
            report.auction_id,
            phases["build"],
            phases["solve"],
            phases["verify"],
            phases["settle"],
            (deadline - started).total_seconds(),
        )

    async def _bids(
        self,
        round_: BookAuction,
        proposals: list[tuple[str, Solution]],
        report: RoundReport,
        now: int,
    ) -> list[Bid[Solution]]:
        """The proposals that pass the checks and the simulation, scored. The node applies
        the orders' fee policies to each first (``solver.protocol_fee``, as CoW's driver):
        what is checked, simulated, scored and settled is the charged solution; EBBO is
        checked on the solver's own (a fee is not the solver's shortfall)."""
        simulate = partial(self._simulate, round_)
        bids: list[Bid[Solution]] = []
        for name, proposed in proposals:
            report.bids[name] = report.bids.get(name, 0) + 1
            ebbo = name in self._external  # solver.ebbo: our engines batch on purpose
            try:
                solution = charge_solution(round_.auction, proposed)
                if ebbo and solution is not proposed:
                    check_solution(round_.auction, proposed, solver=name, now=now, ebbo=True)
                    ebbo = False
                checked = await verify_solution(
                    round_.auction, solution, solver=name, simulate=simulate, now=now, ebbo=ebbo
                )
                bids.append(make_bid(name, solution, checked, round_.auction))
            except SolutionRejected as error:  # logged by the checks
                report.rejected.append((name, proposed.id, str(error.code), error.message))
            except (ScoringError, FeeError) as error:
                logger.warning(
                    "solver %s solution %d not scored: %s: %s", name, proposed.id, error.code, error
                )
                report.rejected.append((name, proposed.id, error.code, str(error)))
        return bids

    async def _settle(
        self, round_: BookAuction, winner: Bid[Solution], report: RoundReport
    ) -> dto_notification.Notification:
        """Submit ``winner``'s settlement; what to tell its solver about it."""
        auction_id, solution_id = str(report.auction_id), winner.solution_id
        if not self.leadership.still_leading(report.term):
            logger.warning(
                "auction %d: winner %s#%d not settled: this node no longer leads (term %d)",
                report.auction_id,
                winner.solver,
                winner.solution_id,
                report.term,
            )
            return dto_notification.Cancelled(auction_id=auction_id, solution_id=solution_id)
        settlement = self._settlement(round_, winner.solution)
        headroom = order_hooks.settlement_headroom(round_, winner.solution)
        submission = Submission(calldata=settlement.calldata(), extra_gas=headroom)
        report.submissions.append((winner, submission))
        try:
            await self.submitter.submit(submission)
        except SettlementReverted as exc:
            report.dropped.append((winner, exc.reason))
            logger.warning(
                "auction %d: winner %s#%d dropped: on the state the earlier winners left "
                "its settlement would revert: %s",
                report.auction_id,
                winner.solver,
                winner.solution_id,
                exc.reason,
            )
            return dto_notification.DriverError(
                reason=f"settlement would revert: {exc.reason}",
                auction_id=auction_id,
                solution_id=solution_id,
            )
        tx = submission.mined.tx_hash.hex() if submission.mined else "none"
        logger.info(
            "auction %d: %s#%d %s tx 0x%s, gas used %s, %d trade(s)",
            report.auction_id,
            winner.solver,
            winner.solution_id,
            submission.outcome,
            tx,
            submission.gas_used,
            len(submission.fills),
        )
        if submission.outcome is Outcome.SETTLED:
            failed = order_hooks.hook_failures(
                round_, winner.solution, submission, self.config.hooks_trampoline
            )
            await self.book.record_hook_failures(failed)
            report.failed_hooks += failed
            return dto_notification.Success(
                transaction="0x" + tx, auction_id=auction_id, solution_id=solution_id
            )
        if submission.outcome is Outcome.REVERTED:
            return dto_notification.Revert(
                transaction="0x" + tx, auction_id=auction_id, solution_id=solution_id
            )
        return dto_notification.Cancelled(auction_id=auction_id, solution_id=solution_id)


def _phase(report: RoundReport, name: str, since: float) -> float:
    """Record the phase ``name`` as lasting from ``since`` until now; now (monotonic)."""
    now = time.monotonic()
    report.phases[name] = now - since
    return now
