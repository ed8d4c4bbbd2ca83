"""``best_gross_legs`` abandons a path as soon as the hops routed so far, with the spot
bounds of the hops left, cannot beat the best path found (``execute_path``'s ``beat``,
``_best_out``'s ``floor``, ``_best_in``'s ``ceiling``), and routes the last winner of its
``Quotes`` first: on the shared mainnet auction's pools, the legs chosen are those of
routing every path in full and taking the best (ties: the earlier path)."""

from __future__ import annotations

from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from routing.baseline import _best_in, _best_out, best_gross_legs, execute_path
from routing.path_routing import base_paths
from routing.quotes import Quotes
from routing.route import Leg, OrderKind
from tests.routing.test_spot_bound import _graph  # the shared auction's token graph

Path = tuple[str, ...]


@cache
def _pairs() -> list[tuple[str, str, tuple[Path, ...]]]:
    """Token pairs with at least two base-token paths that trade."""
    g = _graph()
    tokens = sorted({u for u, _, _ in g.graph.edges(keys=True)})
    found = []
    for sell in tokens[::7]:
        for buy in tokens[::11]:
            paths = tuple(base_paths(g, sell, buy))
            if len(paths) > 1:
                found.append((sell, buy, paths))
    return found


def _exhaustive(paths: tuple[Path, ...], amount: int, kind: OrderKind) -> tuple[Leg, ...] | None:
    """Every path routed in full, the best gross amount kept (ties: the earlier path)."""
    best: tuple[int, tuple[Leg, ...]] | None = None
    for tokens in paths:
        legs = execute_path(_graph(), tokens, amount, kind)
        if legs is None:
            continue
        if kind is OrderKind.SELL:
            key = legs[-1].amount_out
        elif legs[-1].amount_out < amount:
            continue
        else:
            key = -legs[0].amount_in
        if best is None or key > best[0]:
            best = (key, legs)
    return None if best is None else best[1]


@settings(max_examples=150, deadline=None)
@given(st.data(), st.integers(min_value=10**3, max_value=10**26), st.booleans())
def test_bounded_choice_is_the_exhaustive_one(
    data: st.DataObject, amount: int, sell_order: bool
) -> None:
    _, _, paths = data.draw(st.sampled_from(_pairs()))
    kind = OrderKind.SELL if sell_order else OrderKind.BUY
    quotes = Quotes()
    quotes.last_path = data.draw(st.sampled_from(paths))  # any earlier winner
    assert best_gross_legs(_graph(), paths, amount, kind, quotes) == _exhaustive(
        paths, amount, kind
    )


@settings(max_examples=200, deadline=None)
@given(st.data(), st.integers(min_value=1, max_value=10**26), st.floats(0.0, 1.5))
def test_a_floor_changes_no_pick_that_reaches_it(
    data: st.DataObject, amount: int, share: float
) -> None:
    g = _graph()
    pairs = sorted({(u, v) for u, v, _ in g.graph.edges(keys=True)})
    u, v = data.draw(st.sampled_from(pairs))
    edges = g.edges(u, v)
    free = _best_out(edges, amount)
    if free is not None:
        floor = free[1] * share
        bounded = _best_out(edges, amount, floor=floor)
        if free[1] >= floor:
            assert bounded == free
        else:
            assert bounded is None or bounded[1] < floor
    asked = _best_in(edges, amount)
    if asked is not None:
        ceiling = asked[1] / max(share, 1e-9)
        bounded = _best_in(edges, amount, ceiling=ceiling)
        if asked[1] <= ceiling:
            assert bounded == asked
        else:
            assert bounded is None or bounded[1] > ceiling
