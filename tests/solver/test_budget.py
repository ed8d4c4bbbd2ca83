"""The time split of an engine set that ends with a merge (``solver.engines.budget``,
``solve_all``) and the anytime merge (``solver.merge``: the most valuable candidates first,
each checked only when taken)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

import solver.merge_units
from solver.engines import solve_all
from solver.engines.batch import BatchEngine
from solver.engines.budget import (
    MAX_MERGED_FILLS,
    MAX_RESERVE_SHARE,
    MERGE_COST,
    engine_deadline,
    merge_reserve,
)
from solver.engines.single_order import baseline_engine
from solver.merge import merge_solutions
from solver.merge_units import Ranked, units_of
from solver.model import Auction, Solution, now
from tests.solver.engine_fixtures import order
from tests.solver.merge_cases import E18, A, B, C, D, small_auction, units_of_native

START = datetime(2026, 1, 1)


def test_without_a_reserve_every_engine_has_an_equal_share_of_the_time_left() -> None:
    deadline = START + timedelta(seconds=9)
    assert engine_deadline(START, deadline, 0, 3, timedelta()) == START + timedelta(seconds=3)
    assert engine_deadline(START, deadline, 2, 3, timedelta()) == deadline


@given(
    st.integers(2, 5),
    st.floats(0.5, 20),
    st.floats(0.01, 1),
)
def test_the_engines_before_the_merge_stop_before_its_reserve(
    count: int, seconds: float, share: float
) -> None:
    deadline = START + timedelta(seconds=seconds)
    reserve = timedelta(seconds=seconds * share)
    first = engine_deadline(START, deadline, 0, count, reserve)
    assert first <= deadline - reserve
    # the earlier engines share what is left before the reserve equally
    assert abs((first - START) * (count - 1) - (deadline - reserve - START)) < timedelta(
        milliseconds=1
    )
    assert engine_deadline(START, deadline, count - 1, count, reserve) == deadline


@given(st.integers(0, 5 * MAX_MERGED_FILLS), st.floats(0.1, 20))
def test_the_reserve_grows_with_the_fills_up_to_a_cap_and_a_share(
    fills: int, seconds: float
) -> None:
    left = timedelta(seconds=seconds)
    reserve = merge_reserve(left, fills)
    assert reserve <= left * MAX_RESERVE_SHARE
    assert merge_reserve(left, fills + 1) >= reserve
    expected = MERGE_COST.seconds(min(fills, MAX_MERGED_FILLS))
    assert reserve == min(timedelta(seconds=expected), left * MAX_RESERVE_SHARE)
    assert merge_reserve(left, fills, passes=2) >= reserve


class _Recording:
    """An engine that records the deadline it was given."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.deadlines: list[datetime] = []

    def solve(self, auction: Auction) -> list[Solution]:
        self.deadlines.append(auction.deadline)
        return []


class _Merging(_Recording):
    def __init__(self, reserve: timedelta) -> None:
        super().__init__("merge")
        self._reserve = reserve

    def solve_after(self, auction: Auction, earlier: Sequence[Solution]) -> list[Solution]:
        return self.solve(auction)

    def reserve(self, auction: Auction) -> timedelta:
        return self._reserve


def test_solve_all_keeps_the_time_the_last_engine_reserves() -> None:
    auction = small_auction([order(A, B, E18, E18 // 3)])
    first, second = _Recording("one"), _Recording("two")
    last = _Merging(timedelta(seconds=40))
    solve_all([first, second, last], auction)
    # 60 s to the deadline: equal shares would give the first engine 20 s and leave the
    # merge 20 s; with the reserve, the two before it share 20 s
    assert first.deadlines[0] <= auction.deadline - timedelta(seconds=49)
    assert second.deadlines[0] <= auction.deadline - timedelta(seconds=39.9)
    assert last.deadlines[0] == auction.deadline


def test_the_batch_reserve_follows_the_orders_and_keeps_time_for_the_others() -> None:
    few = small_auction([order(A, B, E18, E18 // 3, tag=str(i)) for i in range(2)])
    many = small_auction([order(A, B, E18, E18 // 3, tag=str(i)) for i in range(40)])
    engine = BatchEngine()
    small, large = engine.reserve(few), engine.reserve(many)
    assert timedelta() < small < large
    assert large <= (many.deadline - now()) * MAX_RESERVE_SHARE


def _fills() -> tuple[Auction, list[Solution]]:
    pairs = [(A, B), (C, D), (B, C), (A, D)]
    found = [
        order(
            s,
            b,
            units_of_native(s, k * 10**20),
            units_of_native(b, k * 10**20) * 9 // 10,
            tag=f"{i}-{k}",
        )
        for i, (s, b) in enumerate(pairs)
        for k in (1, 3, 7)
    ]
    auction = small_auction(found)
    return auction, baseline_engine().solve(auction)


def test_candidates_are_ranked_by_the_score_their_checks_give() -> None:
    auction, fills = _fills()
    ranked = Ranked.of(auction, fills)
    checked, references = units_of(auction, fills)
    assert [b.solution.id for b in ranked.bids] == [u.solution.id for u in checked]
    assert [b.score for b in ranked.bids] == [u.score for u in checked]
    assert ranked.references == references


def test_a_stopped_merge_checks_no_more_candidates_than_it_took(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    auction, fills = _fills()
    assert len(fills) >= 10
    calls = 0
    check = solver.merge_units.check_solution

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        return check(*args, **kwargs)

    monkeypatch.setattr(solver.merge_units, "check_solution", counting)
    assert merge_solutions(auction, fills, stop=lambda: True) == []
    # checking every candidate before merging (main's units_of) would spend the merge's time
    assert calls <= 2
