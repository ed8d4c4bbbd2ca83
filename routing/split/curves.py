"""Exact pool curves sampled on demand, and the cache of them a router shares across orders.

A ``Curve`` is one edge's exact ``amount_out`` at the inputs asked so far (and the least
input its pool refused: the pool refuses every larger one too). Every stage of the split
optimizer reads the pool math through the ``CurveCache`` it is handed, so breakpoints,
pricing probes and re-simulations of one edge are computed once per graph.
"""

from __future__ import annotations

from routing.covering import covering_input
from routing.graph import Edge
from routing.pool import PoolId, PoolMathError, TokenAddress

EdgeKey = tuple[PoolId, TokenAddress, TokenAddress]


class Curve:
    """Exact ``amount_out`` of one edge at the inputs asked so far, and where it fails."""

    __slots__ = ("edge", "failed_at", "points")

    def __init__(self, edge: Edge) -> None:
        self.edge = edge
        self.points: dict[int, int] = {0: 0}
        self.failed_at: int | None = None

    def out(self, amount_in: int) -> int | None:
        known = self.points.get(amount_in)
        if known is not None:
            return known
        if self.failed_at is not None and amount_in >= self.failed_at:
            return None
        edge = self.edge
        try:
            value = edge.pool.amount_out(edge.token_in, edge.token_out, amount_in)
        except PoolMathError:
            self.failed_at = amount_in
            return None
        self.points[amount_in] = value
        return value

    def last_feasible(self, low: int, high: int) -> int:
        """Bisect for (nearly) the largest input in ``[low, high)`` the pool can take."""
        for _ in range(24):
            mid = (low + high) // 2
            if mid in (low, high):
                break
            if self.out(mid) is None:
                high = mid
            else:
                low = mid
        return low


class CurveCache:
    """One ``Curve`` per (pool, direction) of a token graph, created on first use."""

    __slots__ = ("_curves",)

    def __init__(self) -> None:
        self._curves: dict[EdgeKey, Curve] = {}

    def curve(self, edge: Edge) -> Curve:
        curve = self._curves.get(edge.key)
        if curve is None:
            curve = self._curves[edge.key] = Curve(edge)
        return curve

    def __len__(self) -> int:
        return len(self._curves)


def enough(curve: Curve, paid: int, wanted: int) -> int | None:
    """The least input from ``paid`` up whose exact output on the edge is at least
    ``wanted`` (``routing.covering``); ``None`` if the pool cannot pay it."""
    return covering_input(curve.out, paid, wanted)
