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
coincide here, and both are shown. With ``--fee-policy`` (repeatable, as ``tributary serve``'s,
e.g. ``surplus:0.5:0.01``) every ``limit``-class order is also given those policies (CoW
charges no protocol fee on a ``market`` order) and each solution is
charged as the node charges it (``solver.protocol_fee``) before it is checked and scored:
a second table shows the scores with the fees on, and per engine set the one-round score on
and off and the fees the winners charge (native wei at the reference prices). Finally
``tributary solve`` itself is timed as a process (Python start-up, loading, solving,
printing).

Gas per trade: *declared* is the one-round winners' ``gas`` over their trades. *Measured*
comes from the devnet (``bench.interaction_gas``, with ``--devnet-gas``): the shared auction's
mainnet tokens and 842 pools are not on the devnet, so its winners cannot be settled there;
generated one- and two-trade solutions through the devnet's Uniswap V2 and V3 pools are
settled instead and their declared gas compared with the receipts' gasUsed.

Issue 12 (``bench.scale``, ``bench.judgment``): the auctions may be generated in the run
(``--generate 1000,5000 --seed 7 --market busy``) or several files; per auction, besides the
table above, every solution's declared gas is held against ``--gas-limit`` (a solution over
it is counted and kept out of the bids: it could not be mined), trades per solution are
summarized, one round is run over all engine sets' bids pooled against ``baseline``'s alone,
and ``tributary solve --time-limit T`` is measured as a process tree (wall, peak memory).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.judgment import MAX_WINNERS, REFERENCE, Judgment, judge, one_round
from bench.judgment import report as judgment_report
from bench.scale import (
    GAS_LIMIT,
    CliRun,
    Source,
    add_source_arguments,
    cli_report,
    run_cli,
    sources,
    trades_summary,
)
from intents.order import OrderClass, OrderKind
from solver.auction_file import load_auction
from solver.checks import CheckedTrade, Rejection, SolutionRejected, check_solution
from solver.competition import Bid
from solver.engines import make_engine, solve_all
from solver.engines.base import forget_token_graph
from solver.fee_policies import DEFAULT_MAX_PARTNER_FEE, FeeConfig, order_policies
from solver.model import Auction, Solution, now
from solver.protocol_fee import FeeError, charge_solution
from solver.scoring import ScoringError, bid, native_value, surplus

DEFAULT_AUCTION = "../shared/data/auctions/mainnet-7400681.json"  # as `make bench`
ENGINE_SETS = ("baseline", "optimal", "batch", "batch,optimal", "baseline,optimal,batch")


@dataclass(frozen=True, slots=True)
class Outcome:
    engines: str
    seconds: list[float]
    solutions: int
    valid: int
    rejected: dict[str, int]
    over_gas_limit: int
    trades: list[int]
    """Trades per valid solution."""
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


@dataclass(frozen=True, slots=True)
class Evaluated:
    outcome: Outcome
    bids: list[Bid[Solution]]
    """The valid solutions within the gas limit, as bids named after the engine set."""


def evaluate(
    engines: str,
    seconds: list[float],
    auction: Auction,
    solutions: list[Solution],
    winners: int,
    gas_limit: int = GAS_LIMIT,
) -> Evaluated:
    """Check (one settlement each, legs re-simulated in order), hold against the gas limit,
    score, and run one round over the engine set's own bids."""
    rejected: dict[str, int] = {}
    bids: list[tuple[Bid[Solution], int, frozenset[bytes]]] = []
    over = 0
    for solution in solutions:
        try:
            checked = check_solution(auction, solution, solver=engines, gas_limit=gas_limit)
            made = bid(engines, solution, checked, auction)
            gained = sum(surplus_native(t, auction) for t in checked)
        except SolutionRejected as error:
            if error.code is Rejection.GAS_LIMIT_EXCEEDED:
                over += 1
            else:
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
    own = one_round((made for made, _, _ in bids), max_winners=winners)
    outcome = Outcome(
        engines=engines,
        seconds=seconds,
        solutions=len(solutions),
        valid=len(bids) + over,
        rejected=rejected,
        over_gas_limit=over,
        trades=[len(made.solution.trades) for made, _, _ in bids],
        orders_filled=len(taken),
        offered_score=offered_score,
        offered_surplus=offered_surplus,
        round_winners=len(own.winners),
        round_score=own.score,
        round_surplus=sum(surplus_of[id(w)] for w in own.winners),
        round_trades=own.orders,
        round_gas=own.gas,
    )
    return Evaluated(outcome=outcome, bids=[made for made, _, _ in bids])


