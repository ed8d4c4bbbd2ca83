"""Winner selection: CoW's fair combinatorial auction (CIP-67), as pure functions.

Every bid is a checked, scored solution. Its score is split by *directed token pair*
(sell token, buy token) of the orders it settles. The mechanism:

1. a bid settling no order that counts for the score is dropped;
2. the *reference score* of a pair is the best score any single-pair bid reaches on it;
3. a batched bid (more than one pair) is *unfair*, and dropped, if some pair of it scores
   less than that pair's reference: no order may do worse in a batch than it would alone;
4. winners are picked greedily by score, highest first, each winner's pairs disjoint from
   the pairs of the winners before it (so every directed pair gets one uniform price), up to
   ``max_winners``; beyond CoW's rule, each winner's pools (the AMM liquidity its legs swap,
   where known) are disjoint from the earlier winners' too: the node settles its winners
   one after the other on one chain, and a settlement swapping a pool an earlier one moved
   would revert (its exact amounts no longer hold), so it could not have won anything;
5. each winning solver's reference score (what its rewards are measured against) is the
   total score the winners would have had without any of its bids.

Ties are broken deterministically: higher score, then solver name, then solution id.
The native token's placeholder address (``0xeeee…``) counts as its wrapped token when
pairs are compared, as CoW does.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from routing.pool import TokenAddress

logger = logging.getLogger(__name__)

NATIVE_TOKEN = TokenAddress("0x" + "ee" * 20)
"""The address CoW uses for the chain's native token (ETH) in orders."""

Pair = tuple[TokenAddress, TokenAddress]
"""A directed token pair: (sell token, buy token)."""

S = TypeVar("S")
"""The solution a bid carries (opaque here)."""


@dataclass(frozen=True, slots=True, eq=False)
class Bid(Generic[S]):
    """A solver's scored solution. ``scores`` are in native-token wei per directed pair of
    the orders that count for the score; ``pairs`` are all directed pairs it trades.
    Bids compare by identity."""

    solver: str
    solution_id: int
    solution: S
    scores: Mapping[Pair, int]
    pairs: frozenset[Pair]
    pools: frozenset[str] = frozenset()
    """The liquidity its AMM legs swap (pool ids), where known."""

    @property
    def score(self) -> int:
        return sum(self.scores.values())


@dataclass(frozen=True, slots=True)
class Ranking(Generic[S]):
    """The outcome of one auction. ``ranked`` holds the fair bids, winners first, then by
    score; ``unfair`` the dropped batched bids; ``unscored`` bids settling nothing that
    counts; ``reference_scores`` the best single-pair score per pair."""

    ranked: tuple[Bid[S], ...]
    winners: tuple[Bid[S], ...]
    unfair: tuple[Bid[S], ...]
    unscored: tuple[Bid[S], ...]
    reference_scores: Mapping[Pair, int]
    solver_reference_scores: Mapping[str, int]
    """Per winning solver, the total winning score had it not taken part (CoW's rewards)."""

    @property
    def total_score(self) -> int:
        return sum(bid.score for bid in self.winners)


def _order_key(bid: Bid[S]) -> tuple[int, str, int]:
    return (-bid.score, bid.solver, bid.solution_id)


def reference_scores(bids: Iterable[Bid[S]]) -> dict[Pair, int]:
    """The best score of a single-pair bid, per directed pair."""
    best: dict[Pair, int] = {}
    for bid in bids:
        if len(bid.scores) == 1:
            ((pair, score),) = bid.scores.items()
            best[pair] = max(best.get(pair, 0), score)
    return best


def is_fair(bid: Bid[S], references: Mapping[Pair, int]) -> bool:
    """A single-pair bid is always fair; a batch is fair iff no pair of it scores less
    than that pair's reference score."""
    if len(bid.scores) <= 1:
        return True
    return all(score >= references.get(pair, 0) for pair, score in bid.scores.items())


def _canonical(pair: Pair, wrapped_native: TokenAddress | None) -> Pair:
    if wrapped_native is None:
        return pair
    sell, buy = pair
    return (
        wrapped_native if sell == NATIVE_TOKEN else sell,
        wrapped_native if buy == NATIVE_TOKEN else buy,
    )


def pick_winners(
    ranked: Iterable[Bid[S]], max_winners: int, wrapped_native: TokenAddress | None = None
) -> tuple[Bid[S], ...]:
    """Greedy selection over ``ranked`` (best first): a bid wins when none of its directed
    pairs and none of its pools was taken by an earlier winner, until ``max_winners`` have
    won."""
    taken: set[Pair] = set()
    swapped: set[str] = set()
    winners: list[Bid[S]] = []
    for bid in ranked:
        if len(winners) >= max_winners:
            break
        pairs = {_canonical(pair, wrapped_native) for pair in bid.pairs}
        if taken.isdisjoint(pairs) and swapped.isdisjoint(bid.pools):
            winners.append(bid)
            taken |= pairs
            swapped |= bid.pools
    return tuple(winners)


def _judge(
    bids: Iterable[Bid[S]],
) -> tuple[list[Bid[S]], tuple[Bid[S], ...], tuple[Bid[S], ...], dict[Pair, int]]:
    """(fair bids best first, unfair ones, unscored ones, reference scores): steps 1-3."""
    ordered = sorted(bids, key=_order_key)
    unscored = tuple(bid for bid in ordered if not bid.scores)
    scored = [bid for bid in ordered if bid.scores]
    references = reference_scores(scored)
    fair = [bid for bid in scored if is_fair(bid, references)]
    unfair = tuple(bid for bid in scored if not is_fair(bid, references))
    return fair, unfair, unscored, references


def winners_score(
    bids: Iterable[Bid[S]], *, max_winners: int = 10, wrapped_native: TokenAddress | None = None
) -> int:
    """The total score of the winners ``arbitrate`` would pick, without its logs (to weigh
    a bid before offering it)."""
    return sum(b.score for b in pick_winners(_judge(bids)[0], max_winners, wrapped_native))


def arbitrate(
    bids: Iterable[Bid[S]], *, max_winners: int = 10, wrapped_native: TokenAddress | None = None
) -> Ranking[S]:
    """Run the fair combinatorial auction over ``bids``."""
    if max_winners < 1:
        raise ValueError("max_winners must be at least 1")
    fair, unfair, unscored, references = _judge(bids)
    for bid in unfair:
        worse = sorted(
            f"{sell}->{buy}: {score} < {references[(sell, buy)]}"
            for (sell, buy), score in bid.scores.items()
            if score < references.get((sell, buy), 0)
        )
        logger.info(
            "solver %s solution %d dropped as unfair (score %d): %s",
            bid.solver,
            bid.solution_id,
            bid.score,
            "; ".join(worse),
        )
    for bid in unscored:
        logger.info(
            "solver %s solution %d dropped: it settles no order that counts for the score",
            bid.solver,
            bid.solution_id,
        )
    winners = pick_winners(fair, max_winners, wrapped_native)
    winning = set(winners)
    ranked = winners + tuple(bid for bid in fair if bid not in winning)
    for bid in winners:
        logger.info(
            "solver %s solution %d wins with score %d", bid.solver, bid.solution_id, bid.score
        )
    return Ranking(
        ranked=ranked,
        winners=winners,
        unfair=unfair,
        unscored=unscored,
        reference_scores=references,
        solver_reference_scores={
            solver: sum(
                bid.score
                for bid in pick_winners(
                    (bid for bid in fair if bid.solver != solver), max_winners, wrapped_native
                )
            )
            for solver in dict.fromkeys(bid.solver for bid in winners)
        },
    )
