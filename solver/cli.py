"""The ``tributary`` command: one entry point, one subcommand per use.

Each subcommand's work lives in its own module and is imported only when that subcommand
runs, so ``tributary --help`` is instant and a subcommand pulls in only what it needs.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path

from solver.fee_policies import add_fee_flags
from solver.http_flags import add_http_flags
from solver.webhook_flags import add_webhook_flags

# subcommand -> "module:function"; the function takes the parsed argparse.Namespace and
# returns a process exit code.
_HANDLERS = {
    "serve": "solver.node:serve_command",
    "devnet": "devnet.cli:devnet_command",
    "route": "solver.route_cli:route_command",
    "solve": "solver.solve_cli:solve_command",
    "solve-engine": "solver.solve_cli:solve_engine_command",
    "bench": "bench.__main__:bench_command",
    "demo": "solver.demo:demo_command",
}


DEFAULT_MAX_PRICE_DEVIATION = "100"
"""``routing.sanity.DEFAULT_MAX_DEVIATION`` (not imported: ``--help`` stays instant)."""


def price_deviation(text: str) -> Fraction | None:
    """``--max-price-deviation``: a factor of at least 1 (``100``, ``1e3``, ``2.5``), or
    ``0`` / ``off`` for no reference-price check."""
    if text.strip().lower() in ("0", "off", "none"):
        return None
    try:
        value = Fraction(text.strip())
    except (ValueError, ZeroDivisionError) as exc:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"a factor of at least 1 (or 0 for off), not {text}")
    return value


def _add_price_deviation(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-price-deviation",
        type=price_deviation,
        default=price_deviation(DEFAULT_MAX_PRICE_DEVIATION),
        metavar="FACTOR",
        help="skip pools whose mid rate, and solutions whose realised rate, between two "
        "tokens with reference prices is more than FACTOR times off the reference rate "
        f"(default {DEFAULT_MAX_PRICE_DEVIATION}; 0 = no check)",
    )


def _add_workers(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help=f"worker processes of the per-order engines (default: {default}; 1 = in-process)",
    )


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tributary",
        description="Tributary: an intent solver network node (orderbook API, solvers, "
        "settlement) and its tools.",
    )
    parser.add_argument(
        "--log-level", default="INFO", help="logging level (DEBUG, INFO, WARNING; default INFO)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser(
        "serve",
        help="run the node: orderbook HTTP API backed by a durable order book",
        description="Run the node. Without --rpc-url it starts a local anvil devnet with "
        "the real GPv2Settlement deployed and uses it.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on")
    serve.add_argument(
        "--database",
        default=None,
        help="order book URL: sqlite:///PATH (default: sqlite:///data/orderbook.sqlite3) "
        "or postgresql://HOST:PORT/DB",
    )
    serve.add_argument("--rpc-url", default=None, help="Ethereum JSON-RPC URL (default: devnet)")
    serve.add_argument("--chain-id", type=int, default=None, help="expected chain id")
    serve.add_argument(
        "--settlement", default=None, help="GPv2Settlement address (default: from deployment)"
    )
    serve.add_argument(
        "--deployment",
        default=None,
        help="deployment JSON written by `tributary devnet` (addresses, chain id)",
    )
    serve.add_argument("--no-auctioneer", action="store_true", help="only take orders")
    serve.add_argument(
        "--signer-key-file", default=None, metavar="PATH",
        help="the settling account's hex private key, a 0600 file (else $TRIBUTARY_SIGNER_KEY, "
        "else the deployment's solver account)",
    )  # fmt: skip
    serve.add_argument("--auction-interval", type=float, default=2.0, help="seconds per auction")
    serve.add_argument(
        "--solve-time", type=float, default=3.0, help="seconds from a round's start to its deadline"
    )
    serve.add_argument(
        "--settle-time",
        type=float,
        default=0.5,
        help="seconds of the deadline kept for checking and settling (the solvers get the rest)",
    )
    serve.add_argument(
        "--engines", default="baseline,optimal,batch", help="in-process engines (comma-separated)"
    )
    serve.add_argument(
        "--external-solver", action="append", default=[], metavar="URL",
        help="a solver engine's base URL (the node POSTs URL/solve); repeatable",
    )  # fmt: skip
    serve.add_argument(
        "--seed-tokens", type=int, default=4,
        help="built-in devnet: seed pools among WETH, base tokens and N more snapshot tokens",
    )  # fmt: skip
    _add_price_deviation(serve)
    add_fee_flags(serve)
    _add_workers(serve, "all cores but one, at least 1: the API keeps a core")
    add_http_flags(serve)
    add_webhook_flags(serve)

    demo = sub.add_parser("demo", help="post signed demo intents to a node, print their fills")
    demo.add_argument("--url", default="http://127.0.0.1:8080", help="the node's base URL")
    demo.add_argument("--deployment", default="data/devnet.json", help="the devnet's JSON")
    demo.add_argument("--timeout", type=float, default=60.0, help="seconds to follow orders")

    devnet = sub.add_parser(
        "devnet",
        help="start a local anvil chain with GPv2Settlement and seeded liquidity",
    )
    devnet.add_argument("--port", type=int, default=8545, help="anvil port (0 = any free)")
    devnet.add_argument(
        "--deployment-out",
        default="data/devnet.json",
        help="where to write the deployment JSON",
    )
    devnet.add_argument(
        "--seed-snapshot",
        default=None,
        help="legacy auction JSON whose Uniswap V2/V3 pools to recreate (default: "
        "../shared/data/auctions/mainnet-7400681.json if present; 'none' = no pools)",
    )

    route = sub.add_parser("route", help="route one order through an auction's liquidity")
    route.add_argument("--auction", required=True, help="auction JSON (legacy or solver format)")
    route.add_argument("--sell", required=True, help="sell token address")
    route.add_argument("--buy", required=True, help="buy token address")
    route.add_argument("--amount", required=True, type=int, help="amount in base units")
    route.add_argument("--kind", choices=("sell", "buy"), default="sell", help="order kind")
    route.add_argument("--max-hops", type=int, default=3, help="maximum path length")
    route.add_argument("--json", action="store_true", help="print the route as JSON")

    solve = sub.add_parser("solve", help="solve an auction file and print the solutions JSON")
    solve.add_argument("--auction", required=True, help="auction JSON (legacy or solver format)")
    solve.add_argument(
        "--engine",
        default="baseline,optimal,batch",
        help="engine(s), run one after the other: baseline, optimal, batch (comma-separated; "
        "batch last merges the others' fills; default: as the node)",
    )
    solve.add_argument(
        "--time-limit", type=float, default=3.0, help="seconds until the answer (default 3)"
    )
    _add_price_deviation(solve)
    _add_workers(solve, "all cores")

    solve_engine = sub.add_parser(
        "solve-engine", help="serve only the solver-engine API (POST /solve, POST /notify)"
    )
    solve_engine.add_argument("--host", default="127.0.0.1", help="address to listen on")
    solve_engine.add_argument("--port", type=int, default=8090, help="port to listen on")
    solve_engine.add_argument(
        "--token", default=None, metavar="TOKEN",
        help="require `Authorization: Bearer TOKEN` (401 otherwise); default: the "
        "TRIBUTARY_SOLVE_TOKEN environment variable, else no authentication. Prefer the "
        "variable: a flag is visible to every local user in the process list",
    )  # fmt: skip
    solve_engine.add_argument(
        "--max-body-bytes", type=int, default=32 * 1024 * 1024, metavar="BYTES",
        help="largest auction body accepted; larger is 413 (default 32 MiB)",
    )  # fmt: skip
    solve_engine.add_argument(
        "--max-time-limit", type=float, default=20.0, metavar="S",
        help="seconds an auction may be solved at most: a later deadline is clamped "
        "(default 20)",
    )  # fmt: skip
    solve_engine.add_argument(
        "--engine",
        default="baseline,optimal,batch",
        help="engine(s), run one after the other: baseline, optimal, batch (comma-separated; "
        "batch last merges the others' fills; default: as the node)",
    )
    _add_price_deviation(solve_engine)
    _add_workers(solve_engine, "all cores")

    bench = sub.add_parser("bench", help="benchmarks (see bench/README.md)")
    bench.add_argument("suite", help="which benchmark: routing, solver, generate, ...")
    bench.add_argument("rest", nargs=argparse.REMAINDER, help="the benchmark's own options")
    return parser


def _resolve(target: str) -> Callable[[argparse.Namespace], int]:
    module, _, name = target.partition(":")
    handler: Callable[[argparse.Namespace], int] = getattr(importlib.import_module(module), name)
    return handler


def process_age() -> float:
    """Seconds since this process started (Linux: its start time in ``/proc``; elsewhere
    0), so a time limit counts the interpreter's start-up too."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")
        return max(0.0, time.clock_gettime(time.CLOCK_BOOTTIME) - started)
    except (OSError, ValueError, IndexError, AttributeError):
        return 0.0


def main(argv: Sequence[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    # the time limit counts the process's start-up and the subcommand's imports (a command
    # run in-process, as by the tests, counts from here)
    age = process_age() if argv is None else 0.0
    args.started_monotonic = time.monotonic() - age
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    code = _resolve(_HANDLERS[args.command])(args)
    if argv is None and args.command == "solve":
        # the answer is written: end without tearing the heap down (an auction of 10,000
        # orders and its graph take about half a second to free, past the time limit)
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
