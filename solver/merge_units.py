"""The building blocks of merged solutions (``solver.merge``): candidate solutions that
pass the checks, scored, with their pairs and pools."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from routing.pool import PoolId, TokenAddress
from solver.checks import (
    CheckedTrade,
    SolutionRejected,
    check_limit,
    check_solution,
    uniform_prices,
)
from solver.competition import Bid, Pair, is_fair, reference_scores, winners_score
from solver.model import Auction, Solution, order_index
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
    units = [u for s in candidates if (u := unit_of(auction, s)) is not None]
    units.sort(key=lambda u: (-u.score, u.solution.engine, u.solution.id))
    return units, reference_scores(u.made for u in units)


def unit_of(auction: Auction, solution: Solution) -> Unit | None:
    """The candidate as a building block if it passes the checks and can be scored."""
    try:
        checked = check_solution(auction, solution, solver=solution.engine or "candidate")
        made = bid(solution.engine, solution, checked, auction)
    except (SolutionRejected, ScoringError):
        return None
    return Unit(solution, tuple(checked), made)


def estimated_bid(auction: Auction, solution: Solution) -> Bid[Solution] | None:
    """The candidate's bid from its trades at its own clearing prices (their limits
    checked, its legs not replayed): its bid if it passes the checks, at a small share of
    their cost; ``None`` if a trade cannot be priced or scored."""
    orders = order_index(auction)
    try:
        prices = uniform_prices(solution)
        checked = []
        for trade in solution.trades:
            order = orders.get(trade.order)
            if order is None or order.sell_token not in prices or order.buy_token not in prices:
                return None
            checked.append(check_limit(order, trade, prices))
        return bid(solution.engine, solution, checked, auction)
    except (SolutionRejected, ScoringError):
        return None


@dataclass(frozen=True, slots=True)
class Ranked:
    """Candidates ranked by their estimated bids (``estimated_bid``), best first, checked
    only when taken (``units``): a merge that stops early has checked no more than it
    merged. ``references`` are the best estimated single-pair scores."""

    auction: Auction
    bids: tuple[Bid[Solution], ...]

    @classmethod
    def of(cls, auction: Auction, candidates: Iterable[Solution]) -> Ranked:
        bids = [b for s in candidates if (b := estimated_bid(auction, s)) is not None]
        bids.sort(key=lambda b: (-b.score, b.solver, b.solution_id))
        return cls(auction, tuple(bids))

    @property
    def references(self) -> dict[Pair, int]:
        return reference_scores(self.bids)

    def units(self) -> Iterator[Unit]:
        for made in self.bids:
            unit = unit_of(self.auction, made.solution)
            if unit is not None:
                yield unit


def valid_bid(
    auction: Auction, solution: Solution, references: Mapping[Pair, int]
) -> Bid[Solution] | None:
    """The finished merged solution's bid if it passes the checks and is fair (a failure is
    a bug)."""
    try:
        checked = check_solution(auction, solution, solver=solution.engine)
        made = bid(solution.engine, solution, checked, auction)
    except (SolutionRejected, ScoringError) as exc:
        logger.error("merge: a merged solution fails the checks: %s", exc)
        return None
    if not is_fair(made, references):
        logger.error("merge: a merged solution is unfair: %s", dict(made.scores))
        return None
    return made


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
