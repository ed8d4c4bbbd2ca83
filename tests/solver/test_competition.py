"""Fair combinatorial auction (CIP-67): fairness filter, reference scores, greedy winners."""

from __future__ import annotations

import dataclasses
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routing.pool import TokenAddress
from solver.competition import (
    NATIVE_TOKEN,
    Bid,
    Pair,
    Ranking,
    arbitrate,
    pick_winners,
    reference_scores,
)
from solver.scoring import order_score
from tests.solver.test_checks import auction, order


def token(n: int) -> TokenAddress:
    return TokenAddress(f"0x{n:040x}")


A, B, C, D = token(1), token(2), token(3), token(4)


def bid(solver: str, scores: dict[Pair, int], solution_id: int = 0) -> Bid[str]:
    return Bid(
        solver=solver,
        solution_id=solution_id,
        solution=f"{solver}/{solution_id}",
        scores=scores,
        pairs=frozenset(scores),
    )


def test_better_scoring_solution_wins() -> None:
    low, high = bid("low", {(A, B): 100}), bid("high", {(A, B): 150})
    ranking = arbitrate([low, high])
    assert ranking.winners == (high,)
    assert ranking.ranked == (high, low)
    assert ranking.reference_scores == {(A, B): 150}
    assert ranking.total_score == 150


def test_disjoint_bids_both_win_and_overlapping_one_loses() -> None:
    ab = bid("s1", {(A, B): 200})
    cd = bid("s2", {(C, D): 100})
    ab_again = bid("s3", {(A, B): 50})
    ranking = arbitrate([ab_again, cd, ab])
    assert set(ranking.winners) == {ab, cd}
    assert ranking.ranked[-1] == ab_again


def test_a_bid_swapping_a_pool_an_earlier_winner_swaps_loses() -> None:
    """Settled one after the other, the second would revert on the pool the first moved."""
    first = dataclasses.replace(bid("s1", {(A, B): 200}), pools=frozenset({"p1", "p2"}))
    clash = dataclasses.replace(bid("s2", {(C, D): 100}), pools=frozenset({"p2"}))
    apart = dataclasses.replace(bid("s3", {(B, C): 50}), pools=frozenset({"p3"}))
    ranking = arbitrate([clash, apart, first])
    assert ranking.winners == (first, apart)


def test_direction_matters_opposite_pairs_do_not_overlap() -> None:
    ab, ba = bid("s1", {(A, B): 10}), bid("s2", {(B, A): 5})
    assert set(arbitrate([ab, ba]).winners) == {ab, ba}


def test_unfair_batch_is_dropped_even_with_higher_total(caplog: pytest.LogCaptureFixture) -> None:
    # The batch scores 300 in total but gives pair (C, D) less than solver s2 alone gives it.
    batch = bid("batcher", {(A, B): 250, (C, D): 50})
    alone_ab = bid("s1", {(A, B): 200})
    alone_cd = bid("s2", {(C, D): 80})
    with caplog.at_level(logging.INFO, logger="solver.competition"):
        ranking = arbitrate([batch, alone_ab, alone_cd])
    assert ranking.unfair == (batch,)
    assert set(ranking.winners) == {alone_ab, alone_cd}
    assert "batcher solution 0 dropped as unfair" in caplog.text
    assert "50 < 80" in caplog.text


def test_fair_batch_beats_its_parts() -> None:
    batch = bid("batcher", {(A, B): 210, (C, D): 90})
    ranking = arbitrate([batch, bid("s1", {(A, B): 200}), bid("s2", {(C, D): 80})])
    assert ranking.unfair == ()
    assert ranking.winners == (batch,)


def test_single_pair_bid_is_never_unfair() -> None:
    weak = bid("weak", {(A, B): 1})
    ranking = arbitrate([bid("strong", {(A, B): 9}), weak])
    assert ranking.unfair == ()
    assert weak in ranking.ranked and weak not in ranking.winners


def test_bid_scoring_nothing_is_dropped() -> None:
    empty = Bid(solver="jit", solution_id=1, solution="x", scores={}, pairs=frozenset({(A, B)}))
    ranking = arbitrate([empty])
    assert ranking.unscored == (empty,) and ranking.winners == ()


def test_ties_are_broken_by_solver_name_then_solution_id() -> None:
    bids = [bid("zed", {(A, B): 5}), bid("amy", {(A, B): 5}, 2), bid("amy", {(A, B): 5}, 1)]
    assert arbitrate(bids).winners == (bids[2],)
    assert arbitrate(list(reversed(bids))).winners == (bids[2],)


def test_max_winners_caps_the_selection() -> None:
    bids = [bid(f"s{i}", {(token(10 + i), token(20 + i)): 10 - i}) for i in range(4)]
    assert arbitrate(bids, max_winners=2).winners == (bids[0], bids[1])
    with pytest.raises(ValueError):
        arbitrate(bids, max_winners=0)


