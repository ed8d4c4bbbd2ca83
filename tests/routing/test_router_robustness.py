"""The router raises nothing but ``NoRoute``, and every route it returns re-simulates
exactly with the pool math: on odd hand-built markets (the regressions) and, fuzzed with
hypothesis, on the shared auction's liquidity and on perturbed copies of it."""

from __future__ import annotations

import copy
import functools
import json
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing.balancer_weighted import WeightedPool, WeightedToken
from routing.baseline import baseline_route
from routing.graph import PRICE_UNIT, TokenGraph
from routing.liquidity import parse_snapshot
from routing.optimizer import Router
from routing.pool import PoolId, TokenAddress
from routing.route import NoRoute, OrderKind, Route
from tests.data import MAINNET_AUCTION
from tests.routing.market import E18, A, B, C, D, graph, pair
from tests.routing.route_checks import assert_route_is_exact


def test_a_single_path_through_a_pool_the_network_gave_to_another_pair_is_no_crash() -> None:
    """A three-token weighted pool serves one pair of the candidate network (the best
    ranked: A -> C); the best single path for a large order sells A -> B through it, so B
    is unreachable in the network. The model took the single path's B -> D edge without a
    scale for B and gave it no breakpoints (``np.repeat`` with a count of -1)."""
    weighted = WeightedPool(
        PoolId("w"),
        tuple(WeightedToken(t, 10**7 * E18, E18 // 3, E18) for t in (A, B, C)),
        fee=3 * 10**15,
    )
    pools = [
        weighted,
        pair("cd", C, D, 10**6 * E18, 10**6 * E18),  # ranked first, too shallow for the order
        pair("bd", B, D, 101 * 10**6 * E18, 100 * 10**6 * E18),
    ]
    g = graph(pools)
    amount = 10**6 * E18
    route = Router(g).route(A, D, amount, OrderKind.SELL)
    assert_route_is_exact(route, g, amount)
    assert "w" in route.pools and "bd" in route.pools


# -- fuzzing on the shared auction and perturbed copies of its liquidity --------------------

Doc = dict[str, Any]
_PERTURBATIONS = ("scale", "skew", "zero", "ticks", "tick", "sqrt_price", "amp", "remove")


@functools.cache
def _auction() -> Doc:
    doc: Doc = json.loads(MAINNET_AUCTION.read_text())
    doc["orders"] = {}
    return doc


@functools.cache
def _shared_router() -> Router:
    """One router over the shared auction for all examples (its curve cache grows across
    orders, as in the solver)."""
    snapshot = parse_snapshot(_auction())
    prices = {t: info.reference_price for t, info in snapshot.tokens.items()}
    return Router(TokenGraph(snapshot.pools, prices, gas_price=snapshot.gas_price))


def _times(value: str | int, num: int, den: int) -> str:
    return str(int(value) * num // den)


def _perturb_pool(amm: Doc, op: str, k: int, rng: random.Random) -> None:
    """Change one legacy-format pool in place: ``k`` is a power of ten (or of two, or a tick
    shift) and ``rng`` picks tokens and ticks."""
    num, den = (10**k, 1) if k >= 0 else (1, 10**-k)
    kind = amm["kind"]
    reserves = amm.get("reserves", {})
    tokens = sorted(reserves)
    amount_key = "balance" if kind == "WeightedProduct" else None

    def scale_token(token: str, n: int, d: int) -> None:
        if amount_key is None:
            reserves[token] = _times(reserves[token], n, d)
        else:
            reserves[token][amount_key] = _times(reserves[token][amount_key], n, d)

    if kind == "Concentrated":
        state = amm["pool"]["state"]
        net = state["liquidity_net"]
        if op in ("scale", "zero"):
            n, d = (0, 1) if op == "zero" else (num, den)
            state["liquidity"] = _times(state["liquidity"], n, d)
            for tick in net:
                net[tick] = str(int(net[tick]) * n // d)
        elif op == "ticks":  # drop initialized ticks: the pool ends where its data ends
            for tick in rng.sample(sorted(net), rng.randint(0, len(net))):
                del net[tick]
        elif op == "tick":  # the tick no longer matches the price
            state["tick"] = str(int(state["tick"]) + k * 5_000)
        elif op in ("skew", "sqrt_price"):
            price = int(state["sqrt_price"])
            state["sqrt_price"] = str(max(price << k if k >= 0 else price >> -k, 1))
        return
    if not tokens:
        return
    if op == "scale":
        for token in tokens:
            scale_token(token, num, den)
    elif op in ("skew", "sqrt_price", "tick", "ticks"):
        scale_token(rng.choice(tokens), num, den)
    elif op == "zero":
        scale_token(rng.choice(tokens), 0, 1)
    elif op == "amp" and kind == "Stable":
        amm["amplification_parameter"] = str(rng.choice([1, 2, 5000, 10**6]))


@st.composite
def perturbed_auctions(draw: st.DrawFn) -> Doc:
    """The shared auction with some of its pools and reference prices changed: reserves,
    balances and liquidity scaled by powers of ten (dust to absurdly deep), one token of a
    pool skewed (extreme ratios), reserves emptied, V3 ticks dropped, ticks and prices that
    contradict each other, stable pools with extreme amplification, pools removed."""
    doc = copy.deepcopy(_auction())
    amms: Doc = doc["amms"]
    ids = sorted(amms)
    rng = random.Random(draw(st.integers(0, 2**32)))
    changes = draw(
        st.lists(
            st.tuples(st.sampled_from(ids), st.sampled_from(_PERTURBATIONS), st.integers(-24, 24)),
            min_size=1,
            max_size=60,
        )
    )
    for ident, op, k in changes:
        if ident not in amms:
            continue
        if op == "remove":
            del amms[ident]
        else:
            _perturb_pool(amms[ident], op, k, rng)
    if draw(st.booleans()):  # remove a whole share of the pools
        share = draw(st.sampled_from([0.1, 0.5, 0.9]))
        for ident in rng.sample(sorted(amms), int(len(amms) * share)):
            del amms[ident]
    tokens: Doc = doc["tokens"]
    for address in draw(st.lists(st.sampled_from(sorted(tokens)), max_size=10)):
        price = tokens[address].get("external_price")
        factor = draw(st.sampled_from([None, 1e-12, 1e-3, 1e3, 1e12]))
        tokens[address]["external_price"] = (
            None if factor is None or price is None else float(price) * factor
        )
    return doc


raw_amounts = st.one_of(
    st.integers(1, 1_000),  # dust
    st.builds(lambda m, e: m * 10**e, st.integers(1, 999), st.integers(0, 40)),  # to absurd
)
kinds = st.sampled_from(list(OrderKind))


def _amount(data: st.DataObject, g: TokenGraph, token: str) -> int:
    """Dust, a raw power of ten up to far more than any pool holds, or (most often) an
    amount worth 10**-6 to 10**8 native tokens at the token's reference price."""
    price = g.prices.get(TokenAddress(token))
    if not price or data.draw(st.booleans(), label="raw"):
        return data.draw(raw_amounts, label="amount")
    worth = data.draw(st.integers(12, 26), label="worth 10**k wei")
    return max(10**worth * PRICE_UNIT // price, 1)


def _route_or_no_route(
    router: Router, data: st.DataObject, sell: str, buy: str, kind: OrderKind
) -> None:
    """Route an order of a drawn amount (of the sell token for a sell order, of the buy
    token for a buy order): a ``NoRoute`` or an exact route, nothing else; and since the
    base-token paths are always candidates, no route only where the CoW baseline has none,
    and never one worse than it net of gas."""
    amount = _amount(data, router.graph, sell if kind is OrderKind.SELL else buy)
    s, b = TokenAddress(sell), TokenAddress(buy)
    try:
        base: Route | None = baseline_route(router.graph, s, b, amount, kind)
    except NoRoute:
        base = None
    try:
        route = router.route(s, b, amount, kind)
    except NoRoute:
        assert base is None, "the baseline routes what the router refused"
        return
    assert (route.sell_token, route.buy_token, route.kind) == (sell, buy, kind)
    assert_route_is_exact(route, router.graph, amount)
    assert base is None or not base.better_than(route)


needs_auction = pytest.mark.skipif(
    not MAINNET_AUCTION.exists(), reason="shared mainnet auction not present"
)


@needs_auction
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), kind=kinds)
def test_routing_on_the_shared_auction_raises_only_no_route(
    data: st.DataObject, kind: OrderKind
) -> None:
    router = _shared_router()
    tokens = sorted(router.graph.graph.nodes)
    sell = data.draw(st.sampled_from(tokens), label="sell")
    buy = data.draw(st.sampled_from(tokens), label="buy")
    _route_or_no_route(router, data, sell, buy, kind)


@needs_auction
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=perturbed_auctions(), data=st.data())
def test_routing_on_perturbed_liquidity_raises_only_no_route(doc: Doc, data: st.DataObject) -> None:
    snapshot = parse_snapshot(doc)
    prices = {t: info.reference_price for t, info in snapshot.tokens.items()}
    router = Router(TokenGraph(snapshot.pools, prices, gas_price=snapshot.gas_price))
    tokens = sorted(router.graph.graph.nodes)
    if len(tokens) < 2:
        return
    # orders between the tokens of the changed pools are the interesting ones
    changed = sorted(
        {
            t
            for ident, amm in doc["amms"].items()
            if amm != _auction()["amms"][ident]
            for t in _pool_tokens(amm)
            if t in router.graph
        }
    )
    pick = st.sampled_from(changed) if changed else st.sampled_from(tokens)
    for _ in range(3):
        sell = data.draw(st.one_of(pick, st.sampled_from(tokens)), label="sell")
        buy = data.draw(st.one_of(pick, st.sampled_from(tokens)), label="buy")
        _route_or_no_route(router, data, sell, buy, data.draw(kinds))


def _pool_tokens(amm: Doc) -> list[str]:
    if amm["kind"] == "Concentrated":
        return [t["id"] for t in amm["pool"]["tokens"]]
    return list(amm.get("reserves", {}))
