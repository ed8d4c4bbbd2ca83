"""``tributary serve``: the node process — the orderbook API over a durable book, checked
against a real chain.

Configuration is resolved once, before anything listens: without ``--rpc-url`` a local
devnet (anvil + the real GPv2Settlement) is started and its deployment JSON written;
otherwise addresses come from the flags and/or ``--deployment``. The node then refuses to
run unless the chain's id and the settlement's ``domainSeparator()`` match what orders will
be verified against. It runs on uvloop and shuts down cleanly on SIGTERM/SIGINT: stop
accepting, end event streams, finish in-flight requests and book writes, close.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import uvloop
from aiohttp import web

from intents.book import open_book
from intents.eip712 import domain_separator
from intents.http import ApiSettings, create_app
from intents.http.quote import fresh_quote
from intents.http.server import LimitedAppRunner
from intents.http.webhooks import WebhookSettings
from intents.quotes import QuoteLinker
from intents.types import Address, to_address
from intents.validation import OrderValidator
from settlement.breaker import Breaker
from settlement.chain_identity import ChainGuard, ChainMismatchError, verify_chain
from settlement.chain_reader import RpcChainReader
from settlement.deployment import Deployment
from settlement.hooks import RpcHookSimulator
from settlement.jsonrpc import BatchingRpcClient, ChainReadError
from solver.background import in_background
from solver.conditional_prices import NodePrices
from solver.conditional_release import ConditionalReleaser, chain_clock
from solver.engines.workers import cores, set_workers, warm_up, worker_count
from solver.errors import SolverError
from solver.http_flags import HttpServing, serving_from_args
from solver.leader import leadership_for
from solver.native_price import NativePrices
from solver.network import NetworkSettings, make_engines, running_network, settings_from_args
from solver.quote_verifier import QuoteVerifier
from solver.quoter import AttachedMarket, RoutingQuoter
from solver.webhook_dispatch import WebhookDispatcher
from solver.webhook_flags import DispatchSettings, dispatch_from_args

log = logging.getLogger(__name__)

DEFAULT_DATABASE = "sqlite:///data/orderbook.sqlite3"
DEFAULT_DEPLOYMENT = "data/devnet.json"
_VAULT_RELAYER = "0x9b552cc2"  # GPv2Settlement.vaultRelayer()


class ConfigError(SolverError, ValueError):
    """The command line does not say which chain and contract to serve."""

    code = "InvalidConfig"


@dataclass(frozen=True, slots=True)
class NodeConfig:
    host: str
    port: int
    database: str
    rpc_url: str
    chain_id: int
    settlement: Address
    vault_relayer: Address | None
    """From the deployment file; read from the settlement contract when unknown."""
    multicall: Address | None = None
    """``UniswapInterfaceMulticall`` from the deployment file: balance and allowance reads
    are packed into it (one EVM call instead of one ``eth_call`` each)."""
    network: NetworkSettings | None = None
    """The auctioneer's settings; ``None``: only take orders."""
    http: HttpServing | None = None
    """The API server's HTTP limits; ``None``: the defaults of ``tributary serve``."""
    webhooks: DispatchSettings = field(default_factory=DispatchSettings)
    """Whether webhooks may call private addresses, their retries and timeout."""
    genesis_hash: bytes | None = None
    """The chain's genesis hash from the deployment file: another chain is refused."""
    hooks_trampoline: Address | None = None
    """The deployment's hooks trampoline: orders' hooks are simulated through it at creation
    (without one, orders with hooks are refused)."""


def resolve_config(args: argparse.Namespace, devnet: Deployment | None) -> NodeConfig:
    """Merge flags, the deployment file and a just-started devnet (flags win)."""
    deployment = devnet
    if deployment is None and args.deployment:
        deployment = Deployment.load(args.deployment)
    rpc_url = args.rpc_url or (deployment.rpc_url if deployment else None)
    chain_id = (
        args.chain_id
        if args.chain_id is not None
        else (deployment.chain_id if deployment else None)
    )
    settlement = args.settlement or (deployment.settlement if deployment else None)
    if rpc_url is None or chain_id is None or settlement is None:
        raise ConfigError(
            "with --rpc-url, give --chain-id and --settlement (or a --deployment file)"
        )
    settlement = to_address(settlement)
    relayer = multicall = genesis = trampoline = None
    if deployment is not None and deployment.settlement == settlement:
        relayer, multicall = deployment.vault_relayer, deployment.multicall
        genesis = deployment.genesis_hash
        trampoline = deployment.hooks_trampoline
    return NodeConfig(
        host=args.host,
        port=args.port,
        database=args.database or DEFAULT_DATABASE,
        rpc_url=rpc_url,
        chain_id=chain_id,
        settlement=settlement,
        vault_relayer=relayer,
        multicall=multicall,
        network=settings_from_args(
            args, args.deployment or (DEFAULT_DEPLOYMENT if devnet is not None else None)
        ),
        http=serving_from_args(args),
        webhooks=dispatch_from_args(args),
        genesis_hash=genesis,
        hooks_trampoline=trampoline,
    )


async def _vault_relayer(client: BatchingRpcClient, settlement: Address) -> Address:
    result = await client.call("eth_call", [{"to": settlement, "data": _VAULT_RELAYER}, "latest"])
    return to_address("0x" + str(result)[-40:])


