"""``tributary bench candidates``: the cost of one routed candidate — ``OrderFiller.fill``
timed per order.

The auction's token graph and the engine's ``OrderFiller`` are built once (untimed); the
orders that pass the engine's screen (``OrderFiller.candidates``: the gas-inclusive screen
of ``solver.engines.screen``) are taken in the engine's ranking, ``--sample`` of them
evenly spaced over it (all by default), and each one's ``fill`` is timed with
``perf_counter`` (wall) and ``thread_time`` (the thread's CPU time: on a shared machine, what
one dedicated core does). Reported: median, p90 and p99 milliseconds per routed candidate, the
fills found and their total surplus over the limit prices in native wei (CoW's
conversion, as ``bench solver``), so a speed-up that loses fills shows. ``--out FILE``
writes each candidate's amount filled and surplus, to compare two runs order by order;
``--fills FILE`` writes every candidate's whole fill (trade, route legs and amounts, gas,
clearing prices; ``null``: none), to check that a change leaves the answers byte-identical.

``--variants compiled,pure`` runs the measurement in a fresh process per variant, the
variants alternating for ``--rounds`` rounds (the load of a shared machine then falls on
both alike): ``compiled`` as installed, ``pure`` with the routing modules' ``.py`` files
(``routing.native``), ``NAME=CHECKOUT`` with another checkout on ``PYTHONPATH`` (its
``bench/candidates.py`` must be this one). Each prints its medians and a digest of every
fill; the digests must agree.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from bench.solver import DEFAULT_AUCTION, surplus_native
from routing import native
from solver.auction_file import load_auction
from solver.checks import CheckedTrade
from solver.engines.base import Deadline, token_graph
from solver.engines.partial_fill import RoutedFill
from solver.engines.single_order import (
    OrderFiller,
    SingleOrderEngine,
    baseline_engine,
    optimal_engine,
)
from solver.model import Auction, Order, executed_amounts, now

ENGINES = {"baseline": baseline_engine, "optimal": optimal_engine}


def make_filler(engine: SingleOrderEngine, auction: Auction) -> OrderFiller:
    """The ``OrderFiller`` the engine's ``solve`` would build for ``auction``."""
    return engine.spec.build(auction, token_graph(auction), Deadline(auction))


