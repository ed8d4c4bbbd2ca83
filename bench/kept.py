"""``tributary bench kept``: what our engines' solutions leave in the settlement contract.

Each auction is solved as ``tributary solve`` solves it (``solve_all`` over ``--engine``,
under ``--time-limit``); every solution whose trades and legs check (``solver.checks``:
prices, fills, limits, exact AMM legs) is settled on paper: per token, what the settlement
ends with beyond the declared fees (``solver.kept.kept_beyond_fees``), net over the
tokens, is what it keeps of the users' value. Printed per kind of solution (one order;
several, i.e. CoWs and merged solutions), in native wei at the auction's reference
prices: the value kept, what the users receive, their ratio, the largest share one
solution keeps, and how many solutions keep more than exact rounding allows
(``solver.kept.rounding_allowance``, which the ``UndeclaredSurplus`` check enforces).
Last, the score of the winners the fair combinatorial auction would pick among the
solutions that pass every check (``competition.winners_score``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from fractions import Fraction
from pathlib import Path

from solver.auction_file import load_auction
from solver.checks import SolutionRejected, check_solution, settlement_balances, uniform_prices
from solver.competition import winners_score
from solver.engines import make_engine, solve_all
from solver.engines.base import forget_token_graph
from solver.kept import kept_beyond_fees, rounding_allowance
from solver.model import Auction, Solution, now
from solver.scoring import ScoringError, bid, native_value


@dataclass(slots=True)
class Tally:
    solutions: int = 0
    kept: int = 0
    """Native wei kept beyond the declared fees (tokens kept, at reference prices)."""
    received: int = 0
    worst: Fraction = field(default_factory=Fraction)
    over: int = 0
    """Solutions keeping more than ``rounding_allowance`` (at their clearing prices)."""

    def add(self, kept: int, received: int, over: bool) -> None:
        self.solutions += 1
        self.kept += kept
        self.received += received
        self.worst = max(self.worst, Fraction(kept, max(received, 1)))
        self.over += over


def measure(auction: Auction, solution: Solution) -> tuple[int, int, bool] | None:
    """(native wei kept, native wei the users receive, beyond rounding?) or ``None`` if
    the solution fails the checks before the token flows."""
    try:
        checked, balances = settlement_balances(auction, solution)
    except SolutionRejected:
        return None
    beyond = kept_beyond_fees(checked, balances)
    # net over tokens: a CoW may hand one order's fee to the other side (kept in another
    # token, short in the fee's); a token without a reference price counts as nothing
    kept = max(0, sum(native_value(v, auction.reference_price(t) or 0) for t, v in beyond.items()))
    received = sum(
        native_value(c.bought, auction.reference_price(c.order.buy_token) or 0) for c in checked
    )
    prices = uniform_prices(solution)
    excess = sum(v * prices[t] for t, v in beyond.items() if t in prices)
    pools = {pool.id: pool for pool in auction.liquidity.pools}
    return kept, received, excess > rounding_allowance(checked, solution.legs, prices, pools)


def _row(name: str, tally: Tally) -> str:
    share = tally.kept / tally.received if tally.received else 0.0
    return (
        f"| {name} | {tally.solutions} | {tally.kept / 1e18:.9f} | {tally.received / 1e18:.3f} "
        f"| {share:.2e} | {float(tally.worst):.2e} | {tally.over} |"
    )


def bench_one(path: str, engines: str, time_limit: float) -> list[str]:
    forget_token_graph()
    deadline = now() + timedelta(seconds=time_limit)
    auction = load_auction(Path(path).read_bytes(), deadline).with_deadline(deadline)
    solutions = solve_all([make_engine(name) for name in engines.split(",")], auction)
    tallies = {"one order": Tally(), "several orders": Tally()}
    unchecked = 0
    bids = []
    for solution in solutions:
        try:
            checked = check_solution(auction, solution, solver=solution.engine or "bench")
            bids.append(bid(solution.engine, solution, checked, auction))
        except (SolutionRejected, ScoringError):
            pass
        found = measure(auction, solution)
        if found is None:
            unchecked += 1
            continue
        tallies["one order" if len(solution.trades) == 1 else "several orders"].add(*found)
    total = Tally()
    for tally in tallies.values():
        total.solutions += tally.solutions
        total.kept += tally.kept
        total.received += tally.received
        total.worst = max(total.worst, tally.worst)
        total.over += tally.over
    return [
        f"{Path(path).name}, engines {engines}, time limit {time_limit} s "
        f"({len(solutions)} solutions, {unchecked} failing the checks before the flows)",
        "",
        "| solutions | n | kept (ETH) | users receive (ETH) | kept / received | worst one "
        "| beyond rounding |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *(_row(name, tally) for name, tally in tallies.items()),
        _row("all", total),
        "",
        f"winners' score among the {len(bids)} solutions passing every check: "
        f"{winners_score(bids) / 1e18:.6f} ETH",
        "",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tributary bench kept", description=__doc__)
    parser.add_argument("--auction", nargs="+", required=True, help="auction files")
    parser.add_argument("--engine", default="baseline,optimal,batch", help="as tributary solve")
    parser.add_argument("--time-limit", type=float, default=8.0, help="seconds per solve")
    args = parser.parse_args(argv)
    for path in args.auction:
        print("\n".join(bench_one(path, args.engine, args.time_limit)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
