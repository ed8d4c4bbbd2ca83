"""Issue 12's judgment: pooled bids against the reference's alone, by the node's selection."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bench.judgment import SCORE_TARGET, Judgment, Round, judge, one_round, report
from routing.pool import TokenAddress
from solver.competition import Bid, Pair
from solver.model import Solution, Trade

TOKENS = [TokenAddress(f"0x{i:040x}") for i in range(1, 6)]


def _bid(solver: str, number: int, scores: dict[Pair, int], trades: int = 0) -> Bid[Solution]:
    count = trades or len(scores)
    solution = Solution(
        id=number,
        prices={},
        trades=tuple(Trade(order=bytes([number % 256, i]) * 28, executed=1) for i in range(count)),
        legs=(),
        gas=100_000 * count,
    )
    return Bid(solver, number, solution, scores, frozenset(scores))


X, Y, Z = (TOKENS[0], TOKENS[1]), (TOKENS[1], TOKENS[2]), (TOKENS[2], TOKENS[3])


def test_fair_batch_wins_and_ratio_follows() -> None:
    baseline = [_bid("baseline", 0, {X: 10}), _bid("baseline", 1, {Y: 10})]
    batch = [_bid("batch", 0, {X: 12, Y: 13})]
    judged = judge({"baseline": baseline, "batch": batch})
    assert judged.pooled.winners == tuple(batch)
    assert (judged.pooled.score, judged.alone.score) == (25, 20)
    assert judged.ratio == 25 / 20 >= SCORE_TARGET
    assert judged.score_met and judged.orders_met
    assert judged.pooled.gas_per_trade == 100_000


def test_unfair_batch_is_dropped_so_the_target_is_missed() -> None:
    baseline = [_bid("baseline", 0, {X: 10}), _bid("baseline", 1, {Y: 10})]
    unfair = [_bid("batch", 0, {X: 9, Y: 30})]  # X below baseline's reference 10
    judged = judge({"baseline": baseline, "batch": unfair})
    assert set(judged.pooled.winners) == set(baseline)
    assert judged.ratio == 1.0 and not judged.score_met and judged.orders_met


def test_fewer_orders_is_reported() -> None:
    pooled = Round(bids=3, winners=(_bid("batch", 0, {X: 100}),))
    alone = Round(bids=2, winners=(_bid("baseline", 0, {X: 10}), _bid("baseline", 1, {Y: 10})))
    judged = Judgment("baseline", pooled, alone)
    assert judged.score_met and not judged.orders_met
    assert judged.ratio == 5.0
    last = report(judged)[-1]
    assert "score ratio 5.000" in last and "orders settled 1 vs 2 (target >=: NOT met)" in last


def test_missing_reference_and_empty_round() -> None:
    assert one_round([]).score == 0
    judged = judge({"baseline": [], "batch": [_bid("batch", 0, {X: 5})]})
    assert judged.ratio is None and not judged.score_met


pairs = st.sampled_from([(a, b) for a in TOKENS for b in TOKENS if a != b])
single = st.builds(lambda p, s: {p: s}, pairs, st.integers(1, 1_000))
multi = st.dictionaries(pairs, st.integers(1, 1_000), min_size=1, max_size=4)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(single, max_size=8),
    st.lists(multi, max_size=8),
    st.integers(1, 4),
)
def test_pooled_never_scores_below_single_pair_reference(
    reference: list[dict[Pair, int]], others: list[dict[Pair, int]], winners: int
) -> None:
    bids = {
        "baseline": [_bid("baseline", i, s) for i, s in enumerate(reference)],
        "batch": [_bid("batch", i, s) for i, s in enumerate(others)],
    }
    judged = judge(bids, max_winners=winners, wrapped_native=None)
    assert judged.pooled.score >= judged.alone.score
    assert judged.pooled.bids == len(reference) + len(others)
