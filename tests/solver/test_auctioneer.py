"""Auctioneer units without a chain: what an order offers, the exact settlement encoding of
a fee-paying trade, unfunded orders left out, failed rounds survived, leadership obeyed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, cast

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from intents.chain import FakeChain
from intents.order import Order, OrderClass, OrderKind, SigningScheme, StoredOrder
from intents.types import Address, OrderUid, TokenAddress
from routing.pool import TokenAddress as PoolToken
from settlement.encoding import Settlement
from settlement.fills import FillIndexer
from settlement.submitter import Submitter
from solver import dto
from solver.auctioneer import Auctioneer, AuctioneerConfig
from solver.book_auction import BookAuction, FixedGasPrice, order_from_book
from solver.dto_convert import auction_from_dto, order_to_dto
from solver.model import Order as AuctionOrder
from solver.model import Solution, Trade, executed_amounts
from solver.solution_settlement import settlement_of
from tests.solver.engine_fixtures import model_auction

SELL, BUY = TokenAddress("0x" + "aa" * 20), TokenAddress("0x" + "bb" * 20)
OWNER = Address("0x" + "0c" * 20)
SETTLE = Address("0x" + "5e" * 20)
CONFIG = AuctioneerConfig(settlement=SETTLE, weth=TokenAddress(BUY))


def stored(
    kind: OrderKind = OrderKind.SELL,
    sell: int = 1000,
    buy: int = 500,
    *,
    partial: bool = True,
    executed_sell: int = 0,
    executed_buy: int = 0,
    n: int = 1,
) -> StoredOrder:
    order = Order(
        sell_token=SELL,
        buy_token=BUY,
        receiver=OWNER,
        sell_amount=sell,
        buy_amount=buy,
        valid_to=2**32 - 1,
        app_data=bytes(32),
        fee_amount=0,
        kind=kind,
        partially_fillable=partial,
    )
    return StoredOrder(
        uid=OrderUid(bytes([n]) * 56),
        owner=OWNER,
        order=order,
        signing_scheme=SigningScheme.EIP712,
        signature=bytes(65),
        order_class=OrderClass.LIMIT,
        creation_time=0.0,
        executed_sell_amount=executed_sell,
        executed_buy_amount=executed_buy,
    )


def remaining_amounts(book: StoredOrder, available: int | None = None) -> tuple[int, int]:
    return order_from_book(book, available).remaining_amounts()


def test_remaining_amounts_follow_the_kind_side_and_the_owners_funds() -> None:
    assert remaining_amounts(stored(executed_sell=400)) == (600, 300)
    assert remaining_amounts(stored(executed_sell=400), available=99) == (99, 49)
    assert remaining_amounts(stored(partial=False), available=99) == (1000, 500)  # not cut
    buy = stored(OrderKind.BUY, executed_buy=100)
    assert remaining_amounts(buy) == (800, 400)
    assert remaining_amounts(buy, available=300) == (300, 150)
    wire = order_to_dto(order_from_book(stored(executed_sell=400)))
    assert (wire.sell_amount, wire.full_sell_amount, wire.buy_amount) == (600, 1000, 300)
    assert wire.class_ == "limit" and wire.owner == OWNER


def _contract_amounts(settlement: Settlement, book: StoredOrder) -> tuple[int, int]:
    """``GPv2Settlement.computeTradeExecution`` for the settlement's only trade."""
    (trade,) = settlement.trades
    p_sell = settlement.clearing_prices[trade.sell_token_index]
    p_buy = settlement.clearing_prices[trade.buy_token_index]
    o = book.order
    if o.kind is OrderKind.SELL:
        sold = trade.executed_amount if o.partially_fillable else o.sell_amount
        return sold, -(-sold * p_sell // p_buy)
    bought = trade.executed_amount if o.partially_fillable else o.buy_amount
    return bought * p_buy // p_sell, bought


@given(
    kind=st.sampled_from(OrderKind),
    executed=st.integers(1, 10**24),
    fee=st.integers(0, 10**20),
    p_sell=st.integers(1, 10**30),
    p_buy=st.integers(1, 10**30),
)
def test_a_fee_paying_trade_is_charged_exactly_what_the_solution_promises(
    kind: OrderKind, executed: int, fee: int, p_sell: int, p_buy: int
) -> None:
    book = stored(kind, sell=10**30, buy=1)
    order = AuctionOrder(
        uid=book.uid,
        owner=OWNER,
        sell_token=PoolToken(SELL),
        buy_token=PoolToken(BUY),
        signed_sell_amount=10**30,
        signed_buy_amount=1,
        kind=kind,
        partially_fillable=True,
        order_class=OrderClass.LIMIT,
        remaining=10**30 if kind is OrderKind.SELL else 1,
    )
    trade = Trade(book.uid, executed, fee)
    prices = {PoolToken(SELL): p_sell, PoolToken(BUY): p_buy}
    solution = Solution(id=0, prices=prices, trades=(trade,), legs=(), gas=0)
    auction = model_auction([order], [], prices, 1, datetime(2030, 1, 1, tzinfo=UTC))
    settlement = settlement_of(solution, BookAuction(auction, {book.uid: book}, ()), {}, SETTLE)
    assert _contract_amounts(settlement, book) == executed_amounts(order, trade, prices)
    assert settlement.clearing_prices[:2] == (p_sell, p_buy)  # the uniform prices first


class FakeBook:
    def __init__(self, orders: list[StoredOrder]) -> None:
        self.orders = orders
        self.competitions: list[object] = []

    async def expire(self, now: float) -> list[OrderUid]:
        return []

    async def open_orders(self, now: float) -> list[StoredOrder]:
        return list(self.orders)

    async def competition(self) -> None:
        return None

    async def record_competition(self, record: object) -> None:
        self.competitions.append(record)


class BrokenLiquidity:
    def __init__(self) -> None:
        self.calls = 0

    async def liquidity(self) -> list[dto.Liquidity]:
        self.calls += 1
        raise ConnectionError("node down")


class Leader:
    def __init__(self, leading: bool) -> None:
        self.leading = leading
        self.term = 1

    async def is_leader(self) -> bool:
        return self.leading

    async def wait_leader(self) -> int:
        return self.term

    def still_leading(self, term: int) -> bool:
        return self.leading and term == self.term


class NoNewFills:
    def __init__(self) -> None:
        self.calls = 0
        self.head = 0

    async def catch_up(self) -> int:
        self.calls += 1
        return 0


class NoSubmitter:
    """Settles nothing; has the solver account competitions are recorded under."""

    solver = Address("0x" + "50" * 20)


def auctioneer(orders: list[StoredOrder], chain: FakeChain, leading: bool = True) -> Auctioneer:
    return Auctioneer(
        book=cast(Any, FakeBook(orders)),
        chain=chain,
        liquidity=BrokenLiquidity(),
        pools={},
        engines=[],
        external=[],
        submitter=cast(Submitter, NoSubmitter()),
        fills=cast(FillIndexer, NoNewFills()),
        config=AuctioneerConfig(
            settlement=CONFIG.settlement,
            weth=CONFIG.weth,
            interval=0.01,
            solve_time=0.1,
            settle_time=0.05,
        ),
        leadership=Leader(leading),
    )


async def test_unfunded_orders_are_left_out_and_a_failed_round_is_reported() -> None:
    funded, partial, broke = (
        stored(partial=False, n=1),
        stored(n=2),
        stored(partial=False, n=3, sell=1001),
    )
    chain = FakeChain()
    key = (OWNER, SELL)
    chain.balances[key], chain.allowances[key] = 1000, 10**30
    a = auctioneer([funded, partial, broke], chain)  # only 1000 of the sell token
    async with aiohttp.ClientSession() as session:
        report = await a.run_round(session)
    assert report.unfunded == [broke.uid]
    assert report.orders == 2
    assert report.error == "ConnectionError: node down"
    # and the next round still runs
    async with aiohttp.ClientSession() as session:
        assert (await a.run_round(session)).auction_id == 2


@pytest.mark.parametrize("leading", [True, False])
async def test_rounds_run_only_while_leading(leading: bool) -> None:
    a = auctioneer([stored()], FakeChain(), leading)
    stop = asyncio.Event()
    task = asyncio.create_task(a.run(stop))
    await asyncio.sleep(0.1)
    stop.set()
    await task
    assert (a.rounds > 1) is leading
    assert (a.rounds == 0) is not leading


class OnePool:
    async def liquidity(self) -> list[dto.Liquidity]:
        reserves = {SELL: 10**21, BUY: 5 * 10**20}
        return [
            dto.ConstantProductPool(
                id="0",
                address=SELL,
                router=BUY,
                gas_estimate=dto.U256(90_000),
                tokens={
                    t: dto.ConstantProductReserve(balance=dto.U256(r)) for t, r in reserves.items()
                },
                fee="0.003",
            )
        ]


@given(
    kind=st.sampled_from(OrderKind),
    partial=st.booleans(),
    executed=st.integers(0, 999),
    available=st.integers(0, 2000),
)
async def test_the_engines_auction_is_what_external_solvers_receive(
    kind: OrderKind, partial: bool, executed: int, available: int
) -> None:
    book = stored(kind, partial=partial, executed_sell=executed, executed_buy=executed // 2)
    a = auctioneer([book], FakeChain())
    a.liquidity = OnePool()
    a.gas_price = FixedGasPrice(7)
    built = await a.build_auction([(book, available)], 3)
    wire = built.wire()
    assert auction_from_dto(wire) == built.auction
    assert wire.liquidity == await OnePool().liquidity()  # routers and ids as the source gave
    assert built.auction.gas_price == 7 and built.stored == {book.uid: book}
    assert {str(p.id) for p in built.auction.liquidity.pools} == {"0"}
