"""Issue 12's judgment: one round of our fair combinatorial auction over every engine's bids,
against the same round over ``baseline``'s bids alone.

The node receives bids from several solvers; here every engine set of a bench run plays one
solver (its bids carry the engine set's name). The winners are picked as the node picks them
(``solver.competition.arbitrate``, CIP-38 scores, at most ``max_winners``, the wrapped native
token standing for ``0xeeee…``), once from all engine sets' bids pooled and once from the
reference set's bids alone, in the same run. Targets: the pooled winners score at least
``SCORE_TARGET`` times the reference's and settle at least as many orders.

When the reference's bids are all single-pair (``baseline`` settles one order per solution)
and are among the pooled ones, the pooled winners never score less: a fair batch scores at
least the best single-pair bid on each of its pairs, and greedy selection takes the best
available bid first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from routing.baseline import WETH
from routing.pool import TokenAddress
from solver.competition import Bid, arbitrate
from solver.model import Solution

SCORE_TARGET = 1.25
"""Issue 12: pooled winners' score over the reference's."""
REFERENCE = "baseline"
MAX_WINNERS = 10
"""The node's default (``solver.auctioneer``'s ``max_winners``)."""


@dataclass(frozen=True, slots=True)
class Round:
    """The winners of one round over ``bids`` bids."""

    bids: int
    winners: tuple[Bid[Solution], ...]

    @property
    def score(self) -> int:
        return sum(w.score for w in self.winners)

    @property
    def orders(self) -> int:
        """Orders the winners settle (each order trades at most once per solution, and
        winners are disjoint on directed pairs, so no order is counted twice)."""
        return sum(len(w.solution.trades) for w in self.winners)

    @property
    def gas(self) -> int:
        return sum(w.solution.gas for w in self.winners)

    @property
    def gas_per_trade(self) -> int:
        return self.gas // self.orders if self.orders else 0

    def winners_by_solver(self) -> dict[str, int]:
        count: dict[str, int] = {}
        for w in self.winners:
            count[w.solver] = count.get(w.solver, 0) + 1
        return count


@dataclass(frozen=True, slots=True)
class Judgment:
    reference: str
    pooled: Round
    alone: Round

    @property
    def ratio(self) -> float | None:
        return self.pooled.score / self.alone.score if self.alone.score else None

    @property
    def score_met(self) -> bool:
        ratio = self.ratio
        return ratio is not None and ratio >= SCORE_TARGET

    @property
    def orders_met(self) -> bool:
        return self.pooled.orders >= self.alone.orders


def one_round(
    bids: Iterable[Bid[Solution]],
    max_winners: int = MAX_WINNERS,
    wrapped_native: TokenAddress | None = WETH,
) -> Round:
    """The node's winner selection over ``bids``."""
    offered = list(bids)
    ranking = arbitrate(offered, max_winners=max_winners, wrapped_native=wrapped_native)
    return Round(bids=len(offered), winners=ranking.winners)


def judge(
    bids: Mapping[str, Sequence[Bid[Solution]]],
    reference: str = REFERENCE,
    max_winners: int = MAX_WINNERS,
    wrapped_native: TokenAddress | None = WETH,
) -> Judgment:
    """All engine sets' bids (``bids[name]``, each bid's ``solver`` is ``name``) pooled,
    against ``bids[reference]`` alone; raises ``KeyError`` without the reference."""
    alone = bids[reference]
    pooled = [b for name in bids for b in bids[name]]
    return Judgment(
        reference=reference,
        pooled=one_round(pooled, max_winners, wrapped_native),
        alone=one_round(alone, max_winners, wrapped_native),
    )


def report(judgment: Judgment) -> list[str]:
    """Markdown lines: both rounds side by side and the two targets."""
    rows = []
    for label, side in (
        ("all engine sets' bids", judgment.pooled),
        (f"`{judgment.reference}`'s bids alone", judgment.alone),
    ):
        by_solver = ", ".join(f"{n} {c}" for n, c in sorted(side.winners_by_solver().items()))
        rows.append(
            f"| {label} | {side.bids} | {len(side.winners)} ({by_solver or '-'}) | "
            f"{side.score:,} | {side.orders} | {side.gas_per_trade:,} |"
        )
    ratio = judgment.ratio
    return [
        "| one round from | bids | winners (by engine set) | winning score (wei) | "
        "orders settled | declared gas/trade |",
        "|---|---:|---|---:|---:|---:|",
        *rows,
        "",
        f"score ratio {'n/a' if ratio is None else f'{ratio:.3f}'} (target >= {SCORE_TARGET}: "
        f"{'met' if judgment.score_met else 'NOT met'}); orders settled "
        f"{judgment.pooled.orders} vs {judgment.alone.orders} (target >=: "
        f"{'met' if judgment.orders_met else 'NOT met'})",
    ]
