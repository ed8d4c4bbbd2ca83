"""The ``batch`` engine on small auctions: CoWs beat routing alone, checked and scored as
the competition does; without a CoW it answers what ``optimal`` answers."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from fractions import Fraction
from types import MappingProxyType

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intents.order import OrderClass, OrderKind
from intents.types import Address, OrderUid
from routing.baseline import DAI as DAI_MAINNET
from routing.baseline import USDT as USDT_MAINNET
from routing.baseline import WETH as WETH_MAINNET
from routing.liquidity import Snapshot, TokenInfo
from routing.optimizer import Router
from routing.pool import PoolId, TokenAddress
from routing.uniswap_v2 import ConstantProductPool
from solver.auction_file import load_auction
from solver.checks import check_solution
from solver.engines import make_engine
from solver.engines.base import token_graph
from solver.engines.batch import BatchEngine
from solver.engines.single_order import optimal_engine
from solver.model import Auction, Order, Solution, Token, executed_amounts
from solver.scoring import score_trades
from tests.solver.mainnet import legacy_bytes

E18 = 10**18
WETH = TokenAddress("0x" + "aa" * 20)
DAI = TokenAddress("0x" + "bb" * 20)
D = TokenAddress("0x" + "d1" * 20)
E = TokenAddress("0x" + "e1" * 20)
F = TokenAddress("0x" + "f1" * 20)
REFERENCE = {WETH: E18, DAI: E18 // 2000, D: E18, E: E18 // 2, F: E18 // 4}
POOL = ConstantProductPool(
    id=PoolId("weth-dai"), tokens=(WETH, DAI), reserves=(1000 * E18, 2_000_000 * E18)
)


def _order(
    n: int,
    sell: TokenAddress,
    buy: TokenAddress,
    sell_amount: int,
    buy_amount: int,
    *,
    partial: bool = False,
    order_class: OrderClass = OrderClass.MARKET,
) -> Order:
    return Order(
        uid=OrderUid(bytes([n]) * 56),
        owner=Address("0x" + f"{n:02x}" * 20),
        sell_token=sell,
        buy_token=buy,
        signed_sell_amount=sell_amount,
        signed_buy_amount=buy_amount,
        kind=OrderKind.SELL,
        partially_fillable=partial,
        order_class=order_class,
        remaining=sell_amount,
    )


def _auction(*orders: Order) -> Auction:
    return Auction(
        id="1",
        orders=orders,
        tokens=MappingProxyType({t: Token(t, 18, None, p, 0, True) for t, p in REFERENCE.items()}),
        liquidity=Snapshot(
            pools=(POOL,),
            tokens={t: TokenInfo(t, 18, None, p) for t, p in REFERENCE.items()},
            gas_price=10**9,
            native_token=WETH,
        ),
        gas_price=10**9,
        deadline=datetime(2030, 1, 1, tzinfo=UTC),
    )


def _score(auction: Auction, solutions: list[Solution]) -> int:
    return sum(
        score_trades(check_solution(auction, s, solver="test"), auction).total for s in solutions
    )


def _bought(auction: Auction, solutions: list[Solution]) -> dict[OrderUid, int]:
    orders = {o.uid: o for o in auction.orders}
    return {
        t.order: executed_amounts(orders[t.order], t, s.prices)[1]
        for s in solutions
        for t in s.trades
    }


def test_opposite_orders_settle_as_one_cow_and_beat_optimal() -> None:
    sells_weth = _order(1, WETH, DAI, 10 * E18, 19_000 * E18)
    sells_dai = _order(2, DAI, WETH, 15_000 * E18, 7 * E18)
    auction = _auction(sells_weth, sells_dai)
    engine = BatchEngine()
    (solution,) = engine.solve(auction)
    checked = check_solution(auction, solution, solver="batch")  # raises if unsound
    assert {t.order.uid for t in checked} == {sells_weth.uid, sells_dai.uid}
    assert set(solution.prices) == {WETH, DAI}  # one price per token
    assert [leg.token_in for leg in solution.legs] == [WETH]  # only the imbalance
    routed = optimal_engine().solve(auction)
    assert len(routed) == 2
    ours, alone = _bought(auction, [solution]), _bought(auction, routed)
    assert ours[sells_weth.uid] > alone[sells_weth.uid]
    assert ours[sells_dai.uid] > alone[sells_dai.uid]
    assert _score(auction, [solution]) > _score(auction, routed)
    report = engine.last_report
    assert report is not None and len(report.matches) == 1
    assert report.matches[0].gain > 0


def test_without_overlap_the_answer_is_optimal_routing() -> None:
    sells_weth = _order(1, WETH, DAI, 10 * E18, 19_000 * E18)  # needs >= 1900 DAI/WETH
    sells_dai = _order(2, DAI, WETH, 15_000 * E18, 8 * E18)  # needs <= 1875 DAI/WETH
    auction = _auction(sells_weth, sells_dai)
    ours = make_engine("batch").solve(auction)
    routed = optimal_engine().solve(auction)
    assert all(len(s.trades) == 1 for s in ours)
    assert sorted(s.trades for s in ours) == sorted(s.trades for s in routed)


def test_ring_without_liquidity_clears_at_uniform_prices() -> None:
    # D -> E -> F -> D with no pool for any of them: only the ring can fill them
    d_to_e = _order(1, D, E, 10 * E18, 19 * E18, partial=True)  # E per D >= 1.9 (ref 2)
    e_to_f = _order(2, E, F, 30 * E18, 57 * E18, partial=True)  # F per E >= 1.9 (ref 2)
    f_to_d = _order(3, F, D, 50 * E18, 12 * E18, partial=True)  # D per F >= 0.24 (ref .25)
    auction = _auction(d_to_e, e_to_f, f_to_d)
    (solution,) = BatchEngine().solve(auction)
    checked = check_solution(auction, solution, solver="batch")
    assert {t.order.uid for t in checked} == {d_to_e.uid, e_to_f.uid, f_to_d.uid}
    assert set(solution.prices) == {D, E, F}
    assert not solution.legs
    assert _score(auction, [solution]) > 0


def test_limit_orders_pay_their_gas_in_the_sell_token() -> None:
    sells_weth = _order(1, WETH, DAI, 10 * E18, 19_000 * E18, order_class=OrderClass.LIMIT)
    sells_dai = _order(2, DAI, WETH, 15_000 * E18, 7 * E18, order_class=OrderClass.LIMIT)
    auction = _auction(sells_weth, sells_dai)
    (solution,) = BatchEngine().solve(auction)
    check_solution(auction, solution, solver="batch")
    assert all(t.fee > 0 for t in solution.trades)
    # what a sell order pays (executed + fee) is exactly its amount: fill-or-kill
    assert all(
        t.executed + t.fee == 10 * E18 or t.executed + t.fee == 15_000 * E18
        for t in solution.trades
    )


@st.composite
def _batches(draw: st.DrawFn) -> Auction:
    """Two to six orders: one each way between WETH and DAI, the others anywhere on WETH,
    DAI and E (so rings can form), either kind, either fill mode, market or limit class,
    limits from 0.5% above to 3% below the market."""
    rates = {
        (WETH, DAI): Fraction(2000),
        (DAI, WETH): Fraction(1, 2000),
        (DAI, E): Fraction(1, 1000),
        (E, WETH): Fraction(1, 2),
    }
    orders = []
    for n in range(draw(st.integers(2, 6))):
        # the first two face each other; the others go anywhere
        sell, buy = [(WETH, DAI), (DAI, WETH)][n] if n < 2 else draw(st.sampled_from(sorted(rates)))
        value = draw(st.integers(E18 // 10, 40 * E18))  # native wei
        sell_amount = value * E18 // REFERENCE[sell]
        bp = draw(st.integers(-50, 300))  # mostly below the market: fillable
        buy_amount = int(sell_amount * rates[(sell, buy)] * (10_000 - bp) / 10_000)
        kind = draw(st.sampled_from([OrderKind.SELL, OrderKind.BUY]))
        orders.append(
            Order(
                uid=OrderUid(bytes([n + 1]) * 56),
                owner=Address("0x" + f"{n + 1:02x}" * 20),
                sell_token=sell,
                buy_token=buy,
                signed_sell_amount=sell_amount,
                signed_buy_amount=buy_amount,
                kind=kind,
                partially_fillable=draw(st.booleans()),
                order_class=draw(st.sampled_from([OrderClass.MARKET, OrderClass.LIMIT])),
                remaining=sell_amount if kind is OrderKind.SELL else buy_amount,
            )
        )
    return _auction(*orders)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(auction=_batches())
def test_every_batch_solution_passes_the_checks(auction: Auction) -> None:
    """Whatever the batch engine answers passes the independent solution checks (limits,
    uniform prices, exact AMM legs, non-negative token balances at the settlement), trades
    each order at most once across its CoW solutions, and never scores below routing alone
    for the orders it matched."""
    engine = BatchEngine(route_rest=False)
    solutions = engine.solve(auction)
    traded = [t.order for s in solutions for t in s.trades]
    assert len(traded) == len(set(traded))
    for solution in solutions:
        checked = check_solution(auction, solution, solver="batch")
        assert len({t.order.sell_token for t in checked}) >= 2  # a CoW, not one side
        balances: dict[TokenAddress, int] = {}
        for t in checked:
            balances[t.order.sell_token] = balances.get(t.order.sell_token, 0) + t.sold
            balances[t.order.buy_token] = balances.get(t.order.buy_token, 0) - t.bought
        for leg in solution.legs:
            balances[leg.token_in] = balances.get(leg.token_in, 0) - leg.amount_in
            balances[leg.token_out] = balances.get(leg.token_out, 0) + leg.amount_out
        assert all(v >= 0 for v in balances.values())
    report = engine.last_report
    assert report is not None
    assert all(m.score > m.routing_score for m in report.matches)


def test_on_mainnet_liquidity_opposite_market_orders_match_and_beat_optimal() -> None:
    """Real liquidity (the mainnet auction's 842 pools), the real orders replaced by pairs of
    opposite orders on liquid pairs, each 1% below its direction's market: the batch engine
    keeps CoWs, each passing the checks and beating optimal routing alone, and routes the
    rest; none of the file's own 527 orders can form a CoW (no overlapping limits)."""
    mainnet = load_auction(legacy_bytes(), datetime(2030, 1, 1, tzinfo=UTC))
    graph = token_graph(mainnet)
    engine = BatchEngine(route_rest=False)
    assert engine.solve(mainnet) == []
    assert engine.last_report is not None and engine.last_report.beat_routing == 0
    reference = {t: mainnet.reference_price(t) or 0 for t in mainnet.tokens}
    market = Router(graph)
    pairs = [(WETH_MAINNET, DAI_MAINNET, 10, 6), (WETH_MAINNET, USDT_MAINNET, 3, 5)]
    orders: list[Order] = []
    for sell, buy, forward_eth, backward_eth in pairs:
        for a, b, value in ((sell, buy, forward_eth), (buy, sell, backward_eth)):
            amount = value * 10**36 // reference[a]
            rate = Fraction(
                market.route(a, b, 10**36 // reference[a]).amount_out * reference[a], 10**36
            )
            orders.append(_order(len(orders) + 1, a, b, amount, int(amount * rate * 99 / 100)))
    synthetic = dataclasses.replace(mainnet, orders=tuple(orders))
    solutions = engine.solve(synthetic)
    report = engine.last_report
    assert report is not None and report.matches
    for match in report.matches:
        check_solution(synthetic, match.solution, solver="batch")
        assert match.score > match.routing_score
    assert solutions == [
        dataclasses.replace(m.solution, id=i) for i, m in enumerate(report.matches)
    ]


def test_a_large_remainder_is_split_over_parallel_pools() -> None:
    twin = ConstantProductPool(
        id=PoolId("weth-dai-2"), tokens=(WETH, DAI), reserves=(1000 * E18, 2_000_000 * E18)
    )
    sells_weth = _order(1, WETH, DAI, 100 * E18, 150_000 * E18)
    sells_dai = _order(2, DAI, WETH, 40_000 * E18, 15 * E18)
    auction = dataclasses.replace(
        _auction(sells_weth, sells_dai),
        liquidity=dataclasses.replace(_auction().liquidity, pools=(POOL, twin)),
    )
    engine = BatchEngine(route_rest=False)
    (solution,) = engine.solve(auction)
    check_solution(auction, solution, solver="batch")  # legs re-simulated pool by pool
    assert {leg.pool for leg in solution.legs} == {POOL.id, twin.id}
    assert all(leg.token_in == WETH for leg in solution.legs)
    report = engine.last_report
    assert report is not None and report.matches[0].gain > 0
