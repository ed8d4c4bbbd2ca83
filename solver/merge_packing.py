"""Packing candidates into merged solutions (``solver.merge``): which merged solution each
unit joins, and which of them owns each directed pair and pool (merged solutions are
disjoint on both)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, Protocol, TypeVar

from routing.pool import PoolId
from solver.competition import Pair
from solver.merge_units import Unit


class Bin(Protocol):
    """A merged solution being built (``solver.merge._Bin``)."""

    lenient: Pair | None

    def add(self, unit: Unit) -> bool: ...

    def copy(self: B) -> B: ...

    def fair(self) -> bool: ...


B = TypeVar("B", bound=Bin)


class Packing(Generic[B]):
    """Merged solutions being built, and which of them owns each pair and pool."""

    def __init__(self, fresh: Callable[[], B], max_bins: int) -> None:
        self.fresh = fresh
        self.max_bins = max_bins
        self.bins: list[B] = []
        self.owner: dict[Pair, int] = {}
        self.pool_owner: dict[PoolId, int] = {}

    def place(self, group: Sequence[Unit]) -> bool:
        """Add ``group`` (candidates of one pair when more than one) to the first merged
        solution that takes it, fair once it is in; ``False`` if none does."""
        pairs = {p for u in group for p in u.pairs}
        owners = {self.owner[p] for p in pairs if p in self.owner}
        owners |= {self.pool_owner[p] for u in group for p in u.pools() if p in self.pool_owner}
        if len(owners) > 1:
            return False
        fresh_slot = len(self.bins) < self.max_bins
        tries = list(owners) if owners else list(range(len(self.bins) + fresh_slot))
        for index in tries:
            target = self.fresh() if index == len(self.bins) else self.bins[index]
            taken = add_all(target, group)
            if taken is None:
                continue
            if index == len(self.bins):
                self.bins.append(taken)
            self.bins[index] = taken
            for unit in group:  # a unit left out of the group owns nothing: harmless
                self.owner.update(dict.fromkeys(unit.pairs, index))
                self.pool_owner.update(dict.fromkeys(unit.pools(), index))
            return True
        return False


def add_all(target: B, group: Sequence[Unit]) -> B | None:
    """``target`` with the units of ``group`` that join it (one unit: in place), or
    ``None``. A group's pair is judged fair only once they are in (on a copy)."""
    if len(group) == 1:
        return target if target.add(group[0]) else None
    (pair,) = group[0].pairs
    trial = target.copy()
    trial.lenient = pair
    added = [unit for unit in group if trial.add(unit)]
    trial.lenient = None
    return trial if added and trial.fair() else None
