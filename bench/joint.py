"""``tributary bench joint``: same-pair orders routed jointly vs the greedy sequence (issue 12).

**Same candidates** (the measurement that isolates the router): the per-order candidates
are found once (``--candidates`` engines, ``--candidates-time`` seconds, as ``solve_all``),
then each way of ``WAYS`` (``--ways``) is run on them: *greedy*, the candidates merged
(``solver.merge``, each order's own route replayed after the others'); *joint*, the
same-pair groups routed jointly (``solver.merge_joint``), a group's joint solution kept
where it scores more than its greedy sequence and merged with the candidates; *batch*, the
better of those two merges by their merged solutions' summed score, as ``batch`` does;
*joint-wide* and *joint-offered*, variants ``batch`` does not use. Per way: groups formed
and kept, the kept groups' orders and gain over their greedy sequence, and the one round
the node's winner selection picks over the bids (merged solutions and candidates):
winners, orders settled, CIP-38 score, declared gas per trade, seconds.

**End to end** per auction and engine set (``--engines``, default the node's
``baseline,optimal,batch``; none: skipped), the set is solved under ``--time-limit``
seconds as ``tributary solve`` does, with the ``batch`` engine's joint routing on and off
(``--batch-router joint greedy``): the one round over the set's valid bids and the wall
time; for the joint run also its groups, each computed both ways on the same orders.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from bench.judgment import Round, one_round
from bench.scale import Source, add_source_arguments, sources
from bench.solver import DEFAULT_AUCTION, Outcome, evaluate
from routing.optimizer import Router
from routing.sanity import DEFAULT_MAX_DEVIATION
from solver.auction_file import load_auction
from solver.checks import SolutionRejected, check_solution
from solver.competition import Bid
from solver.engines import make_engine, solve_all
from solver.engines.base import Engine, forget_token_graph, token_graph
from solver.engines.batch import BatchEngine, BatchReport
from solver.engines.sanity import PriceSanity
from solver.merge import merge_solutions
from solver.merge_joint import JointGroup, merge_with_joint, route_jointly
from solver.model import Auction, Solution, now
from solver.scoring import ScoringError, bid

ROUTERS = ("greedy", "joint")
WAYS = {
    "greedy": "the candidates merged, each order's own route replayed after the others'",
    "joint": "same-pair groups routed jointly over their own routes' pools, merged",
    "batch": "the better of greedy and joint by the merged solutions' summed score (batch)",
    "joint-wide": "the same, the joint route over all the auction's pools",
    "joint-offered": "as joint, the joint solutions also offered as bids of their own",
}
ENGINE_SETS = ("baseline,optimal,batch",)
CANDIDATES = "baseline,optimal"


@dataclass(frozen=True, slots=True)
class Way:
    """One way over the same candidates: its groups and the round over its bids."""

    router: str
    groups: int
    kept: int
    group_orders: int
    group_score: int
    round: Round
    seconds: float


def same_candidates(source: Source, args: argparse.Namespace) -> tuple[int, list[Way]]:
    """The candidates found once, then merged greedily and with joint groups (see the
    module docstring); (candidates, the two ways)."""
    deadline = now() + timedelta(seconds=args.candidates_time)
    auction = load_auction(source.raw, deadline).with_deadline(deadline)
    forget_token_graph()
    candidates = solve_all([make_engine(n) for n in args.candidates.split(",")], auction)
    far = now() + timedelta(seconds=3600)  # the comparison, not the deadline, is measured
    auction = auction.with_deadline(far)
    router = Router(token_graph(auction))
    ways = []
    for way in args.ways:
        started = time.perf_counter()
        groups: Sequence[JointGroup] = []
        offered: list[Solution] = []
        if way == "batch":
            chosen = merge_with_joint(auction, candidates)
            groups, merged = chosen.groups, list(chosen.merged)
        else:
            if way != "greedy":
                wide = router if way == "joint-wide" else None
                groups = route_jointly(auction, candidates, wide)
            jointly = [s for g in groups if (s := g.better) is not None]
            offered = jointly if way == "joint-offered" else []
            merged = merge_solutions(auction, [*offered, *candidates], unoffered=jointly)
        bids = _bids(auction, [*merged, *offered, *candidates])
        seconds = time.perf_counter() - started
        kept = [g for g in groups if g.better is not None]
        ways.append(
            Way(
                way,
                len(groups),
                len(kept),
                sum(g.joint.orders for g in kept),
                sum(g.joint.score - g.greedy.score for g in kept),
                one_round(bids, max_winners=args.max_winners),
                seconds,
            )
        )
    return len(candidates), ways


def _bids(auction: Auction, solutions: Sequence[Solution]) -> list[Bid[Solution]]:
    found = []
    for i, solution in enumerate(solutions):
        solution = replace(solution, id=i)
        try:
            checked = check_solution(auction, solution, solver=solution.engine)
            found.append(bid(solution.engine, solution, checked, auction))
        except (SolutionRejected, ScoringError):
            continue
    return found


def same_report(candidates: int, ways: Sequence[Way], args: argparse.Namespace) -> list[str]:
    lines = [
        f"Same candidates: {candidates} solutions of `{args.candidates}` in "
        f"{args.candidates_time:g} s, then both ways on them",
        "",
        "| batch router | same-pair groups | joint kept | their orders | their gain over "
        "greedy (wei) | one-round winners | orders settled | one-round score (wei) | "
        "declared gas/trade | seconds |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines[1:1] = ["", *(f"- {w.router}: {WAYS[w.router]}" for w in ways)]
    for w in ways:
        r = w.round
        lines.append(
            f"| {w.router} | {w.groups} | {w.kept} | {w.group_orders} | {w.group_score:,} | "
            f"{len(r.winners)} | {r.orders} | {r.score:,} | {_per_trade(r.gas, r.orders)} | "
            f"{w.seconds:.2f} |"
        )
    return lines


@dataclass(frozen=True, slots=True)
class Run:
    engines: str
    router: str
    outcome: Outcome
    report: BatchReport | None


def _engines(names: str, joint: bool) -> tuple[list[Engine], BatchEngine | None]:
    """The engine set, its ``batch`` engine built with joint routing on or off."""
    batch: BatchEngine | None = None
    engines: list[Engine] = []
    for name in names.split(","):
        if name == "batch":
            batch = BatchEngine(joint=joint)
            engines.append(PriceSanity(batch, DEFAULT_MAX_DEVIATION))
        else:
            engines.append(make_engine(name))
    return engines, batch


def solve_once(source: Source, engines: str, router: str, args: argparse.Namespace) -> Run:
    deadline = now() + timedelta(seconds=args.time_limit)
    auction = load_auction(source.raw, deadline).with_deadline(deadline)
    forget_token_graph()
    built, batch = _engines(engines, router == "joint")
    started = time.perf_counter()
    solutions = solve_all(built, auction)
    seconds = time.perf_counter() - started
    evaluated = evaluate(f"{engines} ({router})", [seconds], auction, solutions, args.max_winners)
    return Run(engines, router, evaluated.outcome, None if batch is None else batch.last_report)


def _per_trade(gas: int, trades: int) -> str:
    return f"{gas // trades if trades else 0:,}"


def _groups_line(label: str, groups: Sequence[JointGroup], joint: bool) -> str:
    side = [g.joint if joint else g.greedy for g in groups]
    wins = sum(1 for g in groups if (g.better is not None) == joint)
    return (
        f"| {label} | {len(groups)} | {wins} | {sum(s.orders for s in side)} | "
        f"{sum(s.score for s in side):,} | {sum(s.gas for s in side):,} | "
        f"{sum(s.seconds for s in side):.2f} |"
    )


def report(source: Source, runs: Sequence[Run], time_limit: float) -> str:
    lines = [
        f"{source.label} — `--time-limit {time_limit:g}`",
        "",
        "| engines | batch router | wall s | valid bids | one-round winners | orders settled "
        "| one-round score (wei) | declared gas/trade |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        o = run.outcome
        lines.append(
            f"| {run.engines} | {run.router} | {o.seconds[0]:.2f} | {o.valid} | "
            f"{o.round_winners} | {o.round_trades} | {o.round_score:,} | "
            f"{_per_trade(o.round_gas, o.round_trades)} |"
        )
    for run in runs:
        if run.router != "joint" or run.report is None:
            continue
        chosen = run.report.joint
        groups = chosen.groups
        lines += [
            "",
            f"{run.engines}: same-pair groups of the joint run, both ways on the same orders "
            f"({chosen.seconds:.2f} s in all); merged solutions' summed score: greedy "
            f"{chosen.greedy_score:,}, with the joint routes {chosen.joint_score or 0:,} wei, "
            f"kept: {'joint' if chosen.joint_kept else 'greedy'}",
            "",
            "| router | groups | kept | orders settled | score (wei) | declared gas | seconds |",
            "|---|---:|---:|---:|---:|---:|---:|",
            _groups_line("greedy sequence", groups, joint=False),
            _groups_line("joint", groups, joint=True),
        ]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tributary bench joint")
    add_source_arguments(parser, DEFAULT_AUCTION)
    parser.add_argument("--time-limit", type=float, default=8.0, help="seconds per solve")
    parser.add_argument("--max-winners", type=int, default=10, help="winners of a round")
    parser.add_argument(
        "--engines", nargs="*", default=list(ENGINE_SETS), help="end-to-end engine sets"
    )
    parser.add_argument("--candidates", default=CANDIDATES, help="engines of the candidates")
    parser.add_argument(
        "--ways", nargs="*", choices=list(WAYS), default=list(WAYS), help="same-candidates ways"
    )
    parser.add_argument(
        "--candidates-time", type=float, default=30.0, help="seconds to find the candidates"
    )
    parser.add_argument(
        "--batch-router", nargs="+", choices=ROUTERS, default=list(ROUTERS), help="runs"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    print("`" + " ".join(["python -m bench joint", *argv]) + "`")
    with tempfile.TemporaryDirectory(prefix="bench-joint-") as directory:
        for source in sources(args, Path(directory)):
            found, ways = same_candidates(source, args)
            print("\n" + source.label + "\n\n" + "\n".join(same_report(found, ways, args)))
            runs = []
            for engines in args.engines:
                for router in args.batch_router:
                    runs.append(run := solve_once(source, engines, router, args))
                    print(f"{engines} ({router}): {run.outcome.seconds[0]:.2f} s", file=sys.stderr)
            if runs:
                print("\n" + report(source, runs, args.time_limit), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
