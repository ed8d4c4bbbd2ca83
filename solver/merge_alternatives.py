"""Alternative merged bids: each merged solution (``solver.merge``) also offered in parts.

The fair combinatorial auction (``solver.competition``, CoW's winner selection) drops a
batched bid as soon as one of its directed pairs scores below the best single-pair bid of
any solver on that pair. A merged solution of a hundred orders is then lost for one pair
a rival routed better. So each merged solution is split in two parts, disjoint on
directed pairs and on pools (so both can win together), each part merged again on its own
and split again, ``SPLIT_DEPTH`` levels deep: a pair beaten by a rival costs the part it is
in at the deepest level, not the whole batch. The parts are valid bids of their own: the
same candidates merged by the same rules (``merge_solutions`` with one bin, fair against
the references of all candidates).

Also offered: the merged solution without its thinnest pairs, and without its largest.
A rival's better single bid is as likely on a pair worth little as on one worth much, and
most of a merged solution's score sits in few pairs: merged again from the candidates of
all its pairs but the thinnest, of its best half, its best quarter, ..., it keeps most of
its score with fewer pairs to lose. The largest orders are where a better router gains
most (splits across pools), so its largest pairs are the likeliest to be taken by a rival's
single bid: merged without its largest one, two, four, ... pairs, the rest still wins as a
batch beside the rival's singles (measured on 1,000 orders: the pairs that sank the
merged bid were its two largest, routed better by `optimal` given the whole deadline).

No alternative settles a single directed pair: as a single-pair bid it would set that
pair's reference score (``competition.reference_scores``), merged on its own it scores more
there than the whole merged solution does, and the whole would be dropped as unfair.

The candidates of a merged solution are grouped by what ties them: two that share a pool
or a token pair (either direction) stay in one part; the groups are dealt, most valuable
first, to the part with the lower estimated score. A merged solution whose candidates all
share pools has no parts.

In CoW's competition only a solver's best-scored solutions are proposed (the driver's
``max-solutions-to-propose``, at most 3 kept per solver by the autopilot): the parts rank
below the whole there, and matter where the whole is dropped and they are still proposed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence

from intents.types import OrderUid
from solver.competition import Pair
from solver.merge import merge_solutions
from solver.merge_units import Ranked, estimated_bid
from solver.model import Auction, Solution, order_index

logger = logging.getLogger(__name__)

SPLIT_DEPTH = 2
"""Levels of halving: a merged solution yields up to 2 + 4 parts."""


def alternative_bids(
    auction: Auction,
    merged: Iterable[Solution],
    candidates: Sequence[Solution],
    *,
    stop: Callable[[], bool] | None = None,
    depth: int = SPLIT_DEPTH,
) -> list[Solution]:
    """Each merged solution (largest first) without its thinnest pairs and in disjoint
    parts, merged again, until ``stop``."""
    references = Ranked.of(auction, candidates).references
    by_order: dict[OrderUid, list[int]] = {}
    for index, candidate in enumerate(candidates):
        for trade in candidate.trades:
            by_order.setdefault(trade.order, []).append(index)
    weights: dict[int, int] = {}
    found: list[Solution] = []
    for solution in sorted(merged, key=lambda s: -len(s.trades)):
        orders = {t.order for t in solution.trades}
        indices = dict.fromkeys(i for o in orders for i in by_order.get(o, ()))
        members = [i for i in indices if all(t.order in orders for t in candidates[i].trades)]
        for i in members:
            if i not in weights:
                made = estimated_bid(auction, candidates[i])
                weights[i] = 0 if made is None else made.score
        found += _without(auction, solution, candidates, members, references, stop)
        found += _parts(auction, candidates, members, weights, references, depth, stop)
    seen = {frozenset(t.order for t in s.trades) for s in merged}
    unique = []
    by_uid = order_index(auction)
    for solution in found:
        settled = frozenset(t.order for t in solution.trades)
        pairs = {(by_uid[u].sell_token, by_uid[u].buy_token) for u in settled}
        # one pair's bid would be a reference: above what the merged solutions score there
        if settled not in seen and len(pairs) > 1:
            seen.add(settled)
            unique.append(solution)
    found = unique
    logger.info(
        "merge: %d alternative merged bids of %s trades", len(found), [len(s.trades) for s in found]
    )
    return found


def _without(
    auction: Auction,
    solution: Solution,
    candidates: Sequence[Solution],
    members: Sequence[int],
    references: dict[Pair, int],
    stop: Callable[[], bool] | None,
) -> list[Solution]:
    """The merged solution without its thinnest pairs and without its largest ones: merged
    again from the candidates of the pairs ``kept_ranges`` keeps (pairs ranked by their
    score in it)."""
    made = estimated_bid(auction, solution)
    if made is None:
        return []
    ranked = sorted(made.scores, key=lambda p: -made.scores[p])
    orders = order_index(auction)
    pairs_of = {
        i: {(o.sell_token, o.buy_token) for t in candidates[i].trades if (o := orders.get(t.order))}
        for i in members
    }
    found: list[Solution] = []
    for start, end in kept_ranges(len(ranked)):
        if stop is not None and stop():
            break
        kept = set(ranked[start:end])
        part = [candidates[i] for i in members if pairs_of[i] <= kept]
        found += merge_solutions(auction, part, max_bins=1, references=references, stop=stop)
    return found


def kept_ranges(pairs: int) -> list[tuple[int, int]]:
    """The ranges of its pairs (best first) the alternatives keep, at least two each: all
    but the largest and all but the thinnest, then all but the largest two and the best
    half, the largest four and the best quarter, ... (interleaved: the first are worth
    most, in case the time runs out)."""
    found: list[tuple[int, int]] = []
    step = 1
    while pairs - step >= 2 or pairs // (2 * step) >= 2:
        keep = pairs - 1 if step == 1 else pairs // step
        for kept in ((step, pairs), (0, keep)):
            if kept[1] - kept[0] >= 2 and kept not in found:
                found.append(kept)
        step *= 2
    return found


def _parts(
    auction: Auction,
    candidates: Sequence[Solution],
    members: Sequence[int],
    weights: dict[int, int],
    references: dict[Pair, int],
    depth: int,
    stop: Callable[[], bool] | None,
) -> list[Solution]:
    if depth <= 0:
        return []
    halves = split(auction, [candidates[i] for i in members], [weights[i] for i in members])
    found: list[Solution] = []
    for half in halves:
        if stop is not None and stop():
            break
        part = [members[i] for i in half]
        made = merge_solutions(
            auction, [candidates[i] for i in part], max_bins=1, references=references, stop=stop
        )
        found += made
        if made:
            found += _parts(auction, candidates, part, weights, references, depth - 1, stop)
    return found


def split(
    auction: Auction, members: Sequence[Solution], weights: Sequence[int]
) -> tuple[list[int], list[int]] | tuple[()]:
    """Two parts of ``members`` (their indices) disjoint on pools and on token pairs
    (either direction), of about equal weight; ``()`` if every member is tied to the rest."""
    orders = order_index(auction)
    parent = list(range(len(members)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[object, int] = {}
    for i, member in enumerate(members):
        keys: set[object] = {("pool", leg.pool) for leg in member.legs}
        for trade in member.trades:
            order = orders.get(trade.order)
            if order is not None:
                keys.add(("pair", frozenset((order.sell_token, order.buy_token))))
            keys.add(("order", trade.order))
        for key in keys:
            if key in owner:
                parent[root(i)] = root(owner[key])
            else:
                owner[key] = i
    groups: dict[int, list[int]] = {}
    for i in range(len(members)):
        groups.setdefault(root(i), []).append(i)
    if len(groups) < 2:
        return ()
    halves: tuple[list[int], list[int]] = ([], [])
    totals = [0, 0]
    for group in sorted(groups.values(), key=lambda g: -sum(weights[i] for i in g)):
        lighter = 0 if totals[0] <= totals[1] else 1
        halves[lighter].extend(group)
        totals[lighter] += sum(weights[i] for i in group)
    return halves


__all__ = ["SPLIT_DEPTH", "alternative_bids", "split"]
