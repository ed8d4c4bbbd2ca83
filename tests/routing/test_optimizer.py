"""The split optimizer: exactness, conservation, and never worse than the single paths."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.baseline import baseline_route, best_single_pool_route
from routing.graph import TokenGraph
from routing.liquidity import parse_snapshot
from routing.optimizer import Router, RouterConfig
from routing.route import NoRoute, OrderKind, Route
from tests.data import MAINNET_AUCTION
from tests.routing.market import E18, A, B, C, D, graph, pair

AUCTION = MAINNET_AUCTION


def assert_exact_and_conserving(route: Route, g: TokenGraph) -> None:
    """Each leg is the pool's exact output; every intermediate token nets to zero."""
    balance: dict[str, int] = {}
    for leg in route.legs:
        pool = g.pools[leg.pool]
        assert pool.amount_out(leg.token_in, leg.token_out, leg.amount_in) == leg.amount_out
        balance[leg.token_in] = balance.get(leg.token_in, 0) - leg.amount_in
        balance[leg.token_out] = balance.get(leg.token_out, 0) + leg.amount_out
    assert balance.pop(route.sell_token) == -route.amount_in
    assert balance.pop(route.buy_token) == route.amount_out
    assert all(v == 0 for v in balance.values()), balance


reserve = st.integers(min_value=10**20, max_value=10**24)


@st.composite
def v2_market(draw: st.DrawFn) -> list:
    tokens = [A, B, C, D]
    pools = []
    for i, u in enumerate(tokens):
        for v in tokens[i + 1 :]:
            for n in range(draw(st.integers(min_value=0, max_value=2))):
                pools.append(pair(f"{u[-1]}{v[-1]}{n}", u, v, draw(reserve), draw(reserve)))
    return pools


@settings(max_examples=25, deadline=None)
@given(
    pools=v2_market(),
    amount=st.integers(min_value=10**15, max_value=10**23),
    kind=st.sampled_from(list(OrderKind)),
    gas_price=st.sampled_from([0, 10**9, 10**11]),
)
def test_optimal_is_exact_conserving_and_never_worse_than_baseline(
    pools: list, amount: int, kind: OrderKind, gas_price: int
) -> None:
    g = graph(pools, gas_price=gas_price)
    router = Router(g)
    try:
        base = baseline_route(g, A, D, amount, kind, base_tokens=[B, C])
    except NoRoute:
        base = None
    try:
        route = router.route(A, D, amount, kind)
    except NoRoute:
        assert base is None
        return
    assert_exact_and_conserving(route, g)
    if kind is OrderKind.BUY:
        assert route.amount_out >= amount
    else:
        assert route.amount_in == amount
    if base is not None:
        assert not base.better_than(route)


