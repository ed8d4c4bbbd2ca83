"""The building blocks of merged solutions (``solver.merge``): candidate solutions that
pass the checks, scored, with their pairs and pools."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from routing.pool import PoolId, TokenAddress
from solver.checks import CheckedTrade, SolutionRejected, check_solution
from solver.competition import Pair, reference_scores
from solver.model import Auction, Solution
from solver.scoring import ScoringError, bid


@dataclass(frozen=True, slots=True)
class Unit:
    """A candidate solution as a building block: its trades with their orders, score,
    directed pairs. One trade, or several of one directed pair and kind sharing one route
    (``solver.merge_joint``): its rate may move (a routed fill); else its prices are kept
    (a coincidence of wants)."""

    solution: Solution
    checked: tuple[CheckedTrade, ...]
    score: int
    pairs: frozenset[Pair]

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
        units.append(Unit(solution, tuple(checked), made.score, made.pairs))
    units.sort(key=lambda u: (-u.score, u.solution.engine, u.solution.id))
    return units, reference_scores(bids)
