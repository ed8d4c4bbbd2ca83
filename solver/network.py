"""Composition of the solver network inside ``tributary serve``: the auctioneer with its
liquidity source, engines, external solvers, submitter, fill tracker, fill indexer and
the recorder of its rounds.

``settings_from_args`` reads ``tributary serve``'s flags, the deployment file gives the
solver account and the pools (``PoolList``), and ``running_network`` runs the auctioneer
for the node's lifetime.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from intents.book import OrderBook
from intents.chain import ChainReader
from routing.sanity import DEFAULT_MAX_DEVIATION
from settlement.chain_identity import ChainGuard
from settlement.chain_pools import PoolList
from settlement.deployment import Deployment
from settlement.fills import FillIndexer, FillTracker
from settlement.jsonrpc import BatchingRpcClient
from settlement.presignatures import PresignatureIndexer
from settlement.submitter import Submitter, SubmitterConfig
from solver.auctioneer import Auctioneer, AuctioneerConfig
from solver.engines import Engine, make_engine
from solver.external import ExternalSolver
from solver.fee_policies import FeeConfig, fee_config_from_args
from solver.leader import Leadership
from solver.liquidity_source import ChainLiquidity
from solver.round_log import RoundRecorder
from solver.signer import signer_key

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NetworkSettings:
    deployment: Path
    """The deployment JSON: WETH, the solver account and the seeded pools (``liquidity``)."""
    interval: float = 2.0
    solve_time: float = 3.0
    """Seconds from a round's start to its auction's deadline."""
    settle_time: float = 0.5
    """Seconds of the deadline kept for checking and settling (``AuctioneerConfig``)."""
    engines: tuple[str, ...] = ("baseline", "optimal", "batch")
    external: tuple[str, ...] = ()
    seed_tokens: int = 4
    confirmations: int = 6
    max_price_deviation: Fraction | None = DEFAULT_MAX_DEVIATION
    """Engines skip pools and solutions off the reference prices by more (``None``: no check)."""
    fees: FeeConfig = field(default_factory=FeeConfig)
    """Protocol fee policies, partner fee cap, fee recipient, payouts."""
    signer_key: str | None = field(default=None, repr=False)
    """The settling account's key (``--signer-key-file``, ``TRIBUTARY_SIGNER_KEY``);
    ``None``: the deployment's solver account."""


def settings_from_args(args: argparse.Namespace, deployment: str | None) -> NetworkSettings | None:
    """The auctioneer's settings, or ``None`` when it is off (``--no-auctioneer``, or no
    deployment file to take the solver account and pools from)."""
    if getattr(args, "no_auctioneer", False) or deployment is None:
        return None
    engines = tuple(e for e in getattr(args, "engines", "baseline,optimal,batch").split(",") if e)
    return NetworkSettings(
        deployment=Path(deployment),
        interval=getattr(args, "auction_interval", 2.0),
        solve_time=getattr(args, "solve_time", 3.0),
        settle_time=getattr(args, "settle_time", 0.5),
        engines=engines,
        external=tuple(getattr(args, "external_solver", None) or ()),
        seed_tokens=getattr(args, "seed_tokens", 4),
        max_price_deviation=getattr(args, "max_price_deviation", DEFAULT_MAX_DEVIATION),
        fees=fee_config_from_args(args),
        signer_key=signer_key(getattr(args, "signer_key_file", None)),
    )


def pools_from_deployment(path: Path, rpc: BatchingRpcClient) -> ChainLiquidity:
    """The pools recorded in a deployment JSON (none without ``liquidity``)."""
    return ChainLiquidity(rpc, PoolList.load(path).pools)


def build_auctioneer(
    settings: NetworkSettings,
    *,
    rpc: BatchingRpcClient,
    book: OrderBook,
    chain: ChainReader,
    liquidity: ChainLiquidity | None = None,
    leadership: Leadership | None = None,
    guard: ChainGuard | None = None,
) -> tuple[Auctioneer, FillTracker]:
    """The auctioneer of ``settings`` over ``book``, settling as the deployment's solver
    (or ``settings.signer_key``); with a ``guard``, rounds and fill rewinds wait for the
    chain's identity to be the recorded one."""
    deployment = Deployment.load(settings.deployment)
    pool_list = PoolList.load(settings.deployment)
    source = liquidity or ChainLiquidity(rpc, pool_list.pools)
    same_chain = guard.verify if guard is not None else None
    tracker = FillTracker(
        rpc, deployment.settlement, book, settings.confirmations, same_chain=same_chain
    )
    submitter = Submitter(
        rpc,
        SubmitterConfig(chain_id=deployment.chain_id, settlement=deployment.settlement),
        settings.signer_key or deployment.solver.private_key,
        tracker,
    )
    external = [
        ExternalSolver(name=f"external-{i}", url=url) for i, url in enumerate(settings.external)
    ]
    auctioneer = Auctioneer(
        book=book,
        chain=chain,
        liquidity=source,
        pools=source.by_id(),
        engines=make_engines(settings),
        external=external,
        submitter=submitter,
        fills=FillIndexer(rpc, tracker, book),
        config=AuctioneerConfig(
            settlement=deployment.settlement,
            weth=deployment.weth,
            v3_router=pool_list.v3_router,
            hooks_trampoline=deployment.hooks_trampoline,
            interval=settings.interval,
            solve_time=settings.solve_time,
            settle_time=settings.settle_time,
            fees=settings.fees,
        ),
        leadership=leadership,
        same_chain=same_chain,
        presignatures=PresignatureIndexer(
            rpc, deployment.settlement, book, settings.confirmations, same_chain=same_chain
        ),
    )
    auctioneer.on_round = RoundRecorder(rpc, book, auctioneer.pools).record
    return auctioneer, tracker


def make_engines(settings: NetworkSettings) -> list[Engine]:
    """A fresh instance of each of ``settings``' engines (the auctioneer's, or the quote
    verifier's own: engines keep caches that two threads must not share)."""
    return [
        make_engine(name, max_price_deviation=settings.max_price_deviation)
        for name in settings.engines
    ]


@contextlib.asynccontextmanager
async def running_network(
    settings: NetworkSettings,
    *,
    rpc: BatchingRpcClient,
    book: OrderBook,
    chain: ChainReader,
    leadership: Leadership | None = None,
    guard: ChainGuard | None = None,
) -> AsyncIterator[Auctioneer]:
    """Run the auctioneer and the fill tracker's reorg watch until the context exits."""
    auctioneer, tracker = build_auctioneer(
        settings, rpc=rpc, book=book, chain=chain, leadership=leadership, guard=guard
    )
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(auctioneer.run(stop), name="auctioneer"),
        asyncio.create_task(tracker.run(settings.interval), name="fill-tracker"),
    ]
    logger.info(
        "auctioneer every %.1f s: engines %s, external solvers %s",
        settings.interval,
        ",".join(settings.engines) or "none",
        ", ".join(settings.external) or "none",
    )
    try:
        yield auctioneer
    finally:
        stop.set()
        tasks[1].cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