def test_splitting_over_two_identical_pools_beats_one() -> None:
    g = graph([pair("p1", A, B, 1000 * E18, 1000 * E18), pair("p2", A, B, 1000 * E18, 1000 * E18)])
    amount = 200 * E18
    one = best_single_pool_route(g, A, B, amount)
    route = Router(g).route(A, B, amount)
    assert set(route.pools) == {"p1", "p2"}
    assert route.amount_out > one.amount_out
    # within 0.1 bp of the true optimum, the even split
    even = 2 * g.pools["p1"].amount_out(A, B, amount // 2)
    assert route.amount_out >= even * (1 - 1e-5)
    assert_exact_and_conserving(route, g)


def test_buy_order_split_needs_less_input() -> None:
    g = graph([pair("p1", A, B, 1000 * E18, 1000 * E18), pair("p2", A, B, 1000 * E18, 1000 * E18)])
    amount = 200 * E18
    one = best_single_pool_route(g, A, B, amount, OrderKind.BUY)
    route = Router(g).route(A, B, amount, OrderKind.BUY)
    assert route.amount_out >= amount
    assert route.amount_in < one.amount_in
    assert_exact_and_conserving(route, g)


def test_gas_aware_routing_drops_a_split_that_costs_more_gas_than_it_earns() -> None:
    # a deep pool and a small one at the same price: the small one helps a little
    pools = [pair("deep", A, B, 10**5 * E18, 10**5 * E18), pair("small", A, B, 50 * E18, 50 * E18)]
    amount = 100 * E18
    free = Router(graph(pools), RouterConfig(gas_aware=False)).route(A, B, amount)
    assert set(free.pools) == {"deep", "small"}
    gain = free.amount_out - best_single_pool_route(graph(pools), A, B, amount).amount_out
    # gas of one pool (90k gas) priced well above that gain
    gas_price = gain * 10 // 90_000 + 1
    g = graph(pools, gas_price=gas_price)
    route = Router(g).route(A, B, amount)
    assert route.pools == ("deep",)
    assert route.net > free.amount_out - g.gas_cost(180_000, B)


def test_the_gas_aware_mip_keeps_only_pools_worth_their_gas() -> None:
    pools = [
        pair("deep", A, B, 10**4 * E18, 10**4 * E18),
        pair("mid", A, B, 3000 * E18, 3000 * E18),
        pair("tiny", A, B, 2 * E18, 2 * E18),
    ]
    amount = 1000 * E18
    lp = Router(graph(pools), RouterConfig(gas_aware=False)).route(A, B, amount)
    assert "tiny" in lp.pools
    g = graph(pools, gas_price=10**13)  # 90k gas = 0.9 B: more than the tiny pool adds
    route = Router(g).route(A, B, amount)
    assert set(route.pools) == {"deep", "mid"}
    assert any("MIP" in text for text in route.explanation)
    assert route.net > lp.amount_out - g.gas_cost(3 * 90_000, B)


def test_no_route_raises() -> None:
    g = graph([pair("ab", A, B, E18, E18), pair("cd", C, D, E18, E18)])
    with pytest.raises(NoRoute):
        Router(g).route(A, D, E18)
    with pytest.raises(NoRoute):
        Router(g).route(A, B, 0)


@pytest.mark.skipif(not AUCTION.exists(), reason="shared mainnet auction not present")
def test_optimal_never_worse_than_baseline_on_real_orders() -> None:
    doc = json.loads(AUCTION.read_text())
    snapshot = parse_snapshot(doc)
    prices = {t: info.reference_price for t, info in snapshot.tokens.items()}
    g = TokenGraph(snapshot.pools, prices, gas_price=snapshot.gas_price)
    router = Router(g)
    orders = list(doc["orders"].values())[::25]
    checked = 0
    for order in orders:
        kind = OrderKind.SELL if order["is_sell_order"] else OrderKind.BUY
        amount = int(order["sell_amount"] if kind is OrderKind.SELL else order["buy_amount"])
        sell, buy = order["sell_token"], order["buy_token"]
        try:
            base = baseline_route(g, sell, buy, amount, kind)
        except NoRoute:
            continue
        route = router.route(sell, buy, amount, kind)
        assert not base.better_than(route)
        assert_exact_and_conserving(route, g)
        checked += 1
    assert checked >= 10


@pytest.mark.skipif(not AUCTION.exists(), reason="shared mainnet auction not present")
def test_a_split_filling_pools_to_capacity_survives_exact_resimulation() -> None:
    """Order 374 of the mainnet auction (1000 of 0x9f52… for DAI through WETH): over the
    convex reference's network the LP splits the WETH over ~45 pools, several weighted pools
    filled to their max-in ratio. Rounded to integers (and fed by exact outputs above the
    model's chords) those legs went a hair past capacity, the re-simulation gave up and the
    baseline's path (5.311e19) won; the convex optimum's flows replayed with the exact pool
    math give 5.6613e19."""
    doc = json.loads(AUCTION.read_text())
    snapshot = parse_snapshot(doc)
    prices = {t: info.reference_price for t, info in snapshot.tokens.items()}
    g = TokenGraph(snapshot.pools, prices, gas_price=0)
    wide = RouterConfig(max_paths=24, max_parallel=1000, max_pools=1000, gas_aware=False)
    sell = "0x9f52c8ecbee10e00d9faaac5ee9ba0ff6550f511"
    dai = "0x6b175474e89094c44da98b954eedeac495271d0f"
    amount = 1000 * E18
    route = Router(g, wide).route(sell, dai, amount)
    base = baseline_route(g, sell, dai, amount)
    assert len(route.pools) > 10
    assert route.amount_out >= 56_613 * 10**15 > base.amount_out * 1.06
    assert_exact_and_conserving(route, g)


def test_column_generation_adds_the_pools_the_candidate_network_left_out() -> None:
    # five equal pools; the candidate network keeps one, pricing brings in the others and
    # does as well as the LP given all five from the start
    pools = [pair(f"p{i}", A, B, 1000 * E18, 1000 * E18) for i in range(5)]
    g = graph(pools)
    amount = 500 * E18
    base = {"gas_aware": False, "pricing_paths": 0}
    alone = Router(g, RouterConfig(**base, max_parallel=1, max_pools=1)).route(A, B, amount)
    everything = Router(g, RouterConfig(**base, max_parallel=5)).route(A, B, amount)
    priced = Router(g, RouterConfig(gas_aware=False, max_parallel=1, max_pools=1)).route(
        A, B, amount
    )
    assert alone.pools == ("p0",)
    assert set(priced.pools) == set(everything.pools) == {f"p{i}" for i in range(5)}
    assert priced.amount_out >= everything.amount_out * (1 - 1e-6)
    assert priced.amount_out > alone.amount_out
    assert_exact_and_conserving(priced, g)


@pytest.mark.skipif(not AUCTION.exists(), reason="shared mainnet auction not present")
@pytest.mark.parametrize(
    "index",
    [
        # 0.01 WETH -> DAI: a chain of stale shallow pools put DAI's spot potential at 5.9e11
        # per WETH, the LP's rows were scaled so far its coefficients vanished, it found no
        # flow and the single path (371 bp short) won. Against the stronger reference of
        # issue 9 (stable pools, paths at the margin) it is 1.07 bp short: a real router gap
        pytest.param(
            "15",
            marks=pytest.mark.xfail(
                strict=True,
                reason="router 1.07 bp short of the stable-pool reference (issue 9)",
            ),
        ),
        # 400 tokens -> WETH: a weighted pool filled to its max-in ratio overflowed by more
        # than a proportional cut of its inflow fixes (concave upstream curves), four times
        "249",
        # buy 0.31 WETH with DAI: Balancer rounds amount-in-given-out and out-given-in each in
        # the pool's favour, so the quoted input bought a few units short and the split died
        "71",
        # a V3 pool on the way filled to its last tick: cutting the flow into it did nothing
        # while the token upstream had no other edge (the split handed it all back). The
        # stronger reference of issue 9 finds 32.5 bp more: a real router gap
        pytest.param(
            "257",
            marks=pytest.mark.xfail(
                strict=True,
                reason="router 32.5 bp short of the stronger reference (issue 9)",
            ),
        ),
    ],
)
def test_split_is_within_a_basis_point_of_the_convex_optimum(index: str) -> None:
    from bench.convex import convex_optimum
    from bench.routing import load_orders

    doc = json.loads(AUCTION.read_text())
    snapshot = parse_snapshot(doc)
    prices = {t: info.reference_price for t, info in snapshot.tokens.items()}
    g = TokenGraph(snapshot.pools, prices, gas_price=0)
    case = next(c for c in load_orders(doc) if c.index == index)
    route = Router(g, RouterConfig(gas_aware=False)).route(
        case.sell, case.buy, case.amount, case.kind
    )
    best = convex_optimum(g, case.sell, case.buy, case.amount, case.kind).value
    assert best is not None
    if case.kind is OrderKind.SELL:
        assert route.amount_out >= best * (1 - 1e-4)
    else:
        assert route.amount_in <= best * (1 + 1e-4)
    assert len(route.pools) > 1
    assert_exact_and_conserving(route, g)
