"""The answer comes before the time limit on a contended CPU (issue 12): what runs after
the engines stops at the deadline, on an injected clock standing in for a CPU that other
processes slow down.

* ``solve_all`` does not start an engine whose time an earlier, late one spent: the
  solutions found so far are the answer;
* ``passing_solutions`` checks until its stop, and drops the solutions it could not check
  (never sends one unchecked).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

import solver.checks
import solver.engines
from solver.checks import Rejection, SolutionRejected, passing_solutions
from solver.engines import solve_all
from solver.engines.screen import GasScreen
from solver.model import Auction, Order, Solution, Trade
from tests.solver.engine_fixtures import order
from tests.solver.merge_cases import E18, A, B, small_auction


class _Clock:
    def __init__(self, start: datetime) -> None:
        self.at = start

    def __call__(self) -> datetime:
        return self.at


class _Late:
    """An engine that overruns its deadline by ``late`` on the clock (a contended CPU)."""

    def __init__(self, name: str, clock: _Clock, late: timedelta) -> None:
        self.name, self.clock, self.late = name, clock, late
        self.calls = 0

    def solve(self, auction: Auction) -> list[Solution]:
        self.calls += 1
        self.clock.at = auction.deadline + self.late
        trade = Trade(auction.orders[0].uid, auction.orders[0].remaining)
        return [
            Solution(id=0, prices={A: 1, B: 1}, trades=(trade,), legs=(), gas=0, engine=self.name)
        ]


@pytest.mark.parametrize(
    ("late_s", "runs", "engines"),
    [
        # the first runs past the whole auction's deadline, not just its share: the others
        # are not started, and what it found is the answer (anytime)
        (9, (1, 0, 0), ["one"]),
        # the first overruns its share (a third of 8 s) by a second: the others have time
        (1, (1, 1, 1), ["one", "two", "three"]),
    ],
)
def test_an_engine_whose_time_is_spent_is_not_started(
    monkeypatch: pytest.MonkeyPatch, late_s: float, runs: tuple[int, ...], engines: list[str]
) -> None:
    auction = small_auction([order(A, B, E18, E18 // 3)])
    clock = _Clock(auction.deadline - timedelta(seconds=8))
    monkeypatch.setattr(solver.engines, "now", clock)
    first = _Late("one", clock, timedelta(seconds=late_s))
    second, third = _Late("two", clock, timedelta()), _Late("three", clock, timedelta())
    found = solve_all([first, second, third], auction)
    assert (first.calls, second.calls, third.calls) == runs
    assert [s.engine for s in found] == engines


def test_checks_stop_at_the_deadline_and_drop_what_they_did_not_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    auction = small_auction([order(A, B, E18, E18 // 3)])
    solutions = [
        Solution(id=i, prices={A: 1, B: 1}, trades=(), legs=(), gas=0, engine="batch")
        for i in range(6)
    ]
    checked: list[int] = []
    elapsed = [0.0]

    def slow_check(auction: Auction, solution: Solution, **_: object) -> list[object]:
        checked.append(solution.id)
        elapsed[0] += 1.0  # each check takes a second of the contended CPU
        if solution.id == 1:
            raise SolutionRejected(Rejection.TOKEN_DEFICIT, "short")
        return []

    monkeypatch.setattr(solver.checks, "check_solution", slow_check)
    passed = passing_solutions(auction, solutions, stop=lambda: elapsed[0] >= 3.5)
    assert checked == [0, 1, 2, 3]  # the fifth would start after the stop
    assert [s.id for s in passed] == [0, 2, 3]  # the rejected and the unchecked are dropped
    # without a stop every solution is checked
    checked.clear()
    assert [s.id for s in passing_solutions(auction, solutions)] == [0, 2, 3, 4, 5]


def test_the_screen_stops_at_its_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    orders = [order(A, B, E18 + i, E18 // 3) for i in range(5)]
    estimated: list[int] = []

    def estimate(self: GasScreen, found: Order) -> None:
        estimated.append(found.signed_sell_amount - E18)
        return None  # no estimate: not a candidate

    monkeypatch.setattr(GasScreen, "_shared_estimate", estimate)
    screened = GasScreen(object()).screen(orders, stop=lambda: len(estimated) >= 2)  # type: ignore[arg-type]
    assert estimated == [0, 1]  # the rest are not estimated once the time is up
    assert screened.orders == 5 and screened.candidates == 0
    estimated.clear()
    GasScreen(object()).screen(orders)  # type: ignore[arg-type]
    assert estimated == [0, 1, 2, 3, 4]
