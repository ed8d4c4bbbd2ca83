"""The building blocks of merged solutions (``solver.merge``): candidate solutions that
pass the checks, scored, with their pairs and pools."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from routing.pool import PoolId, TokenAddress
from solver.checks import CheckedTrade, SolutionRejected, check_solution
from solver.competition import Bid, Pair, reference_scores, winners_score
from solver.model import Auction, Solution
from solver.scoring import ScoringError, bid

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Unit:
    """A candidate solution as a building block: its trades with their orders, score,
    directed pairs. One trade, or several of one directed pair and kind sharing one route
    (``solver.merge_joint``): its rate may move (a routed fill); else its prices are kept
    (a coincidence of wants)."""

    solution: Solution
    checked: tuple[CheckedTrade, ...]
    made: Bid[Solution]
    """The candidate's own bid (``solver.scoring.bid``)."""

    @property
    def score(self) -> int:
        return self.made.score

    @property
    def pairs(self) -> frozenset[Pair]:
        return self.made.pairs

    @property
    def routed(self) -> bool:
        kinds = {c.order.kind for c in self.checked}
        return len(self.checked) == 1 or (len(self.pairs) == 1 and len(kinds) == 1)

    @property
    def tokens(self) -> set[TokenAddress]:
        return {t for c in self.checked for t in (c.order.sell_token, c.order.buy_token)}

    def pools(self) -> set[PoolId]:
        return {leg.pool for leg in self.solution.legs}


def units_of(
    auction: Auction, candidates: Iterable[Solution]
) -> tuple[list[Unit], dict[Pair, int]]:
    """The candidates that pass the checks and can be scored, best first, and the best
    single-pair score per directed pair among them."""
    units = []
    bids = []
    for solution in candidates:
        try:
            checked = check_solution(auction, solution, solver=solution.engine or "candidate")
            made = bid(solution.engine, solution, checked, auction)
        except (SolutionRejected, ScoringError):
            continue
        bids.append(made)
        units.append(Unit(solution, tuple(checked), made))
    units.sort(key=lambda u: (-u.score, u.solution.engine, u.solution.id))
    return units, reference_scores(bids)


def no_worse(
    merged: Sequence[Bid[Solution]], candidates: Sequence[Bid[Solution]]
) -> list[Bid[Solution]]:
    """The merged solutions, less those without which the winners of ``candidates`` and
    the rest (``competition.winners_score``) score more, the most costly first: a merged
    solution holds its pools, and a candidate too large to join it (its gas) may score more
    on them than what the merged solution gains."""
    kept = list(merged)
    alone = winners_score(candidates)

    def total(bids: Sequence[Bid[Solution]]) -> int:
        return winners_score([*bids, *candidates])

    while kept and total(kept) < alone:
        worst = max(kept, key=lambda b: total([k for k in kept if k is not b]))
        logger.info(
            "merge: a merged solution of %d trades would lower the auction's winners' score",
            len(worst.solution.trades),
        )
        kept.remove(worst)
    return kept
