"""Issue 12's hot path changes what is computed, never what is found, on a generated
auction over the shared mainnet liquidity:

* the baseline routing along its search paths (``FillerSpec(None, ...)``) fills every
  order exactly as asking ``baseline_route`` again does;
* the screen's estimates, kept per order for the engines of one auction, rank what a
  fresh screen ranks, for the whole auction and for a part of it;
* the checks over the traded orders only pass and reject what they do over all of them.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from functools import cache

import pytest

from bench.generate import FACING, Settings, generate
from intents.types import OrderUid
from solver.auction_file import load_auction
from solver.checks import SolutionRejected, check_solution, passing_solutions
from solver.engines import screen
from solver.engines.base import Deadline, token_graph
from solver.engines.partial_fill import RoutedFill
from solver.engines.screen import GasScreen
from solver.engines.single_order import (
    FillerSpec,
    OrderFiller,
    base_paths,
    baseline_router,
    solution_of,
)
from solver.model import Auction, Solution, Trade, now
from solver.solve_cli import traded_only
from tests.data import MAINNET_AUCTION

pytestmark = pytest.mark.skipif(not MAINNET_AUCTION.exists(), reason="shared auction absent")


@cache
def _auction() -> Auction:
    doc = json.loads(MAINNET_AUCTION.read_bytes())
    raw = generate(doc, Settings(orders=300, seed=3, facing=FACING["busy"]))
    deadline = now() + timedelta(days=1)
    return load_auction(raw, deadline).with_deadline(deadline)


def _filler(spec: FillerSpec) -> OrderFiller:
    auction = _auction()
    return spec.build(auction, token_graph(auction), Deadline(auction))


def _key(fill: RoutedFill | None) -> tuple[object, ...] | None:
    return None if fill is None else (fill.trade, fill.route.legs, fill.route.amount_out)


def test_the_baseline_along_its_paths_fills_as_its_router() -> None:
    along, router = (
        _filler(FillerSpec(None, base_paths)),
        _filler(FillerSpec(baseline_router, base_paths)),
    )
    orders = along.candidates().ranked
    found = [(_key(along.fill(o)), _key(router.fill(o))) for o in orders]
    assert sum(a is not None for a, _ in found) > 10  # the comparison covers real fills
    assert all(a == b for a, b in found)


def test_kept_estimates_rank_as_a_fresh_screen() -> None:
    filler = _filler(FillerSpec(None, base_paths))
    auction = _auction()
    kept = GasScreen(filler).screen(auction.orders)
    again = GasScreen(filler).screen(auction.orders)  # all of them kept
    part = auction.orders[::3]
    kept_part = GasScreen(filler).screen(part)
    screen._shared = None  # forget them: a fresh screen
    assert kept == again == GasScreen(filler).screen(auction.orders)
    screen._shared = None
    assert kept_part == GasScreen(filler).screen(part)
    assert len(kept.ranked) > 100


def test_checks_over_the_traded_orders_judge_as_over_all() -> None:
    filler = _filler(FillerSpec(None, base_paths))
    fills = filler.fills()
    solutions = [solution_of(fill, i, "baseline") for i, fill in enumerate(fills)]
    # one solution trading an order the auction does not have, one over-filling its order
    bogus = replace(solutions[0], id=len(solutions), trades=(Trade(OrderUid(b"\x01" * 56), 1),))
    greedy = replace(
        solutions[1],
        id=len(solutions) + 1,
        trades=(replace(solutions[1].trades[0], executed=fills[1].order.remaining + 1),),
    )
    every: list[Solution] = [*solutions, bogus, greedy]
    auction = _auction()
    assert passing_solutions(traded_only(auction, every), every) == passing_solutions(
        auction, every
    )
    assert len(passing_solutions(auction, every)) == len(solutions)
    assert len(traded_only(auction, every).orders) == len(solutions)
    with pytest.raises(SolutionRejected):
        check_solution(traded_only(auction, every), bogus, solver="test")
