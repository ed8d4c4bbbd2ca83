"""The scale parts of ``bench solver`` (issue 12): which auctions, and ``tributary solve`` as
a measured process.

Auctions come from files (``--auction FILE ...``) or are generated in-process over a
snapshot (``--generate 1000,5000 --seed 7 --market default``, ``bench.generate`` with its
defaults but the market preset): the same seed gives the same bytes as
``bench generate --orders N --seed S``. A generated auction is also written to a temporary
file, for the ``tributary solve`` process.

``tributary solve --auction FILE --time-limit T`` runs as its own process
(``bench.process_tree``): wall time with Python start-up and loading, peak memory of its
whole process tree, and what it printed — solutions and their trades.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import solver
from bench.generate import FACING, Settings, generate
from bench.process_tree import ProcessRun, run_measured
from solver.model import MAX_SETTLEMENT_GAS

GAS_LIMIT = MAX_SETTLEMENT_GAS
"""Default gas limit of one settlement (``--gas-limit``): the solver's own."""
MARKETS = {"default": "normal", "busy": "busy"}
"""``--market`` -> ``bench.generate``'s facing preset."""
MEMORY_TARGET = 2**30
MIB = 2**20


@dataclass(frozen=True, slots=True)
class Source:
    label: str
    path: Path
    raw: bytes


def file_sources(paths: Sequence[str]) -> Iterator[Source]:
    for path in paths:
        yield Source(label=path, path=Path(path), raw=Path(path).read_bytes())


def generated_sources(
    snapshot: str, sizes: Sequence[int], seed: int, market: str, directory: Path
) -> Iterator[Source]:
    """One generated auction per size, written to ``directory`` as it is produced."""
    doc = json.loads(Path(snapshot).read_bytes())
    for size in sizes:
        raw = generate(doc, Settings(orders=size, seed=seed, facing=FACING[MARKETS[market]]))
        path = directory / f"gen-{size}-s{seed}-{market}.json"
        path.write_bytes(raw)
        yield Source(
            label=f"generated: {size} orders over {snapshot}, seed {seed}, market {market}",
            path=path,
            raw=raw,
        )


def sizes(value: str) -> list[int]:
    """``1000,5000`` -> [1000, 5000] (argparse type)."""
    return [int(part) for part in value.split(",") if part.strip()]


def add_source_arguments(parser: argparse.ArgumentParser, default_auction: str) -> None:
    """``--auction FILE ...`` or ``--generate N[,N...]`` with ``--snapshot``, ``--seed``,
    ``--market``: the auctions a suite runs on (``sources``)."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--auction", nargs="+", default=[default_auction], help="auction JSON file(s)"
    )
    source.add_argument(
        "--generate", type=sizes, metavar="N[,N...]", help="generate auctions of N orders"
    )
    parser.add_argument("--snapshot", default=default_auction, help="liquidity for --generate")
    parser.add_argument("--seed", type=int, default=7, help="seed for --generate")
    parser.add_argument("--market", choices=sorted(MARKETS), default="default")


def sources(args: argparse.Namespace, directory: Path) -> Iterator[Source]:
    """The auctions ``add_source_arguments`` chose (generated ones written to ``directory``)."""
    if args.generate:
        return generated_sources(args.snapshot, args.generate, args.seed, args.market, directory)
    return file_sources(args.auction)


@dataclass(frozen=True, slots=True)
class CliRun:
    run: ProcessRun
    trades: list[int]
    """Trades per printed solution."""
    over_gas_limit: int


def same_code_env() -> dict[str, str]:
    """Our environment with the checkout whose ``solver`` this process imported first on
    ``PYTHONPATH``: the ``tributary`` script of a shared venv would otherwise import the
    checkout it was installed from, not the worktree being measured."""
    root = str(Path(solver.__file__).resolve().parent.parent)
    paths = [root, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def run_cli(
    path: Path, time_limit: float, gas_limit: int = GAS_LIMIT, engine: str | None = None
) -> CliRun:
    """``tributary solve`` on ``path`` as a measured process; raises ``RuntimeError`` if it
    fails."""
    command = [str(Path(sys.executable).with_name("tributary")), "solve", "--auction", str(path)]
    command += ["--time-limit", str(time_limit)]
    if engine:
        command += ["--engine", engine]
    run = run_measured(command, env=same_code_env())
    if run.returncode != 0:
        raise RuntimeError(f"tributary solve failed: {run.stderr.decode()[-500:]}")
    solutions = json.loads(run.stdout)["solutions"]
    return CliRun(
        run=run,
        trades=[len(s["trades"]) for s in solutions],
        over_gas_limit=sum((s.get("gas") or 0) > gas_limit for s in solutions),
    )


def trades_summary(trades: Sequence[int]) -> str:
    """``median / max`` trades per solution."""
    if not trades:
        return "- / -"
    return f"{statistics.median(trades):g} / {max(trades)}"


def cli_report(runs: Sequence[CliRun], time_limit: float, engine: str | None) -> list[str]:
    if not runs:
        return []
    lines = [
        f"`tributary solve --time-limit {time_limit:g}"
        + (f" --engine {engine}" if engine else "")
        + "` as a process (start-up and loading included):",
        "",
        "| run | wall s | peak tree RSS (MiB, sampled) | peak bound: sum of peaks (MiB) | largest "
        "process (MiB) | processes | solutions | trades | trades/solution median / max | over gas "
        "limit |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for i, cli in enumerate(runs, 1):
        r = cli.run
        lines.append(
            f"| {i} | {r.wall:.2f} | {r.peak_tree_rss / MIB:,.0f} | {r.peak_bound / MIB:,.0f} | "
            f"{r.largest / MIB:,.0f} | {r.processes} | {len(cli.trades)} | {sum(cli.trades)} | "
            f"{trades_summary(cli.trades)} | {cli.over_gas_limit} |"
        )
    wall = max(c.run.wall for c in runs)
    memory = max(c.run.peak_bound for c in runs)
    lines += [
        "",
        f"slowest {wall:.2f} s (target: within the time limit, {time_limit:g} s: "
        f"{'met' if wall <= time_limit else 'NOT met'}); largest peak bound "
        f"{memory / MIB:,.0f} MiB (target <= {MEMORY_TARGET // MIB:,} MiB at 10,000 orders: "
        f"{'met' if memory <= MEMORY_TARGET else 'NOT met'})",
    ]
    return lines