def screened(filler: OrderFiller, sample: int | None) -> list[Order]:
    """The orders that pass the engine's screen, ranked as it ranks them; ``sample``
    evenly spaced."""
    orders = list(filler.candidates().ranked)
    if sample is None or sample >= len(orders):
        return orders
    return [orders[i * len(orders) // sample] for i in range(sample)]


def fill_surplus(auction: Auction, fill: RoutedFill) -> int:
    sold, bought = executed_amounts(fill.order, fill.trade, fill.prices)
    return surplus_native(CheckedTrade(fill.order, fill.trade, sold, bought), auction)


def fill_text(fill: RoutedFill | None) -> str:
    """The whole answer for one order, as text: trade, route (legs, amounts, gas), prices."""
    if fill is None:
        return "null"
    return repr((fill.trade, fill.route, sorted(fill.prices.items())))


def _percentile(values: Sequence[float], share: float) -> float:
    ranked = sorted(values)
    return ranked[min(len(ranked) - 1, int(share * len(ranked)))]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tributary bench candidates")
    parser.add_argument("--auction", default=DEFAULT_AUCTION, help="auction JSON (either format)")
    parser.add_argument("--engine", choices=sorted(ENGINES), default="optimal")
    parser.add_argument("--sample", type=int, default=None, help="candidates timed (all)")
    parser.add_argument("--out", type=Path, default=None, help="per-order results (JSON)")
    parser.add_argument("--fills", type=Path, default=None, help="per-order fills in full (text)")
    parser.add_argument(
        "--variants",
        default=None,
        help="'compiled,pure[,NAME=CHECKOUT]': each in its own process, alternately "
        "(--rounds), side by side",
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of --variants")
    parser.add_argument("--summary", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.variants:
        return _compare(args)
    far = now() + timedelta(days=1)  # no deadline: every candidate is routed to the end
    auction = load_auction(Path(args.auction).read_bytes(), far).with_deadline(far)
    started = time.perf_counter()
    filler = make_filler(ENGINES[args.engine](), auction)
    orders = screened(filler, args.sample)
    setup = time.perf_counter() - started
    costs: list[float] = []
    cpu: list[float] = []
    results: dict[str, list[int]] = {}
    dumped: list[str] = []
    total = 0
    for order in orders:
        began, began_cpu = time.perf_counter(), time.thread_time()
        fill = filler.fill(order)
        cpu.append((time.thread_time() - began_cpu) * 1000)
        costs.append((time.perf_counter() - began) * 1000)
        dumped.append(f"{order.uid.hex()} {fill_text(fill)}")
        if fill is not None:
            gained = fill_surplus(auction, fill)
            total += gained
            results[order.uid.hex()] = [fill.trade.executed, gained]
    print(
        f"{args.engine} on {args.auction}: {len(orders)} routed candidates "
        f"(graph + screen {setup:.2f} s; compiled routing modules: {len(native.compiled())})"
    )
    print(
        f"ms per candidate: median {statistics.median(costs):.3f}, "
        f"p90 {_percentile(costs, 0.9):.3f}, p99 {_percentile(costs, 0.99):.3f}, "
        f"total {sum(costs) / 1000:.2f} s"
    )
    print(
        f"CPU ms per candidate: median {statistics.median(cpu):.3f}, "
        f"p90 {_percentile(cpu, 0.9):.3f}, p99 {_percentile(cpu, 0.99):.3f}, "
        f"total {sum(cpu) / 1000:.2f} s"
    )
    print(f"fills {len(results)}, surplus {total} wei ({total / 10**18:.4f} ETH)")
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=1, sort_keys=True))
    if args.fills is not None:
        args.fills.write_text("\n".join(dumped) + "\n")
    if args.summary is not None:
        summary = {
            "median": statistics.median(costs),
            "cpu_median": statistics.median(cpu),
            "cpu_total": sum(cpu) / 1000,
            "fills": len(results),
            "surplus": total,
            "compiled": len(native.compiled()),
            "answers": hashlib.sha256("\n".join(dumped).encode()).hexdigest()[:16],
        }
        args.summary.write_text(json.dumps(summary))
    return 0


def _compare(args: argparse.Namespace) -> int:
    """The same measurement per variant (``compiled``: as installed; ``pure``: the routing
    modules' ``.py`` files, ``routing.native``), each run in a fresh process, the variants
    alternating for ``--rounds`` rounds so the machine's load falls on both alike."""
    variants = args.variants.split(",")
    auction = os.path.abspath(args.auction)
    base = [sys.executable, "-m", "bench", "candidates", "--auction", auction]
    base += ["--engine", args.engine] + (["--sample", str(args.sample)] if args.sample else [])
    rows: dict[str, list[dict[str, float]]] = {v: [] for v in variants}
    with tempfile.TemporaryDirectory() as tmp:
        summary = Path(tmp) / "summary.json"
        for _ in range(args.rounds):
            for variant in variants:
                env = {k: v for k, v in os.environ.items() if k != native.PURE_ENV}
                if variant == "pure":
                    env[native.PURE_ENV] = "1"
                checkout = os.path.abspath(variant.split("=", 1)[1]) if "=" in variant else None
                if checkout:  # NAME=CHECKOUT: another checkout's code (``-m`` puts cwd first)
                    env["PYTHONPATH"] = checkout
                load = os.getloadavg()[0]
                subprocess.run(
                    [*base, "--summary", str(summary)],
                    cwd=checkout,
                    env=env,
                    check=True,
                    stdout=subprocess.DEVNULL,
                )
                row = json.loads(summary.read_text())
                rows[variant].append(row)
                print(
                    f"{variant:>8} (load {load:.1f}, {row['compiled']} compiled modules): "
                    f"median {row['median']:.3f} ms wall, {row['cpu_median']:.3f} ms CPU, "
                    f"CPU total {row['cpu_total']:.2f} s, fills {row['fills']}, "
                    f"answers {row['answers']}"
                )
    for variant, runs in rows.items():
        cpu = statistics.median(r["cpu_median"] for r in runs)
        wall = statistics.median(r["median"] for r in runs)
        print(
            f"{variant}: median of {len(runs)} runs' medians: {wall:.3f} ms wall, {cpu:.3f} ms CPU"
        )
    answers = {r["answers"] for runs in rows.values() for r in runs}
    print("answers identical in every run" if len(answers) == 1 else "ANSWERS DIFFER")
    return 0 if len(answers) == 1 else 1