def test_native_token_counts_as_its_wrapped_token() -> None:
    weth = token(99)
    a = bid("s1", {(NATIVE_TOKEN, B): 10})
    b = bid("s2", {(weth, B): 8})
    assert pick_winners([a, b], 10, wrapped_native=weth) == (a,)
    assert pick_winners([a, b], 10) == (a, b)


def test_reference_scores_ignore_batches() -> None:
    refs = reference_scores([bid("b", {(A, B): 500, (C, D): 1}), bid("s", {(A, B): 3})])
    assert refs == {(A, B): 3}


pairs = st.tuples(st.integers(1, 4), st.integers(1, 4)).filter(lambda p: p[0] != p[1])
bids_strategy = st.lists(
    st.dictionaries(
        pairs.map(lambda p: (token(p[0]), token(p[1]))), st.integers(0, 50), min_size=1, max_size=3
    ),
    max_size=8,
)


@given(bids_strategy, st.integers(1, 4))
def test_winners_are_fair_disjoint_and_greedy(
    score_maps: list[dict[Pair, int]], max_winners: int
) -> None:
    bids = [bid(f"s{i}", scores, i) for i, scores in enumerate(score_maps)]
    ranking = arbitrate(bids, max_winners=max_winners)
    refs = ranking.reference_scores
    taken: set[Pair] = set()
    for winner in ranking.winners:
        assert taken.isdisjoint(winner.pairs)
        taken |= winner.pairs
        if len(winner.scores) > 1:
            assert all(s >= refs.get(p, 0) for p, s in winner.scores.items())
    assert len(ranking.winners) <= max_winners
    # every fair loser overlaps a better-or-equal winner (or the cap was reached)
    for loser in ranking.ranked[len(ranking.winners) :]:
        blocking = [w for w in ranking.winners if w.pairs & loser.pairs]
        assert len(ranking.winners) == max_winners or any(w.score >= loser.score for w in blocking)
    assert sorted(map(id, ranking.ranked + ranking.unfair)) == sorted(map(id, bids))


# CoW's own winner-selection cases (autopilot ``winner_selection.rs`` tests), scored by our
# scoring: every order sells 1000 for at least 1000; reference prices 1e18, so the score of
# an order is its surplus in buy-token units.
CASE_TOKENS = [token(100 + i) for i in range(6)]


def cow_case(
    pairs: dict[int, tuple[int, int]], solutions: dict[str, dict[int, int]]
) -> Ranking[str]:
    orders = {
        n: order(n, CASE_TOKENS[s], CASE_TOKENS[b], 1000, 1000) for n, (s, b) in pairs.items()
    }
    book = auction(*orders.values(), prices=dict.fromkeys(CASE_TOKENS, 10**18))
    bids = []
    for i, (solver, fills) in enumerate(solutions.items()):
        scores: dict[Pair, int] = {}
        for n, bought in fills.items():
            o = orders[n]
            key = (o.sell_token, o.buy_token)
            scores[key] = scores.get(key, 0) + order_score(o, 1000, bought, book)
        bids.append(Bid(solver, i, solver, scores, frozenset(scores)))
    return arbitrate(bids)


def test_cow_case_fairness_filtering() -> None:
    ranking = cow_case(
        {1: (0, 1), 2: (2, 3)},
        {"unfair": {1: 1100, 2: 1100}, "filtering": {1: 1150}},
    )
    assert [b.solver for b in ranking.ranked] == ["filtering"]
    assert [b.solver for b in ranking.winners] == ["filtering"]
    assert ranking.solver_reference_scores == {"filtering": 0}


def test_cow_case_aggregation_on_token_pair() -> None:
    ranking = cow_case(
        {1: (0, 1), 2: (0, 1)},
        {"batch": {1: 1100, 2: 1100}, "incompatible": {1: 1150}},
    )
    assert [b.solver for b in ranking.ranked] == ["batch", "incompatible"]
    assert [b.solver for b in ranking.winners] == ["batch"]
    assert ranking.solver_reference_scores == {"batch": 150}


def test_cow_case_reference_better_than_winners() -> None:
    ranking = cow_case(
        {1: (0, 1), 2: (2, 3), 3: (4, 5)},
        {
            "best": {1: 1100, 2: 1100, 3: 1100},
            "incompatible-1": {1: 1140, 2: 1140},
            "incompatible-2": {3: 1100},
        },
    )
    assert {b.solver for b in ranking.ranked} == {"best", "incompatible-1", "incompatible-2"}
    assert [(b.solver, b.score) for b in ranking.winners] == [("best", 300)]
    assert ranking.solver_reference_scores == {"best": 380}
