"""A merged solution's prices (``solver.merge_prices``): one rate per directed pair at which
GPv2's rounding never pays out more than the legs produce, and integer prices over a tree
of pairs that keep every pair at or below its rate."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from intents.order import OrderKind
from routing.pool import TokenAddress
from solver.merge_prices import PairFlow, component_prices, pair_ratio
from solver.model import trade_execution

TOKENS = [TokenAddress("0x" + f"{i:02x}" * 20) for i in range(1, 7)]

flows = st.builds(
    PairFlow,
    st.sampled_from([OrderKind.SELL, OrderKind.BUY]),
    st.integers(1, 10**30),
    st.integers(1, 10**30),
    st.integers(0, 10**30),
)


@given(st.lists(flows, min_size=1, max_size=6), st.integers(1, 10**40), st.integers(1, 10**40))
def test_at_the_pair_rate_the_legs_pay_for_every_order(found, a, b) -> None:  # type: ignore[no-untyped-def]
    ratio = pair_ratio(found)
    if ratio is None:
        return
    # integer prices whose rate is at most the bound, as component_prices rounds them
    sell_price = a * ratio.denominator
    buy_price = -(-sell_price * ratio.denominator // ratio.numerator) + b
    assert Fraction(sell_price, buy_price) <= ratio
    paid = received = 0
    for f in found:
        sold, bought = trade_execution(f.kind is OrderKind.SELL, f.executed, sell_price, buy_price)
        received += bought
        if f.kind is OrderKind.BUY:
            paid += sold
    assert received <= sum(f.produced for f in found)
    assert paid >= sum(f.spent for f in found if f.kind is OrderKind.BUY)


def test_one_sell_order_gets_all_its_legs_produce() -> None:
    (ratio,) = [pair_ratio([PairFlow(OrderKind.SELL, 1000, 1000, 1997)])]
    assert ratio == Fraction(1997, 1000)


def test_no_rate_when_buy_orders_get_more_than_their_legs_produce() -> None:
    assert pair_ratio([PairFlow(OrderKind.BUY, 1000, 500, 999)]) is None


@st.composite
def trees(draw: st.DrawFn) -> dict[tuple[TokenAddress, TokenAddress], Fraction]:
    size = draw(st.integers(2, len(TOKENS)))
    edges = {}
    for index in range(1, size):
        parent = TOKENS[draw(st.integers(0, index - 1))]
        child = TOKENS[index]
        pair = (parent, child) if draw(st.booleans()) else (child, parent)
        edges[pair] = Fraction(draw(st.integers(1, 10**30)), draw(st.integers(1, 10**30)))
    return edges


@given(trees(), st.integers(0, 120))
def test_tree_prices_keep_every_pair_at_or_below_its_rate(edges, bits) -> None:  # type: ignore[no-untyped-def]
    tokens = {t for pair in edges for t in pair}
    prices = component_prices(edges, None, min(tokens), bits)
    assert set(prices) == tokens
    assert min(prices.values()) >= 2**bits
    for (sell, buy), rate in edges.items():
        assert Fraction(prices[sell], prices[buy]) <= rate
        # and no further below it than one unit of the smaller price
        assert Fraction(prices[sell], prices[buy]) >= rate * (1 - Fraction(2, min(prices.values())))


@given(trees(), st.integers(1, 10**20), st.integers(1, 10**20))
def test_an_anchor_keeps_its_own_prices_up_to_a_factor(edges, p, q) -> None:  # type: ignore[no-untyped-def]
    (sell, buy), _ = next(iter(edges.items()))
    rest = {pair: rate for pair, rate in edges.items() if pair != (sell, buy)}
    prices = component_prices(rest, {sell: p, buy: q}, sell, 64)
    assert prices[sell] * q == prices[buy] * p
    assert prices[sell] % p == 0


def test_a_cycle_has_no_prices() -> None:
    a, b, c = TOKENS[:3]
    edges = {(a, b): Fraction(1), (b, c): Fraction(1), (c, a): Fraction(1)}
    try:
        component_prices(edges, None, a, 8)
    except ValueError:
        return
    raise AssertionError("a cycle was priced")
