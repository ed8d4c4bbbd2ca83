"""Solving engines: each turns an ``Auction`` into ``Solution``s before its deadline.

``make_engine(name)`` builds one by name; engines are imported only when asked for. Each
is wrapped in the reference-price sanity check (``solver.engines.sanity``) unless
``max_price_deviation`` is ``None``.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
from collections.abc import Sequence
from datetime import timedelta
from fractions import Fraction

from routing.sanity import DEFAULT_MAX_DEVIATION
from solver.engines.base import BuildsOnEarlier, Engine, ReservesTime
from solver.engines.budget import engine_deadline
from solver.engines.sanity import PriceSanity
from solver.errors import SolverError
from solver.internalization import with_buffer_internalizations
from solver.model import Auction, Solution, now

logger = logging.getLogger(__name__)

ENGINES = {
    "baseline": "solver.engines.single_order:baseline_engine",
    "optimal": "solver.engines.single_order:optimal_engine",
    "batch": "solver.engines.batch:batch_engine",
}
"""Engine name -> ``module:factory`` (a no-argument callable returning the engine)."""


class UnknownEngine(SolverError, LookupError):
    code = "UnknownEngine"


def make_engine(
    name: str, *, max_price_deviation: Fraction | None = DEFAULT_MAX_DEVIATION
) -> Engine:
    """The engine called ``name``, skipping pools and solutions whose rates are off the
    reference prices by more than a factor ``max_price_deviation`` (``None``: no such
    check); raises ``UnknownEngine``."""
    target = ENGINES.get(name)
    if target is None:
        raise UnknownEngine(f"no engine {name!r}; known: {', '.join(ENGINES)}")
    module, _, factory = target.partition(":")
    try:
        engine: Engine = getattr(importlib.import_module(module), factory)()
    except (ImportError, AttributeError) as exc:
        raise UnknownEngine(f"engine {name!r} is not available: {exc}") from exc
    return engine if max_price_deviation is None else PriceSanity(engine, max_price_deviation)


def solve_all(engines: Sequence[Engine], auction: Auction) -> list[Solution]:
    """Every engine's solutions for ``auction``, renumbered ``0..n-1``, each with the legs
    CoW's rule allows internalized (``solver.internalization``). The engines run one after
    the other, each with an equal share of the time left to the deadline; a last engine
    that reserves time (``ReservesTime``: ``batch``'s merge) has that kept for it, and the
    engines before it share the rest (``solver.engines.budget.engine_deadline``). An engine
    that builds on earlier solutions (``BuildsOnEarlier``: ``batch``) is given those found
    before it, and adds its own. An engine whose time is already spent when its turn comes
    (an earlier one ran late: a contended CPU) is skipped, not started: even given no time,
    an engine builds its token graph and screens the orders, seconds at 5,000 orders on a
    loaded machine, all of it past the deadline (anytime: the solutions so far are the
    answer)."""
    last = engines[-1] if engines else None
    reserve = timedelta()
    if len(engines) > 1 and isinstance(last, ReservesTime):
        reserve = last.reserve(auction)
    solutions: list[Solution] = []
    for index, engine in enumerate(engines):
        started = now()
        stop = engine_deadline(started, auction.deadline, index, len(engines), reserve)
        if stop <= started:
            logger.warning("engine %s skipped on auction %s: no time left", engine.name, auction.id)
            continue
        try:
            due = auction.with_deadline(min(auction.deadline, stop))
            if isinstance(engine, BuildsOnEarlier) and solutions:
                found = engine.solve_after(due, solutions)
            else:
                found = engine.solve(due)
        except Exception:  # one engine's bug must not cost the others' solutions
            logger.exception("engine %s failed on auction %s", engine.name, auction.id)
            continue
        solutions.extend(found)
    return [
        with_buffer_internalizations(dataclasses.replace(s, id=i), auction.tokens)
        for i, s in enumerate(solutions)
    ]


__all__ = ["ENGINES", "Engine", "UnknownEngine", "make_engine", "solve_all"]
