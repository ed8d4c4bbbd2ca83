"""Why a solution that did not win lost, as ``/api/v1/rounds`` says it, for each way the
fair combinatorial auction (``solver.competition.arbitrate``) drops one."""

from __future__ import annotations

from typing import Any

from intents.http.rounds import Outcome, RoundToken
from routing.pool import TokenAddress
from solver.competition import Bid, arbitrate
from solver.round_log import _lost

A, B, C = (TokenAddress("0x" + c * 40) for c in "abc")
NAMES = {A: RoundToken("TKA", 18), B: RoundToken("TKB", 18), C: RoundToken("TKC", 18)}
E15 = 10**15


def bid(solver: str, scores: dict[tuple[TokenAddress, TokenAddress], int], pools: str = "") -> Any:
    return Bid(solver, 0, None, scores, frozenset(scores), frozenset(pools.split()))


def outcomes(*bids: Any) -> dict[str, tuple[Outcome, str]]:
    ranking = arbitrate(list(bids), max_winners=10, wrapped_native=A)
    winners = {b.solver for b in ranking.winners}
    return {b.solver: _lost(b, ranking, NAMES) for b in bids if b.solver not in winners}


def test_outbid_on_a_shared_pair_names_the_pair_and_the_winner() -> None:
    lost = outcomes(bid("high", {(A, B): 3 * E15}), bid("low", {(A, B): E15}))
    assert lost["low"] == (
        Outcome.OUTBID, "outbid on TKA→TKB: high#0 scored 0.003 ETH, this 0.001 ETH"
    )  # fmt: skip


def test_a_batch_below_a_pairs_reference_is_unfair() -> None:
    lost = outcomes(
        bid("single", {(A, B): 3 * E15}),
        bid("batch", {(A, B): 2 * E15, (B, C): 5 * E15}),  # more in total, less on A→B
    )
    outcome, reason = lost["batch"]
    assert outcome is Outcome.UNFAIR
    assert "0.002 ETH on TKA→TKB" in reason and "(0.003 ETH)" in reason and "CIP-67" in reason


def test_a_bid_on_another_pair_through_a_winners_pool_would_revert() -> None:
    lost = outcomes(bid("first", {(A, B): 3 * E15}, "p1"), bid("second", {(B, C): E15}, "p1"))
    outcome, reason = lost["second"]
    assert outcome is Outcome.OUTBID and reason.startswith("first#0 (score 0.003 ETH) swaps")


def test_a_bid_settling_nothing_that_counts_is_unscored() -> None:
    lost = outcomes(bid("some", {(A, B): E15}), bid("none", {}))
    assert lost["none"][0] is Outcome.UNSCORED
