"""How an engine set splits the auction's time when it ends with a merge (``batch``).

``solve_all`` runs the engines one after the other. An engine that builds on the earlier
ones' solutions (``BuildsOnEarlier``: ``batch`` merges their fills into settlements of many
orders) is worth nothing if it is left no time: at 5,000 orders the per-order engines used
to take their equal shares of an 8 s deadline and leave the merge a few hundred
milliseconds, which its checks alone ate (one or two trades merged). So the time that
engine needs (``MergeCost`` of the fills it will merge, at most ``MAX_RESERVE_SHARE`` of
the time) is reserved first, and the engines before it share the rest equally.

``MergeCost`` is measured: merging N one-order fills (checking and scoring them, replaying
their legs, pricing the merged trees) costs about ``per_fill_s`` each on this machine's
compiled pool math (``bench/README.md``, "Budget for the merge"). The merge is anytime (the
most valuable fills first, ``solver.merge``), so fills beyond ``MAX_MERGED_FILLS`` are not
budgeted for: at most ten merged solutions of at most the gas limit each hold a few hundred
trades, and the most valuable fills fill them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_MERGED_FILLS = 800
"""Fills the reserve is sized for: beyond them the anytime merge takes the most valuable."""
MAX_RESERVE_SHARE = 0.5
"""The reserve never takes more than this share of the time left: the fills are found by
the engines before it."""


@dataclass(frozen=True, slots=True)
class MergeCost:
    """Seconds a merge of ``fills`` candidates takes: ``base_s + per_fill_s * fills``."""

    base_s: float
    per_fill_s: float

    def seconds(self, fills: int) -> float:
        return self.base_s + self.per_fill_s * max(fills, 0)


MERGE_COST = MergeCost(base_s=0.05, per_fill_s=0.0012)
"""Measured (``bench/README.md``): 638 fills of a 5,000-order auction merged in 0.73 s,
checks included, before the order index (``solver.model.order_index``) took 0.27 s of it."""


def merge_reserve(
    left: timedelta, fills: int, *, passes: int = 1, cost: MergeCost = MERGE_COST
) -> timedelta:
    """Time to keep for ``passes`` merges of ``fills`` candidates (at most
    ``MAX_MERGED_FILLS`` of them), at most ``MAX_RESERVE_SHARE`` of ``left``."""
    need = passes * cost.seconds(min(fills, MAX_MERGED_FILLS))
    return max(timedelta(0), min(timedelta(seconds=need), left * MAX_RESERVE_SHARE))


def engine_deadline(
    start: datetime, deadline: datetime, index: int, count: int, reserve: timedelta
) -> datetime:
    """When engine ``index`` of ``count`` (run one after the other from ``start``) must
    stop: the engines before the last share the time to ``deadline - reserve`` equally,
    the last one (the merge) has what is left to ``deadline``. Without a reserve every
    engine has an equal share of the time left."""
    if index >= count - 1:
        return deadline
    end = deadline - reserve
    share = (end - start) / (count - 1 - index) if reserve else (deadline - start) / (count - index)
    return min(deadline, max(start, start + share))


__all__ = ["MAX_MERGED_FILLS", "MERGE_COST", "MergeCost", "engine_deadline", "merge_reserve"]
