"""The per-order engines' gas-inclusive screen and worker processes on generated auctions over
the shared mainnet liquidity: the screen drops nothing a full solve fills profitably,
N workers fill what 1 fills for the orders reached, in time, and a dying worker costs only
its own order."""

from __future__ import annotations

import json
import os
import time
from datetime import timedelta
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.generate import Settings, generate
from intents.order import OrderClass, OrderKind
from routing.graph import TokenGraph
from solver.auction_file import load_auction
from solver.engines.base import Deadline, token_graph
from solver.engines.partial_fill import fill_surplus
from solver.engines.screen import GasScreen
from solver.engines.single_order import (
    FillerSpec,
    OrderFiller,
    RoutedFill,
    SingleOrderEngine,
    base_paths,
    baseline_router,
)
from solver.engines.workers import MIN_BUDGET_S, fill_in_workers, start_method
from solver.fee_price import PRICE_BASE
from solver.model import Auction, Order, now
from tests.data import MAINNET_AUCTION

pytestmark = pytest.mark.skipif(not MAINNET_AUCTION.exists(), reason="shared auction absent")

SPEC = FillerSpec(baseline_router, base_paths)


@cache
def _doc() -> dict[str, object]:
    return json.loads(MAINNET_AUCTION.read_bytes())  # type: ignore[no-any-return]


def _auction(orders: int, seed: int, seconds: float = 600.0, **knobs: float) -> Auction:
    raw = generate(_doc(), Settings(orders=orders, seed=seed, **knobs))  # type: ignore[arg-type]
    deadline = now() + timedelta(seconds=seconds)
    return load_auction(raw, deadline).with_deadline(deadline)


def _filler(auction: Auction, spec: FillerSpec = SPEC) -> OrderFiller:
    return spec.build(auction, token_graph(auction), Deadline(auction))


def _key(fill: RoutedFill) -> tuple[object, ...]:
    return fill.order.uid, fill.trade, fill.route.legs


def _net_wei(fill: RoutedFill, graph: TokenGraph, gas_price: int) -> float:
    """What the fill brings net of the gas the solver pays (market orders)."""
    order = fill.order
    surplus = float(fill_surplus(fill))
    if order.kind is OrderKind.BUY:  # in the sell token: at the limit rate into the buy token
        surplus = surplus * order.signed_buy_amount / order.signed_sell_amount
    value = surplus * (graph.prices.get(order.buy_token) or 0) / PRICE_BASE
    fee = order.signed_fee_amount * fill.trade.executed / order.signed_amount
    value += fee * (graph.prices.get(order.sell_token) or 0) / PRICE_BASE
    return value - fill.gas * gas_price


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10**6),
    in_the_money=st.sampled_from([0.3, 0.8]),
    market=st.sampled_from([0.2, 0.8]),
)
def test_the_screen_drops_nothing_a_full_solve_fills_profitably(
    seed: int, in_the_money: float, market: float
) -> None:
    auction = _auction(40, seed, in_the_money=in_the_money, market_share=market)
    filler = _filler(auction)
    passed = set(GasScreen(filler).screen(auction.orders).ranked)
    for order in auction.orders:
        fill = filler.fill(order)  # every order, unscreened
        if fill is None or order in passed:
            continue
        # only a market order whose fill cannot pay its gas is dropped
        assert order.order_class is OrderClass.MARKET, order.uid.hex()
        assert _net_wei(fill, filler.graph, auction.gas_price) < 0, order.uid.hex()


@pytest.fixture(scope="module")
def ranked() -> tuple[Auction, tuple[Order, ...]]:
    auction = _auction(60, 3, in_the_money=0.8)
    return auction, _filler(auction).candidates().ranked


@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_workers_fill_what_one_process_fills(
    ranked: tuple[Auction, tuple[Order, ...]], method: str
) -> None:
    auction, orders = ranked
    alone, routed = _filler(auction).fill_each(orders)
    assert routed == len(orders) and alone  # the comparison has fills to compare
    outcome = fill_in_workers(SPEC, _filler(auction), orders, 2, method)
    assert outcome.routed == len(orders)
    assert [_key(f) for f in outcome.fills] == [_key(f) for f in alone]


def test_a_dying_worker_loses_only_its_order(
    ranked: tuple[Auction, tuple[Order, ...]],
) -> None:
    auction, orders = ranked
    alone, _ = _filler(auction).fill_each(orders)
    doomed = alone[len(alone) // 2].order.uid
    filler = _filler(auction)
    fill = filler.fill

    def dying(order: Order) -> RoutedFill | None:
        if order.uid == doomed:
            os._exit(3)  # the worker's process dies on this order
        return fill(order)

    filler.fill = dying  # type: ignore[method-assign]
    outcome = fill_in_workers(SPEC, filler, orders, 2, "fork")
    assert outcome.routed == len(orders) - 1
    assert [_key(f) for f in outcome.fills] == [_key(f) for f in alone if f.order.uid != doomed]


@pytest.mark.parametrize(("workers", "seconds"), [(1, 0.5), (2, 0.5), (2, 2.0)])
def test_a_short_deadline_returns_in_time_with_what_was_found(workers: int, seconds: float) -> None:
    auction = _auction(2000, 5, seconds=30)
    token_graph(auction)  # built beforehand: the budget goes to routing
    engine = SingleOrderEngine("baseline", SPEC, workers=workers)
    started = time.monotonic()
    solutions = engine.solve(auction.with_deadline(now() + timedelta(seconds=seconds)))
    elapsed = time.monotonic() - started
    stats = engine.last_stats
    assert stats is not None
    assert elapsed < seconds
    # too short to start a fork server's workers (0.5 s: 0.45 s left after the margin)
    started_workers = workers > 1 and seconds * 0.9 >= MIN_BUDGET_S[start_method()]
    assert stats.workers == (workers if started_workers else 1)
    assert 0 < stats.routed < stats.screened  # cut short by the deadline, not done
    assert len(solutions) == stats.fills > 0
