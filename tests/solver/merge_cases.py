"""Small auctions for the merge tests: four tokens, Uniswap V2 pairs, a V3 pool and a
Balancer weighted pool among them (so legs share pools of every kind), and orders on
random pairs near the pools' rates."""

from __future__ import annotations

import math
from datetime import timedelta
from fractions import Fraction

from hypothesis import strategies as st

from intents.order import OrderClass, OrderKind
from routing.balancer_weighted import weighted_pool
from routing.pool import Pool, TokenAddress
from routing.tick_math import sqrt_ratio_at_tick, tick_at_sqrt_ratio
from routing.uniswap_v3 import concentrated_liquidity_pool
from solver.model import Auction, Order, now
from tests.solver.engine_fixtures import GAS_PRICE, model_auction, order, pool

E18 = 10**18
A = TokenAddress("0x" + "a1" * 20)
B = TokenAddress("0x" + "b2" * 20)
C = TokenAddress("0x" + "c3" * 20)
D = TokenAddress("0x" + "d4" * 20)
TOKENS = (A, B, C, D)
PRICES = {A: E18, B: E18 // 2, C: 2 * E18, D: E18 // 4}
"""Reference prices (native wei per 10**18 base units); the pools trade near them."""
DEPTH = 10**24
"""Native wei of depth each pool holds per side."""


def units_of_native(token: TokenAddress, wei: int) -> int:
    return wei * E18 // PRICES[token]


def v2(ident: str, x: TokenAddress, y: TokenAddress, skew: Fraction = Fraction(1)) -> Pool:
    return pool(ident, x, y, units_of_native(x, DEPTH), int(units_of_native(y, DEPTH) * skew))


def v3(ident: str, x: TokenAddress, y: TokenAddress) -> Pool:
    """A 0.3% pool at the reference rate with one position around it."""
    t0, t1 = sorted((x, y))
    price = Fraction(PRICES[t0], PRICES[t1])  # token1 per token0
    sqrt_price = math.isqrt(price.numerator * 2**192 // price.denominator)
    tick = tick_at_sqrt_ratio(sqrt_price)
    lower, upper = (tick // 60 - 200) * 60, (tick // 60 + 200) * 60
    width = sqrt_ratio_at_tick(upper) - sqrt_ratio_at_tick(lower)
    liquidity = units_of_native(t1, DEPTH) * 2**96 // width * 4
    return concentrated_liquidity_pool(
        ident,
        (x, y),
        sqrt_price,
        liquidity,
        tick,
        {lower: liquidity, upper: -liquidity},
        Fraction(3, 1000),
        110_000,
    )


def weighted(ident: str, x: TokenAddress, y: TokenAddress) -> Pool:
    return weighted_pool(
        ident,
        [
            (x, units_of_native(x, DEPTH), Fraction(1, 2), 1),
            (y, units_of_native(y, DEPTH), Fraction(1, 2), 1),
        ],
        Fraction(3, 1000),
        False,
        100_000,
    )


POOLS: tuple[Pool, ...] = (
    v2("ab", A, B),
    v2("ab2", A, B, Fraction(101, 100)),
    v2("bc", B, C),
    v2("cd", C, D),
    v3("ac3", A, C),
    weighted("bdw", B, D),
    v2("ad", A, D),
)


@st.composite
def orders(draw: st.DrawFn, max_orders: int = 7) -> list[Order]:
    found = []
    for index in range(draw(st.integers(2, max_orders))):
        sell, buy = draw(st.permutations(TOKENS))[:2]
        wei = draw(st.integers(10**17, 10**22))  # up to 1% of a pool's depth
        sell_amount = units_of_native(sell, wei)
        # the limit: from 5% in the money to 1% out of it, before fees and impact
        rate = Fraction(draw(st.integers(950, 1010)), 1000)
        buy_amount = int(units_of_native(buy, wei) * rate)
        kind = draw(st.sampled_from([OrderKind.SELL, OrderKind.BUY]))
        found.append(
            order(
                sell,
                buy,
                sell_amount,
                max(buy_amount, 1),
                kind,
                partial=draw(st.booleans()),
                order_class=draw(st.sampled_from([OrderClass.MARKET, OrderClass.LIMIT])),
                tag=str(index),
            )
        )
    return found


def small_auction(found: list[Order], pools: tuple[Pool, ...] = POOLS) -> Auction:
    return model_auction(found, pools, PRICES, GAS_PRICE, now() + timedelta(seconds=60))