def _ratio(value: int, base: int) -> str:
    return f"{value / base:.3f}" if base else "n/a"


def report(outcomes: Sequence[Outcome], orders: int, title: str) -> str:
    """One auction's table, one row per engine set (the first is the reference)."""
    base = outcomes[0]
    lines = [
        f"{title} — {orders} orders",
        "",
        "| engines | wall s (median) | solutions | valid | over gas limit | trades/solution "
        "median / max | orders filled | offered score (wei) | x baseline | offered surplus "
        "(wei) | x baseline | one-round winners | one-round score (wei) | x baseline | "
        "declared gas/trade |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for o in outcomes:
        lines.append(
            f"| {o.engines} | {statistics.median(o.seconds):.2f} | {o.solutions} | {o.valid} | "
            f"{o.over_gas_limit} | {trades_summary(o.trades)} | "
            f"{o.orders_filled} | {o.offered_score:,} | "
            f"{_ratio(o.offered_score, base.offered_score)} | {o.offered_surplus:,} | "
            f"{_ratio(o.offered_surplus, base.offered_surplus)} | {o.round_winners} | "
            f"{o.round_score:,} | {_ratio(o.round_score, base.round_score)} | "
            f"{o.round_gas // o.round_trades if o.round_trades else 0:,} |"
        )
    rejected = {o.engines: o.rejected for o in outcomes if o.rejected}
    lines += ["", f"rejected by the checks: {rejected or 'none'}"]
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tributary bench solver")
    add_source_arguments(parser, DEFAULT_AUCTION)
    parser.add_argument("--runs", type=int, default=3, help="timed solves per engine set")
    parser.add_argument("--time-limit", type=float, default=3.0, help="seconds per solve")
    parser.add_argument("--max-winners", type=int, default=MAX_WINNERS, help="winners of a round")
    parser.add_argument("--gas-limit", type=int, default=GAS_LIMIT, help="gas of one settlement")
    parser.add_argument(
        "--engines", nargs="+", default=list(ENGINE_SETS), help="engine sets, first = reference"
    )
    parser.add_argument("--cli-runs", type=int, default=3, help="timed `tributary solve` runs")
    parser.add_argument("--cli-engine", default=None, help="`tributary solve --engine` (default)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--plot", metavar="PNG", help="also plot them (matplotlib)")
    parser.add_argument(
        "--fee-policy", action="append", default=[], metavar="POLICY",
        help="also score with this protocol fee policy on every limit order (repeatable; "
        "surplus:F:MAX_VOLUME, priceImprovement:F:MAX_VOLUME, volume:F)",
    )  # fmt: skip
    parser.add_argument(
        "--devnet-gas",
        action="store_true",
        help="also settle generated V2/V3 solutions on a devnet: declared gas vs receipt",
    )
    return parser


@dataclass(frozen=True, slots=True)
class AuctionResult:
    name: str
    """Short: the file's stem."""
    label: str
    orders: int
    outcomes: list[Outcome]
    judgment: Judgment | None
    """``None`` without ``baseline`` and another engine set."""
    cli: list[CliRun]
    with_fees: list[FeeOutcome] = dataclasses.field(default_factory=list)
    """With ``--fee-policy``: per engine set, its outcome with the fees on."""


@dataclass(frozen=True, slots=True)
class FeeOutcome:
    outcome: Outcome
    round_fees: int
    """What the one-round winners charge, native wei at the reference prices."""


def with_fees(
    evaluated: Evaluated, auction: Auction, solutions: list[Solution], args: argparse.Namespace
) -> FeeOutcome:
    """The engine set's solutions charged the ``--fee-policy`` policies, as the node does."""
    config = FeeConfig.parse(args.fee_policy, "0x" + "fe" * 20, DEFAULT_MAX_PARTNER_FEE)
    orders = tuple(
        dataclasses.replace(
            o,
            fee_policies=order_policies(
                config, None, o.signed_sell_amount, limit_class=o.order_class is OrderClass.LIMIT
            ),
        )
        for o in auction.orders
    )
    fee_auction = dataclasses.replace(auction, orders=orders)
    charged = []
    for solution in solutions:
        try:
            charged.append(charge_solution(fee_auction, solution))
        except FeeError:
            continue
    on = evaluate(
        evaluated.outcome.engines,
        evaluated.outcome.seconds,
        fee_auction,
        charged,
        args.max_winners,
        args.gas_limit,
    )
    winners = one_round(on.bids, max_winners=args.max_winners).winners
    fees = sum(
        native_value(c.amount, fee_auction.reference_price(c.token) or 0)
        for w in winners
        for c in w.solution.charges
    )
    return FeeOutcome(on.outcome, fees)


def fee_report(result: AuctionResult) -> list[str]:
    lines = [
        "With the fee policies on (the same solutions, charged as the node charges them):",
        "",
        "| engines | one-round score off (wei) | on (wei) | on / off | winners' fees (wei) |",
        "|---|---:|---:|---:|---:|",
    ]
    for off, on in zip(result.outcomes, result.with_fees, strict=True):
        lines.append(
            f"| {off.engines} | {off.round_score:,} | {on.outcome.round_score:,} | "
            f"{_ratio(on.outcome.round_score, off.round_score)} | {on.round_fees:,} |"
        )
    return lines


def bench_auction(source: Source, args: argparse.Namespace) -> AuctionResult:
    """Every engine set on one auction, the pooled judgment and the measured process."""
    evaluated: list[Evaluated] = []
    fees: list[FeeOutcome] = []
    orders = 0
    for engines in args.engines:
        seconds: list[float] = []
        for _ in range(args.runs):
            elapsed, auction, solutions = _solve(source.raw, engines, args.time_limit)
            seconds.append(elapsed)
        orders = len(auction.orders)
        evaluated.append(
            evaluate(engines, seconds, auction, solutions, args.max_winners, args.gas_limit)
        )
        if args.fee_policy:
            fees.append(with_fees(evaluated[-1], auction, solutions, args))
        print(f"{engines}: {', '.join(f'{s:.2f}' for s in seconds)} s", file=sys.stderr)
    bids = {e.outcome.engines: e.bids for e in evaluated}
    judged = (
        judge(bids, max_winners=args.max_winners) if REFERENCE in bids and len(bids) > 1 else None
    )
    runs = [
        run_cli(source.path, args.time_limit, args.gas_limit, args.cli_engine)
        for _ in range(args.cli_runs)
    ]
    return AuctionResult(
        source.path.stem, source.label, orders, [e.outcome for e in evaluated], judged, runs, fees
    )


def render(result: AuctionResult, args: argparse.Namespace) -> str:
    parts = [report(result.outcomes, result.orders, result.label)]
    if result.judgment is not None:
        parts += ["", *judgment_report(result.judgment)]
    if result.with_fees:
        parts += ["", *fee_report(result)]
    if result.cli:
        parts += ["", *cli_report(result.cli, args.time_limit, args.cli_engine)]
    return "\n".join(parts)


def summary(result: AuctionResult, time_limit: float) -> dict[str, Any]:
    """The figures of one auction as plain JSON (``--json``; ``bench.scale_plot`` reads it)."""
    judged = result.judgment
    return {
        "name": result.name,
        "auction": result.label,
        "orders": result.orders,
        "time_limit": time_limit,
        "engines": [
            {
                "engines": o.engines,
                "seconds": o.seconds,
                "solutions": o.solutions,
                "valid": o.valid,
                "over_gas_limit": o.over_gas_limit,
                "trades": o.trades,
                "offered_score": o.offered_score,
                "round_score": o.round_score,
                "round_trades": o.round_trades,
            }
            for o in result.outcomes
        ],
        "judgment": None
        if judged is None
        else {
            "pooled_score": judged.pooled.score,
            "pooled_orders": judged.pooled.orders,
            "alone_score": judged.alone.score,
            "alone_orders": judged.alone.orders,
            "ratio": judged.ratio,
        },
        "cli": [
            {
                "wall": c.run.wall,
                "peak_tree_rss": c.run.peak_tree_rss,
                "peak_bound": c.run.peak_bound,
                "solutions": len(c.trades),
                "trades": sum(c.trades),
                "over_gas_limit": c.over_gas_limit,
            }
            for c in result.cli
        ],
    }


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    print("`" + " ".join(["python -m bench.solver", *argv]) + "`")
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-solver-") as directory:
        for source in sources(args, Path(directory)):
            results.append(summary(result := bench_auction(source, args), args.time_limit))
            print("\n" + render(result, args), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    if args.plot:
        from bench.scale_plot import plot

        plot(results, Path(args.plot))
    if args.devnet_gas:
        print("\n" + "\n".join(devnet_gas_report()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
