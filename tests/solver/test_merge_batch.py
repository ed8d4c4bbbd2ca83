"""The ``batch`` engine answers merged solutions (``solver.merge``) beside its CoW and
per-order solutions: a coincidence of wants keeps its own prices inside a merged solution
that also routes other orders, and the merged solution wins the round."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from fractions import Fraction
from types import MappingProxyType

from intents.order import OrderClass, OrderKind
from intents.types import Address, OrderUid
from routing.liquidity import Snapshot, TokenInfo
from routing.pool import PoolId, TokenAddress
from routing.uniswap_v2 import ConstantProductPool
from solver.checks import check_solution
from solver.competition import arbitrate
from solver.engines.batch import BatchEngine
from solver.model import Auction, Order, Token
from solver.scoring import bid
from tests.solver.engine_fixtures import model_order

E18 = 10**18
D = TokenAddress("0x" + "d1" * 20)
E = TokenAddress("0x" + "e1" * 20)
X = TokenAddress("0x" + "0a" * 20)
Y = TokenAddress("0x" + "0b" * 20)
Z = TokenAddress("0x" + "0c" * 20)
REFERENCE = {D: E18, E: E18 // 2, X: E18, Y: E18, Z: E18}
"""D is worth 2 E; D and E have no pool (a CoW is their only way to trade)."""
POOLS = (
    ConstantProductPool(id=PoolId("xy"), tokens=(X, Y), reserves=(10**24, 10**24)),
    ConstantProductPool(id=PoolId("yz"), tokens=(Y, Z), reserves=(10**24, 10**24)),
)


def _auction(*orders: Order) -> Auction:
    gas_price = 20 * 10**9
    return Auction(
        id="1",
        orders=orders,
        tokens=MappingProxyType({t: Token(t, 18, None, p, 0, True) for t, p in REFERENCE.items()}),
        liquidity=Snapshot(
            pools=POOLS,
            tokens={t: TokenInfo(t, 18, None, p) for t, p in REFERENCE.items()},
            gas_price=gas_price,
            native_token=D,
        ),
        gas_price=gas_price,
        deadline=datetime(2030, 1, 1, tzinfo=UTC),
    )


def _order(
    n: int, sell: TokenAddress, buy: TokenAddress, sell_amount: int, buy_amount: int
) -> Order:
    return model_order(
        OrderUid(bytes([n]) * 56),
        Address("0x" + f"{n:02x}" * 20),
        sell,
        buy,
        sell_amount,
        buy_amount,
        OrderKind.SELL,
        order_class=OrderClass.MARKET,
    )


def test_a_cow_and_routed_orders_settle_in_one_merged_solution() -> None:
    cow = [_order(1, D, E, 10 * E18, 19 * E18), _order(2, E, D, 20 * E18, 9 * E18)]
    routed = [_order(3, X, Y, E18, E18 * 9 // 10), _order(4, Y, Z, E18, E18 * 9 // 10)]
    auction = _auction(*cow, *routed)
    solutions = BatchEngine().solve(auction)
    merged = [s for s in solutions if len(s.trades) == 4]
    assert len(merged) == 1, [len(s.trades) for s in solutions]
    (solution,) = merged
    check_solution(auction, solution, solver="batch")
    (alone,) = [s for s in solutions if {t.order for t in s.trades} == {o.uid for o in cow}]
    # the CoW keeps its own rate between D and E
    assert Fraction(solution.prices[D], solution.prices[E]) == Fraction(
        alone.prices[D], alone.prices[E]
    )
    bids = [
        bid("batch", s, check_solution(auction, s, solver="batch"), auction)
        for s in (dataclasses.replace(s, id=i) for i, s in enumerate(solutions))
    ]
    ranking = arbitrate(bids)
    assert not ranking.unfair
    assert [len(w.solution.trades) for w in ranking.winners] == [4]
