"""Buy routes cover the buy amount exactly: Balancer pools quote an input whose exact
forward output can fall a few wei short; the input is bumped to the least one that covers
it, or the next candidate pool is taken (issue 11, item 1)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from routing.balancer_weighted import WeightedPool, WeightedToken
from routing.baseline import baseline_route, execute_path
from routing.covering import covering_input
from routing.path_routing import route_along
from routing.pool import Pool, PoolId
from routing.pool import TokenAddress as Token
from routing.route import NoRoute, OrderKind
from routing.stable import AMP_PRECISION, StablePool, StableToken
from tests.routing.market import E18, A, B, C, graph, pair
from tests.routing.v3_strategies import v3_cases

# A stable pool on which the quoted input for this amount buys 1 wei too little.
STABLE_SHORT = StablePool(
    PoolId("s"),
    (StableToken(A, 412002518 * E18, E18), StableToken(B, 441723494 * E18, E18)),
    amp=3583 * AMP_PRECISION,
    fee=10**14,
)
STABLE_WANT = 967699225556341647250518

# CoW's ``buy_order_rounding::balancer_weighted`` pools (xCOW -> xGNO -> WXDAI): the
# weighted hop's quoted input buys 575 wei of xGNO too little.
COW_GNO = WeightedPool(
    PoolId("w"),
    (
        WeightedToken(A, 1963528800698237927834721, E18 // 2, E18),
        WeightedToken(B, 1152796145430714835825, E18 // 2, E18),
    ),
    fee=5 * 10**15,
)
GNO_XDAI = pair("cp", B, C, 9661963829146095661, 1070533209145548137343)


def test_the_situations_are_short_on_the_quoted_input() -> None:
    quoted = STABLE_SHORT.amount_in(A, B, STABLE_WANT)
    assert STABLE_WANT - STABLE_SHORT.amount_out(A, B, quoted) == 1
    need = GNO_XDAI.amount_in(B, C, E18)
    assert COW_GNO.amount_out(A, B, COW_GNO.amount_in(A, B, need)) < need


def test_a_stable_pool_one_wei_short_is_bumped_to_the_least_covering_input() -> None:
    route = baseline_route(graph([STABLE_SHORT]), A, B, STABLE_WANT, OrderKind.BUY, [])
    assert route.amount_out >= STABLE_WANT
    (leg,) = route.legs
    assert STABLE_SHORT.amount_out(A, B, leg.amount_in) == leg.amount_out
    assert STABLE_SHORT.amount_out(A, B, leg.amount_in - 1) < STABLE_WANT  # least input


def test_a_weighted_two_hop_path_short_of_the_amount_still_routes() -> None:
    g = graph([COW_GNO, GNO_XDAI])
    route = baseline_route(g, A, C, E18, OrderKind.BUY, [B])
    assert [leg.pool for leg in route.legs] == ["w", "cp"]
    assert route.amount_out >= E18
    assert route.legs[0].amount_out == route.legs[1].amount_in
    assert GNO_XDAI.amount_out(B, C, COW_GNO.amount_out(A, B, route.amount_in)) >= E18


def test_a_weighted_pool_chosen_over_a_constant_product_pool_on_the_pair_covers() -> None:
    """A CP pool on the same pair asks a little more than the weighted pool's quote: the
    weighted pool stays the pick once bumped (it still asks least), and covers."""
    need = GNO_XDAI.amount_in(B, C, E18)
    quoted = COW_GNO.amount_in(A, B, need)
    cp_same_pair = pair("cp-ab", A, B, 1963528800698237927834721, 1150 * 10**18)
    assert cp_same_pair.amount_in(A, B, need) > quoted
    g = graph([COW_GNO, cp_same_pair, GNO_XDAI])
    for route in (
        baseline_route(g, A, C, E18, OrderKind.BUY, [B]),
        route_along(g, [(A, B, C)], A, C, E18, OrderKind.BUY),
    ):
        assert route.amount_out >= E18
        assert route.legs[0].pool == "w"


def test_the_next_candidate_pool_serves_a_hop_its_best_quote_cannot_cover() -> None:
    class Stingy:
        """A deep pool quoting the cheapest input, whose exact output never reaches
        ``E18`` whatever the input: no bump covers it."""

        def __init__(self) -> None:
            self.inner = pair("stingy", A, B, 10**6 * E18, 10**6 * E18)
            self.id = PoolId("stingy")
            self.tokens = self.inner.tokens
            self.gas = self.inner.gas

        def amount_in(self, token_in: Token, token_out: Token, amount_out: int) -> int:
            return self.inner.amount_in(token_in, token_out, amount_out)

        def amount_out(self, token_in: Token, token_out: Token, amount_in: int) -> int:
            return min(self.inner.amount_out(token_in, token_out, amount_in), E18 - 1)

        def spot_price(self, token_in: Token, token_out: Token) -> float:
            return self.inner.spot_price(token_in, token_out)

    honest = pair("honest", A, B, 1000 * E18, 1000 * E18)
    g = graph([Stingy(), honest])
    assert g.edges(A, B)[0].pool.id == "stingy"  # the best quote
    legs = execute_path(g, (A, B), E18, OrderKind.BUY)
    assert legs is not None
    assert [leg.pool for leg in legs] == ["honest"]
    assert legs[0].amount_out >= E18


def test_covering_input_is_the_least_input_that_covers() -> None:
    def out(x: int) -> int:
        return x * 3 // 7

    for wanted in (1, 2, 3, 100, 10**18 + 1):
        found = covering_input(out, 1, wanted)
        assert found is not None
        assert out(found) >= wanted > out(found - 1)


# -- property over pool kinds ----------------------------------------------------------


@st.composite
def pools(draw: st.DrawFn) -> Pool:
    kind = draw(st.sampled_from(["v2", "v3", "weighted", "stable"]))
    if kind == "v3":
        return draw(v3_cases()).pool
    r0 = draw(st.integers(10**3, 10**9)) * E18 + draw(st.integers(0, E18))
    r1 = draw(st.integers(10**3, 10**9)) * E18 + draw(st.integers(0, E18))
    if kind == "v2":
        return pair("p", A, B, r0, r1)
    if kind == "weighted":
        w = draw(st.sampled_from([E18 // 2, E18 // 5, 8 * E18 // 10]))
        return WeightedPool(
            PoolId("p"),
            (WeightedToken(A, r0, w, E18), WeightedToken(B, r1, E18 - w, E18)),
            fee=draw(st.sampled_from([10**15, 3 * 10**15, 5 * 10**15])),
            pow_shortcuts=draw(st.booleans()),
        )
    return StablePool(
        PoolId("p"),
        (StableToken(A, r0, E18), StableToken(B, r1, E18)),
        amp=draw(st.integers(10, 5000)) * AMP_PRECISION,
        fee=draw(st.sampled_from([10**14, 4 * 10**14])),
    )


@settings(max_examples=400, deadline=None)
@given(pool=pools(), exponent=st.integers(0, 27), digits=st.integers(1, 10**9), flip=st.booleans())
def test_every_buy_route_covers_the_buy_amount(
    pool: Pool, exponent: int, digits: int, flip: bool
) -> None:
    sell, buy = pool.tokens[1], pool.tokens[0]
    if flip:
        sell, buy = buy, sell
    want = max(1, digits * 10**exponent // 10**9)
    g = graph([pool])
    legs = execute_path(g, (sell, buy), want, OrderKind.BUY)
    if legs is not None:
        (leg,) = legs
        assert pool.amount_out(sell, buy, leg.amount_in) == leg.amount_out >= want
    try:
        route = baseline_route(g, sell, buy, want, OrderKind.BUY, [])
    except NoRoute:
        assert legs is None
        return
    assert route.legs == legs
    assert route.amount_out >= want
