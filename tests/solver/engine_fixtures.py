"""Small synthetic auctions for the engine tests: a few tokens, Uniswap V2 pools, orders."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from types import MappingProxyType

from intents.order import OrderClass, OrderKind
from intents.types import Address, OrderUid
from routing.liquidity import Pools, Snapshot, TokenInfo
from routing.pool import Pool, PoolId, TokenAddress
from routing.route import Leg
from routing.uniswap_v2 import ConstantProductPool
from solver.model import Auction, Order, Token, now

A = TokenAddress("0x" + "a1" * 20)
B = TokenAddress("0x" + "b2" * 20)
C = TokenAddress("0x" + "c3" * 20)
PRICES = {A: 10**18, B: 5 * 10**17, C: 2 * 10**18}
"""Reference prices: native wei per 10**18 base units."""
GAS_PRICE = 20 * 10**9
OWNER = Address("0x" + "0e" * 20)


def pool(ident: str, x: TokenAddress, y: TokenAddress, rx: int, ry: int) -> ConstantProductPool:
    (t0, r0), (t1, r1) = sorted([(x, rx), (y, ry)])
    return ConstantProductPool(PoolId(ident), (t0, t1), (r0, r1), gas=90_000)


def model_order(
    uid: OrderUid,
    owner: Address,
    sell: TokenAddress,
    buy: TokenAddress,
    sell_amount: int,
    buy_amount: int,
    kind: OrderKind = OrderKind.SELL,
    *,
    partial: bool = False,
    order_class: OrderClass = OrderClass.MARKET,
    remaining: int | None = None,
    fee_amount: int = 0,
) -> Order:
    """A solver-model order; ``remaining`` defaults to all of it (in its kind's token)."""
    full = sell_amount if kind is OrderKind.SELL else buy_amount
    return Order(
        uid=uid,
        owner=owner,
        sell_token=sell,
        buy_token=buy,
        signed_sell_amount=sell_amount,
        signed_buy_amount=buy_amount,
        kind=kind,
        partially_fillable=partial,
        order_class=order_class,
        remaining=full if remaining is None else remaining,
        signed_fee_amount=fee_amount,
    )


def model_auction(
    orders: Sequence[Order],
    pools: Sequence[Pool],
    prices: Mapping[TokenAddress, int],
    gas_price: int,
    deadline: datetime,
) -> Auction:
    """An auction of ``orders`` over ``pools``; every token has 18 decimals and its reference
    price in ``prices``."""
    tokens = {t: Token(t, 18, None, p, 0, True) for t, p in prices.items()}
    return Auction(
        id="1",
        orders=tuple(orders),
        tokens=MappingProxyType(tokens),
        liquidity=Pools(tuple(pools)),
        gas_price=gas_price,
        deadline=deadline,
    )


def numbered_order(
    n: int,
    sell: TokenAddress,
    buy: TokenAddress,
    sell_amount: int,
    buy_amount: int,
    kind: OrderKind = OrderKind.SELL,
    *,
    partial: bool = False,
    order_class: OrderClass = OrderClass.MARKET,
) -> Order:
    """Order ``n``: its uid and owner made from ``n``."""
    return model_order(
        OrderUid(bytes([n]) * 56),
        Address("0x" + f"{n:02x}" * 20),
        sell,
        buy,
        sell_amount,
        buy_amount,
        kind,
        partial=partial,
        order_class=order_class,
    )


def snapshot_auction(
    orders: Sequence[Order],
    pools: Sequence[Pool],
    prices: Mapping[TokenAddress, int],
    gas_price: int,
    native_token: TokenAddress,
    deadline: datetime,
) -> Auction:
    """``model_auction`` with its liquidity as a snapshot (tokens, gas price, native token),
    as an auction file gives it."""
    return Auction(
        id="1",
        orders=tuple(orders),
        tokens=MappingProxyType({t: Token(t, 18, None, p, 0, True) for t, p in prices.items()}),
        liquidity=Snapshot(
            pools=tuple(pools),
            tokens={t: TokenInfo(t, 18, None, p) for t, p in prices.items()},
            gas_price=gas_price,
            native_token=native_token,
        ),
        gas_price=gas_price,
        deadline=deadline,
    )


def order(
    sell: TokenAddress,
    buy: TokenAddress,
    sell_amount: int,
    buy_amount: int,
    kind: OrderKind = OrderKind.SELL,
    *,
    partial: bool = False,
    order_class: OrderClass = OrderClass.MARKET,
    remaining: int | None = None,
    tag: str = "",
) -> Order:
    seed = f"{sell}{buy}{sell_amount}{buy_amount}{kind}{partial}{order_class}{tag}".encode()
    uid = OrderUid(hashlib.sha256(seed).digest() + bytes.fromhex(OWNER[2:]) + b"\xff" * 4)
    return model_order(
        uid,
        OWNER,
        sell,
        buy,
        sell_amount,
        buy_amount,
        kind,
        partial=partial,
        order_class=order_class,
        remaining=remaining,
    )


def auction(
    orders: Sequence[Order],
    pools: Sequence[ConstantProductPool],
    deadline: datetime | None = None,
) -> Auction:
    return model_auction(
        orders, pools, PRICES, GAS_PRICE, deadline or now() + timedelta(seconds=60)
    )


def replay(legs: Sequence[Leg], pools: Sequence[ConstantProductPool]) -> None:
    """Every leg's output is exactly the pool math's for its input."""
    by_id = {p.id: p for p in pools}
    for leg in legs:
        assert by_id[leg.pool].amount_out(leg.token_in, leg.token_out, leg.amount_in) == (
            leg.amount_out
        )
