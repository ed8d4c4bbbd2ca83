"""Hypothesis strategies for V3 pools built from explicit positions (so reserves are known)."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from routing.pool import PoolId, TokenAddress
from routing.sqrt_price_math import amount0_delta, amount1_delta
from routing.tick_math import MAX_TICK, MIN_TICK, sqrt_ratio_at_tick
from routing.uniswap_v3 import TICK_SPACING_BY_FEE, ConcentratedLiquidityPool

T0 = TokenAddress("0x" + "11" * 20)
T1 = TokenAddress("0x" + "22" * 20)


@dataclass(frozen=True)
class Position:
    lower: int
    upper: int
    liquidity: int


@dataclass(frozen=True)
class V3Case:
    pool: ConcentratedLiquidityPool
    positions: tuple[Position, ...]

    def reserve(self, token: TokenAddress) -> int:
        """Tokens the positions hold at the current price (an upper bound on any output)."""
        price = self.pool.sqrt_price_x96
        total = 0
        for p in self.positions:
            low, high = sqrt_ratio_at_tick(p.lower), sqrt_ratio_at_tick(p.upper)
            if token == T0 and high > price:
                total += amount0_delta(max(low, price), high, p.liquidity, True)
            if token == T1 and low < price:
                total += amount1_delta(low, min(high, price), p.liquidity, True)
        return total


def net_of(positions: tuple[Position, ...]) -> dict[int, int]:
    net: dict[int, int] = {}
    for p in positions:
        net[p.lower] = net.get(p.lower, 0) + p.liquidity
        net[p.upper] = net.get(p.upper, 0) - p.liquidity
    return net


@st.composite
def v3_cases(draw: st.DrawFn, max_positions: int = 4, width: int = 4000) -> V3Case:
    fee = draw(st.sampled_from(sorted(TICK_SPACING_BY_FEE)))
    spacing = TICK_SPACING_BY_FEE[fee]
    centre = draw(st.integers(-200_000, 200_000)) // spacing * spacing
    grid = st.integers(-width // spacing, width // spacing).map(lambda k: centre + k * spacing)
    positions = []
    for _ in range(draw(st.integers(1, max_positions))):
        a, b = draw(grid), draw(grid)
        if a == b:
            b = a + spacing
        lower, upper = sorted((a, b))
        lower, upper = max(lower, MIN_TICK // spacing * spacing), min(upper, MAX_TICK)
        positions.append(Position(lower, upper, draw(st.integers(10**6, 10**24))))
    tick = draw(st.integers(centre - width, centre + width))
    low, high = sqrt_ratio_at_tick(tick), sqrt_ratio_at_tick(tick + 1)
    # The upper end is where a downward swap leaves a pool that stopped exactly on a tick.
    sqrt_price = draw(st.integers(low, high))
    liquidity = sum(p.liquidity for p in positions if p.lower <= tick < p.upper)
    pool = ConcentratedLiquidityPool(
        id=PoolId("v3"),
        tokens=(T0, T1),
        sqrt_price_x96=sqrt_price,
        liquidity=liquidity,
        tick=tick,
        liquidity_net={t: n for t, n in net_of(tuple(positions)).items() if n != 0},
        fee_pips=fee,
    )
    return V3Case(pool, tuple(positions))
