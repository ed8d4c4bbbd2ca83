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
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from bench.solver import DEFAULT_AUCTION, surplus_native
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
    args = parser.parse_args(argv)
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
        f"(graph + screen {setup:.2f} s)"
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
    return 0
