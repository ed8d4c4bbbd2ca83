"""Exact pool quotes computed once, and cheap upper bounds that say when one is not needed.

Routing one order asks the same pool for the same amount many times: paths sharing a first
hop (``sell -> WETH -> ...``), the screen's paths and the search paths at the whole amount,
a buy's backward pick and its forward replay, the covering bisection, a router asked again
at an amount already routed. ``Quotes`` keeps each exact answer (or the pool's refusal) for
the life of one order's routing, so each is computed once; the answers are the pool's own,
so nothing routed changes.

What a pool can pay is bounded by its spot rate (pool curves are concave; ``SPOT_SLACK``
covers float rounding), and tighter for a Balancer weighted pool by its curve evaluated in
floats (``own_out_bound``: ``WeightedPool.amount_out_bound``; ``own_in_bound`` likewise
for what it asks): a pool whose bound cannot beat the best exact amount found is never
computed. Weighted pools are the dearest to compute (fixed-point ``pow``) and, stale and
shallow, seldom the best.
"""

from __future__ import annotations

from collections.abc import Callable

from routing.balancer_weighted import WeightedPool
from routing.graph import Edge
from routing.pool import PoolId, PoolMathError, TokenAddress

SPOT_SLACK = 1e-6
"""Relative slack on an edge's float spot rate used as a bound on its exact amounts."""

_Key = tuple[PoolId, TokenAddress, TokenAddress, int]


class Quotes:
    """Exact ``amount_out`` / ``amount_in`` per (pool, direction, amount), each computed
    once; ``None`` where the pool refuses the amount (``PoolMathError``)."""

    __slots__ = ("_ins", "_outs", "last_path")

    def __init__(self) -> None:
        self._outs: dict[_Key, int | None] = {}
        self._ins: dict[_Key, int | None] = {}
        self.last_path: tuple[TokenAddress, ...] | None = None
        """The token path of the last route found with these quotes (``baseline.best_gross_legs``
        tries it first)."""

    def out(self, edge: Edge, amount_in: int) -> int | None:
        """``edge.pool.amount_out`` for ``amount_in``, or ``None`` when it refuses."""
        return _kept(self._outs, edge, amount_in, edge.pool.amount_out)

    def quoted_in(self, edge: Edge, amount_out: int) -> int | None:
        """``edge.pool.amount_in`` for ``amount_out``, or ``None`` when it refuses."""
        return _kept(self._ins, edge, amount_out, edge.pool.amount_in)


def _kept(
    kept: dict[_Key, int | None],
    edge: Edge,
    amount: int,
    ask: Callable[[TokenAddress, TokenAddress, int], int],
) -> int | None:
    key = (edge.pool.id, edge.token_in, edge.token_out, amount)
    if key in kept:
        return kept[key]
    try:
        value: int | None = ask(edge.token_in, edge.token_out, amount)
    except PoolMathError:
        value = None
    kept[key] = value
    return value


def own_out_bound(edge: Edge, amount_in: int) -> float | None:
    """An upper bound on the exact output of ``amount_in`` through ``edge`` tighter than
    its spot rate's, where the pool has one (a weighted pool's curve); else ``None``."""
    pool = edge.pool
    if isinstance(pool, WeightedPool):
        return pool.amount_out_bound(edge.token_in, edge.token_out, amount_in)
    return None


def own_in_bound(edge: Edge, amount_out: int) -> float | None:
    """A lower bound on the least input whose exact output through ``edge`` covers
    ``amount_out`` (and on the pool's ``amount_in`` for it), tighter than the spot rate's,
    where the pool has one; else ``None``."""
    pool = edge.pool
    if isinstance(pool, WeightedPool):
        return pool.amount_in_bound(edge.token_in, edge.token_out, amount_out)
    return None
