"""The order lifecycle's pure rules (``intents.lifecycle``), independent of any storage."""

from __future__ import annotations

import random

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from intents.lifecycle import (
    LIVE,
    Event,
    Progress,
    next_status,
    progress,
    with_fill,
    with_presignature,
)
from intents.order import OrderKind, OrderStatus, SigningScheme
from intents.types import UINT256_MAX
from tests.intents.test_store import make_order

S = OrderStatus
P = Progress


@pytest.mark.parametrize(
    ("current", "event", "after", "expected"),
    [
        (S.OPEN, Event.FILL, P.PARTIAL, S.PARTIALLY_FILLED),
        (S.OPEN, Event.FILL, P.COMPLETE, S.FILLED),
        (S.PARTIALLY_FILLED, Event.FILL, P.PARTIAL, S.PARTIALLY_FILLED),
        (S.PARTIALLY_FILLED, Event.FILL, P.COMPLETE, S.FILLED),
        # the chain is the truth: a settled fill counts on a cancelled or expired order
        (S.CANCELLED, Event.FILL, P.PARTIAL, S.CANCELLED),
        (S.CANCELLED, Event.FILL, P.COMPLETE, S.FILLED),
        (S.EXPIRED, Event.FILL, P.COMPLETE, S.FILLED),
        (S.OPEN, Event.CANCEL, P.NONE, S.CANCELLED),
        (S.PARTIALLY_FILLED, Event.CANCEL, P.PARTIAL, S.CANCELLED),
        (S.FILLED, Event.CANCEL, P.COMPLETE, S.FILLED),
        (S.EXPIRED, Event.CANCEL, P.NONE, S.EXPIRED),
        (S.CANCELLED, Event.CANCEL, P.NONE, S.CANCELLED),
        (S.OPEN, Event.EXPIRE, P.NONE, S.EXPIRED),
        (S.PARTIALLY_FILLED, Event.EXPIRE, P.PARTIAL, S.EXPIRED),
        (S.FILLED, Event.EXPIRE, P.COMPLETE, S.FILLED),
        (S.CANCELLED, Event.EXPIRE, P.NONE, S.CANCELLED),
        (S.FILLED, Event.REVERT, P.NONE, S.OPEN),
        (S.FILLED, Event.REVERT, P.PARTIAL, S.PARTIALLY_FILLED),
        (S.PARTIALLY_FILLED, Event.REVERT, P.NONE, S.OPEN),
        (S.CANCELLED, Event.REVERT, P.NONE, S.CANCELLED),
        (S.EXPIRED, Event.REVERT, P.NONE, S.EXPIRED),
    ],
)
def test_transitions(current: S, event: Event, after: P, expected: S) -> None:
    assert next_status(current, event, after) is expected


amounts = st.integers(min_value=1, max_value=UINT256_MAX)


@given(target=amounts, executed=st.integers(min_value=0, max_value=UINT256_MAX), sell=st.booleans())
def test_progress_counts_the_signed_side(target: int, executed: int, sell: bool) -> None:
    kind = OrderKind.SELL if sell else OrderKind.BUY
    order = make_order(1, kind=kind, sell_amount=target, buy_amount=target).order
    other = 10**6  # the other side's amount must not matter
    result = progress(order, executed, other) if sell else progress(order, other, executed)
    expected = P.NONE if executed == 0 else P.COMPLETE if executed >= target else P.PARTIAL
    assert result is expected


def test_any_fill_completes_a_fill_or_kill_order() -> None:
    order = make_order(1, partially_fillable=False, sell_amount=100).order
    assert progress(order, 1, 1) is P.COMPLETE
    assert progress(order, 0, 0) is P.NONE


fills = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=10**30),
        st.integers(min_value=1, max_value=10**30),
        st.integers(min_value=0, max_value=10**20),
    ),
    min_size=1,
    max_size=6,
)


@given(fills=fills, revert_order=st.randoms(use_true_random=False))
def test_reverting_every_fill_restores_the_order(
    fills: list[tuple[int, int, int]], revert_order: random.Random
) -> None:
    original = make_order(1, sell_amount=10**30 + 1)
    stored = original
    seen = [stored.status]
    for sell, buy, fee in fills:
        stored = with_fill(stored, sell, buy, fee)
        seen.append(stored.status)
    # fills only move forward: open -> partiallyFilled -> filled
    rank = {S.OPEN: 0, S.PARTIALLY_FILLED: 1, S.FILLED: 2}
    assert [rank[s] for s in seen] == sorted(rank[s] for s in seen)
    assert stored.executed_sell_amount == sum(f[0] for f in fills)
    shuffled = list(fills)
    revert_order.shuffle(shuffled)
    for sell, buy, fee in shuffled:
        stored = with_fill(stored, sell, buy, fee, revert=True)
    assert stored == original


def test_revert_leaves_a_cancelled_order_cancelled() -> None:
    order = msgspec.structs.replace(make_order(1), status=S.CANCELLED)
    filled = with_fill(order, 5, 5, 0)
    assert filled.status is S.CANCELLED
    assert with_fill(filled, 5, 5, 0, revert=True) == order


_BASE = {P.NONE: S.OPEN, P.PARTIAL: S.PARTIALLY_FILLED, P.COMPLETE: S.FILLED}


@given(
    steps=st.lists(
        st.one_of(
            st.booleans(),  # set (True) or revoke (False) the pre-signature
            st.integers(min_value=1, max_value=4 * 10**23),  # a fill of this sell amount
            st.just(None),  # revert the latest fill
        ),
        max_size=12,
    )
)
def test_a_presign_order_is_pending_exactly_while_unsigned_and_tradable(
    steps: list[bool | int | None],
) -> None:
    stored = with_presignature(
        msgspec.structs.replace(make_order(1), signing_scheme=SigningScheme.PRESIGN), False
    )
    fills: list[int] = []
    for step in steps:
        if isinstance(step, bool):
            stored = with_presignature(stored, step)
        elif step is None:
            if fills:
                stored = with_fill(stored, fills.pop(), 1, 0, revert=True)
        else:
            fills.append(step)
            stored = with_fill(stored, step, 1, 0)
        base = _BASE[progress(stored.order, stored.executed_sell_amount, 1 if fills else 0)]
        pending = not stored.presigned and base in LIVE
        assert stored.status is (S.PRESIGNATURE_PENDING if pending else base), (steps, stored)