async def run_node(config: NodeConfig, stop: asyncio.Event) -> None:
    """Serve until ``stop`` is set; raises ``ChainMismatchError``/``ChainReadError`` before
    listening if the chain is not the configured one."""
    separator = domain_separator(config.chain_id, config.settlement)
    async with contextlib.AsyncExitStack() as stack:
        # fails fast (503) while the node does not answer, instead of the RPC timeout
        breaker = Breaker(time.monotonic)
        client = BatchingRpcClient(config.rpc_url, multicall=config.multicall, breaker=breaker)
        stack.push_async_callback(client.close)
        identity = await verify_chain(
            client, config.chain_id, config.settlement, separator, config.genesis_hash
        )
        guard = await stack.enter_async_context(
            ChainGuard(client, config.settlement, identity).watching()
        )
        relayer = config.vault_relayer or await _vault_relayer(client, config.settlement)

        book = await open_book(config.database)
        stack.push_async_callback(book.close)
        market = AttachedMarket()  # quotes price over the auctioneer's liquidity once it runs
        quoter = RoutingQuoter(market) if config.network is not None else None
        validator = OrderValidator(
            domain_separator=separator,
            chain=RpcChainReader(client, config.settlement, relayer, guard.refuse_if_swapped),
            book=book,
            quotes=QuoteLinker(book, fresh_quote(quoter)) if quoter is not None else None,
            hooks=(
                RpcHookSimulator(client, config.settlement, config.hooks_trampoline)
                if config.hooks_trampoline is not None
                else None
            ),
        )

        native_pricer = NativePrices(market) if config.network is not None else None
        http = config.http or serving_from_args(argparse.Namespace())
        app = create_app(
            book=book,
            validator=validator,
            settings=ApiSettings(
                settlement=config.settlement,
                body_timeout_seconds=http.body_timeout,
                rate_limits=http.rate_limits,
                cors_origins=http.cors_origins,
            ),
            health_checks={"database": book.count, "chain": guard.health},
            quoter=quoter,
            native_pricer=native_pricer,
            webhook_settings=WebhookSettings(allow_private=config.webhooks.allow_private),
        )
        runner = LimitedAppRunner(app, http.limits, access_log=None, shutdown_timeout=10.0)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        site = web.TCPSite(runner, config.host, config.port, backlog=1024)
        await site.start()
        # Everything loaded so far (web3, the ABIs, ...) lives as long as the process: keep
        # it out of the cyclic collector, whose full passes otherwise cost ~0.1 s each. A
        # young-generation pass walks every object of the requests in flight, however few
        # were allocated since the last: run it every 50,000 allocations, not every 700.
        gc.freeze()
        gc.set_threshold(50_000, 10, 10)
        for address in runner.addresses:
            host, port = address[0], address[1]
            log.info("orderbook API listening on http://%s:%d", host, port)
        log.info(
            "serving chain %d, settlement %s (vault relayer %s), order book %s, RPC %s%s",
            config.chain_id,
            config.settlement,
            relayer,
            config.database,
            config.rpc_url,
            f" (reads packed by multicall {config.multicall})" if config.multicall else "",
        )
        if config.network is not None:
            # one auctioneer per PostgreSQL book (advisory lock); always with SQLite
            leadership = await stack.enter_async_context(leadership_for(config.database))
            auctioneer = await stack.enter_async_context(
                running_network(
                    config.network,
                    rpc=client,
                    book=book,
                    chain=validator.chain,
                    leadership=leadership,
                    guard=guard,
                )
            )
            market.attach(auctioneer.market)
            if quoter is not None:
                quoter.verifier = QuoteVerifier(auctioneer, make_engines(config.network))
            # conditional orders' parts enter the book when due, on the leader only
            releaser = ConditionalReleaser(
                book=book,
                validator=validator,
                prices=NodePrices(client, native_pricer),
                clock=chain_clock(client),
            )
            await stack.enter_async_context(
                in_background(releaser.run(leadership), "conditional-releaser")
            )
            # webhook deliveries are sent by the leader too (claims are leases besides)
            dispatcher = WebhookDispatcher(book, config.webhooks)
            await stack.enter_async_context(
                in_background(dispatcher.run(leadership), "webhook-dispatcher")
            )
        await stop.wait()
        log.info("shutting down: no new connections, finishing in-flight requests")
    log.info("stopped")


async def _main(config: NodeConfig) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, _on_signal, sig, stop)
    try:
        await run_node(config, stop)
    except (ChainMismatchError, ChainReadError) as exc:
        log.error("refusing to start: %s", exc)
        return 2
    return 0


def _on_signal(sig: signal.Signals, stop: asyncio.Event) -> None:
    log.info("received %s", sig.name)
    stop.set()


@contextlib.contextmanager
def _devnet_if_needed(args: argparse.Namespace) -> Iterator[Deployment | None]:
    """Without ``--rpc-url``: a fresh devnet for the node's lifetime, its deployment saved
    (and its pools seeded unless ``--no-auctioneer``)."""
    if args.rpc_url is not None:
        yield None
        return
    # The composition root is the one production module that starts the devnet; imported
    # here, so that a node on another chain never loads it.
    from devnet.serve import node_devnet

    seed_tokens = None if getattr(args, "no_auctioneer", False) else getattr(args, "seed_tokens", 4)
    with node_devnet(Path(args.deployment or DEFAULT_DEPLOYMENT), seed_tokens) as deployment:
        yield deployment


def serve_command(args: argparse.Namespace) -> int:
    """Entry point of ``tributary serve``; returns the process exit code."""
    workers = getattr(args, "workers", None)
    try:
        set_workers(workers if workers is not None else max(1, cores() - 1))
    except ValueError as exc:
        log.error("cannot start: %s", exc)
        return 2
    if worker_count() > 1:
        warm_up()  # the engines' workers start from a fork server (the node runs threads)
    with _devnet_if_needed(args) as devnet:
        try:
            config = resolve_config(args, devnet)
        except (ConfigError, ValueError, OSError) as exc:
            log.error("cannot start: %s", exc)
            return 2
        return uvloop.run(_main(config))
