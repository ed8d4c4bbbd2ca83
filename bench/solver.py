"""``tributary bench solver``: the engines on a whole real auction — time, fills, score.

For each engine set (``baseline``, ``optimal``, ``batch``, ``batch,optimal``) the auction is
loaded afresh and solved ``--runs`` times under ``--time-limit`` seconds, as
``tributary solve`` does (the token graph is built inside the timed solve); the median wall
time is reported. The last run's solutions are checked (``solver.checks``: limit prices,
uniform prices, token flows, AMM legs) and scored (``solver.scoring``, CoW's rules).

Two totals per set, in native-token wei via the auction's reference prices:
* *offered*: the best order-disjoint set of valid solutions (greedy by score) — everything
  the engines found, each order counted once;
* *one round*: the winners CoW's fair combinatorial auction picks (``competition.arbitrate``,
  at most ``--max-winners``, one winner per directed token pair), as the node settles.
Score = surplus + protocol fees (CIP-38); this auction carries no fee policies, so the two
coincide here, and both are shown. Finally ``tributary solve`` itself is timed as a process
(Python start-up, loading, solving, printing).

Gas per trade: *declared* is the one-round winners' ``gas`` over their trades. *Measured*
comes from the devnet (``bench.interaction_gas``, with ``--devnet-gas``): the shared auction's
mainnet tokens and 842 pools are not on the devnet, so its winners cannot be settled there;
generated one- and two-trade solutions through the devnet's Uniswap V2 and V3 pools are
settled instead and their declared gas compared with the receipts' gasUsed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from intents.order import OrderKind
from solver.auction_file import load_auction
from solver.checks import CheckedTrade, SolutionRejected, check_solution
from solver.competition import Bid, arbitrate
from solver.engines import make_engine, solve_all
from solver.engines.base import forget_token_graph
from solver.model import Auction, Solution, now
from solver.scoring import ScoringError, bid, native_value, surplus

DEFAULT_AUCTION = "../shared/data/auctions/mainnet-7400681.json"  # as `make bench`
ENGINE_SETS = ("baseline", "optimal", "batch", "batch,optimal")


@dataclass(frozen=True, slots=True)
class Outcome:
    engines: str
    seconds: list[float]
    solutions: int
    valid: int
    rejected: dict[str, int]
    orders_filled: int
    offered_score: int
    offered_surplus: int
    round_winners: int
    round_score: int
    round_surplus: int
    round_trades: int
    round_gas: int


def surplus_native(trade: CheckedTrade, auction: Auction) -> int:
    """The trade's surplus over its limit price in native wei (CoW's conversion)."""
    order = trade.order
    value = surplus(order, trade.paid, trade.bought)
    if order.kind is OrderKind.BUY:
        value = value * order.signed_buy_amount // order.signed_sell_amount
    return native_value(value, auction.reference_price(order.buy_token) or 0)


def _solve(raw: bytes, engines: str, time_limit: float) -> tuple[float, Auction, list[Solution]]:
    deadline = now() + timedelta(seconds=time_limit)
    auction = load_auction(raw, deadline).with_deadline(deadline)
    forget_token_graph()  # an unchanged market would reuse the last run's graph
    started = time.perf_counter()
    solutions = solve_all([make_engine(name) for name in engines.split(",")], auction)
    return time.perf_counter() - started, auction, solutions


def evaluate(
    engines: str, seconds: list[float], auction: Auction, solutions: list[Solution], winners: int
) -> Outcome:
    rejected: dict[str, int] = {}
    bids: list[tuple[Bid[Solution], int, frozenset[bytes]]] = []
    for solution in solutions:
        try:
            checked = check_solution(auction, solution, solver=engines)
            made = bid(engines, solution, checked, auction)
            gained = sum(surplus_native(t, auction) for t in checked)
        except SolutionRejected as error:
            rejected[str(error.code)] = rejected.get(str(error.code), 0) + 1
            continue
        except ScoringError as error:
            rejected[error.code] = rejected.get(error.code, 0) + 1
            continue
        bids.append((made, gained, frozenset(t.order.uid for t in checked)))
    taken: set[bytes] = set()
    offered_score = offered_surplus = 0
    for made, gained, uids in sorted(bids, key=lambda b: -b[0].score):
        if made.score > 0 and uids.isdisjoint(taken):
            taken |= uids
            offered_score += made.score
            offered_surplus += gained
    surplus_of = {id(made): gained for made, gained, _ in bids}
    ranking = arbitrate([made for made, _, _ in bids], max_winners=winners)
    return Outcome(
        engines=engines,
        seconds=seconds,
        solutions=len(solutions),
        valid=len(bids),
        rejected=rejected,
        orders_filled=len(taken),
        offered_score=offered_score,
        offered_surplus=offered_surplus,
        round_winners=len(ranking.winners),
        round_score=ranking.total_score,
        round_surplus=sum(surplus_of[id(w)] for w in ranking.winners),
        round_trades=sum(len(w.solution.trades) for w in ranking.winners),
        round_gas=sum(w.solution.gas for w in ranking.winners),
    )


def time_cli(auction: str, runs: int) -> list[tuple[float, int]]:
    """Wall seconds and number of solutions of ``tributary solve --auction FILE`` as a
    whole process."""
    command = [str(Path(sys.executable).with_name("tributary")), "solve", "--auction", auction]
    results = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, check=False)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"tributary solve failed: {done.stderr.decode()[-500:]}")
        results.append((elapsed, len(json.loads(done.stdout)["solutions"])))
    return results


def _ratio(value: int, base: int) -> str:
    return f"{value / base:.3f}" if base else "n/a"


def report(
    outcomes: Sequence[Outcome], cli: list[tuple[float, int]], orders: int, command: str
) -> str:
    base = outcomes[0]
    lines = [
        f"`{command}` — {orders} orders",
        "",
        "| engines | wall s (median) | solutions | valid | orders filled | offered score "
        "(wei) | x baseline | offered surplus (wei) | x baseline | one-round winners | "
        "one-round trades | one-round score (wei) | x baseline | declared gas/trade |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for o in outcomes:
        lines.append(
            f"| {o.engines} | {statistics.median(o.seconds):.2f} | {o.solutions} | {o.valid} | "
            f"{o.orders_filled} | {o.offered_score:,} | "
            f"{_ratio(o.offered_score, base.offered_score)} | {o.offered_surplus:,} | "
            f"{_ratio(o.offered_surplus, base.offered_surplus)} | {o.round_winners} | "
            f"{o.round_trades} | {o.round_score:,} | {_ratio(o.round_score, base.round_score)} | "
            f"{o.round_gas // o.round_trades if o.round_trades else 0:,} |"
        )
    rejected = {o.engines: o.rejected for o in outcomes if o.rejected}
    lines += [
        "",
        f"rejected by the checks: {rejected or 'none'}",
    ]
    if cli:
        lines.append(
            "`tributary solve` (default engine) as a process: median "
            f"{statistics.median(s for s, _ in cli):.2f} s wall; runs: "
            + ", ".join(f"{s:.2f} s / {n} solutions" for s, n in cli)
        )
    return "\n".join(lines)


def devnet_gas_report() -> list[str]:
    """Declared gas against receipts on a fresh devnet (``bench.interaction_gas``)."""
    from bench.interaction_gas import measure_all, new_devnet, report
    from devnet.anvil import Devnet

    with Devnet() as node:
        devnet, pools = new_devnet(node)
        measured = measure_all(node, devnet, pools)
    return [
        "Gas measured on the devnet (generated solutions through Uniswap V2/V3, "
        "not the shared auction):",
        "",
        *report(measured),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tributary bench solver")
    parser.add_argument("--auction", default=DEFAULT_AUCTION, help="auction JSON (either format)")
    parser.add_argument("--runs", type=int, default=3, help="timed solves per engine set")
    parser.add_argument("--time-limit", type=float, default=3.0, help="seconds per solve")
    parser.add_argument("--max-winners", type=int, default=10, help="winners of one round")
    parser.add_argument(
        "--engines", nargs="+", default=list(ENGINE_SETS), help="engine sets, first = reference"
    )
    parser.add_argument("--cli-runs", type=int, default=3, help="timed `tributary solve` runs")
    parser.add_argument(
        "--devnet-gas",
        action="store_true",
        help="also settle generated V2/V3 solutions on a devnet: declared gas vs receipt",
    )
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    raw = Path(args.auction).read_bytes()
    outcomes = []
    orders = 0
    for engines in args.engines:
        seconds: list[float] = []
        for _ in range(args.runs):
            elapsed, auction, solutions = _solve(raw, engines, args.time_limit)
            seconds.append(elapsed)
        orders = len(auction.orders)
        outcomes.append(evaluate(engines, seconds, auction, solutions, args.max_winners))
        print(f"{engines}: {', '.join(f'{s:.2f}' for s in seconds)} s", file=sys.stderr)
    cli = time_cli(args.auction, args.cli_runs) if args.cli_runs else []
    command = "python -m bench.solver " + " ".join(argv)
    print(report(outcomes, cli, orders, command.strip()))
    if args.devnet_gas:
        print("\n" + "\n".join(devnet_gas_report()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
