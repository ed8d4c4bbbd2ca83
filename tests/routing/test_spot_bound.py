"""The spot rate bounds every pool's exact amounts, so ``_best_out`` / ``_best_in`` may stop
at the first pool whose bound cannot beat the best exact amount: on the shared mainnet
auction's pools (every kind) the pruned pick is the exhaustive one."""

from __future__ import annotations

import json
from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from routing.baseline import SPOT_SLACK, _best_in, _best_out, _out
from routing.covering import covering_input
from routing.graph import Edge, TokenGraph
from routing.liquidity import parse_snapshot
from routing.pool import PoolMathError
from tests.data import MAINNET_AUCTION


@cache
def _graph() -> TokenGraph:
    snapshot = parse_snapshot(json.loads(MAINNET_AUCTION.read_text()))
    prices = {t: info.reference_price for t, info in snapshot.tokens.items()}
    return TokenGraph(snapshot.pools, prices, gas_price=snapshot.gas_price)


@cache
def _pairs() -> list[tuple[Edge, ...]]:
    g = _graph()
    pairs = {(u, v) for u, v, _ in g.graph.edges(keys=True)}
    return [g.edges(u, v) for u, v in sorted(pairs)]


def _needed(edge: Edge, amount_out: int) -> int | None:
    try:
        quoted = edge.pool.amount_in(edge.token_in, edge.token_out, amount_out)
    except PoolMathError:
        return None
    return covering_input(lambda a: _out(edge, a), quoted, amount_out)


amounts = st.integers(min_value=1, max_value=10**30)


@settings(max_examples=300, deadline=None)
@given(st.data(), amounts)
def test_no_pool_beats_its_spot_rate(data: st.DataObject, amount: int) -> None:
    edge = data.draw(st.sampled_from([e for edges in _pairs() for e in edges]))
    out = _out(edge, amount)
    if out is not None:
        assert out <= amount * edge.rate * (1 + SPOT_SLACK)
    needed = _needed(edge, amount)
    if needed is not None:
        assert amount <= needed * edge.rate * (1 + SPOT_SLACK)


@settings(max_examples=300, deadline=None)
@given(st.data(), amounts)
def test_pruned_pick_is_the_exhaustive_one(data: st.DataObject, amount: int) -> None:
    edges = data.draw(st.sampled_from([e for e in _pairs() if len(e) > 1]))
    outs = [(o, -i) for i, e in enumerate(edges) if (o := _out(e, amount)) is not None]
    best = _best_out(edges, amount)
    assert (best[1] if best else None) == (max(outs)[0] if outs else None)
    if outs:
        assert best is not None and best[0] is edges[-max(outs)[1]]
    ins = [(n, i) for i, e in enumerate(edges) if (n := _needed(e, amount)) is not None]
    pick = _best_in(edges, amount)
    assert (pick[1] if pick else None) == (min(ins)[0] if ins else None)
    if ins:
        assert pick is not None and pick[0] is edges[min(ins)[1]]
