"""Perturbed copies of an auction's liquidity: the same pools with their reserves rescaled at
random, reproducibly, so a benchmark can be run on liquidity no one tuned for.

Every amount a pool holds is multiplied by its own factor, log-uniform in
``[1/spread, spread]`` and drawn from a generator seeded by ``(seed, pool id)`` (the same
seed gives the same pools whatever their order):

* Uniswap V2, Balancer weighted and stable pools, limit orders: each reserve (balance, taker
  and maker amount) independently, so prices move too (by up to ``spread**2``) and pools
  drift apart from each other and from the auction's reference prices;
* Uniswap V3: one factor for the pool's liquidity in every tick range (the current price and
  tick stay), applied to each range's liquidity and the ``liquidity_net`` recomputed as the
  differences, so the pool stays consistent with its own tick walk.

Amounts stay integers: a factor is a multiple of ``2**-32``, applied with rounding toward
zero.
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Iterable

from routing.balancer_weighted import WeightedPool
from routing.limit_order import LimitOrderPool
from routing.pool import Pool
from routing.stable import StablePool
from routing.uniswap_v2 import ConstantProductPool
from routing.uniswap_v3 import ConcentratedLiquidityPool

_BITS = 32
MAX_UINT128 = 2**128 - 1


def _factor(rng: random.Random, spread: float) -> int:
    """A factor log-uniform in ``[1/spread, spread]``, in units of ``2**-32``."""
    return max(1, round(math.exp(rng.uniform(-1.0, 1.0) * math.log(spread)) * float(2**_BITS)))


def _scale(value: int, factor: int) -> int:
    """``value * factor / 2**32`` rounded toward zero (a non-zero amount stays non-zero)."""
    scaled = abs(value) * factor >> _BITS
    if value and not scaled:
        scaled = 1
    return scaled if value >= 0 else -scaled


def _ranges(pool: ConcentratedLiquidityPool) -> tuple[list[int], list[int], int]:
    """The initialized ticks, the liquidity of the range starting at each of them followed
    by that of the range below the first, and the index of the current range (-1: below
    every initialized tick). Crossing tick ``t`` upward adds ``liquidity_net[t]``."""
    ticks = sorted(pool.liquidity_net)
    current = sum(t <= pool.tick for t in ticks) - 1
    liquidity = [0] * len(ticks)
    if current < 0:
        below = pool.liquidity
        for i, tick in enumerate(ticks):
            liquidity[i] = (liquidity[i - 1] if i else below) + pool.liquidity_net[tick]
        return ticks, [*liquidity, below], current
    liquidity[current] = pool.liquidity
    for i in range(current + 1, len(ticks)):
        liquidity[i] = liquidity[i - 1] + pool.liquidity_net[ticks[i]]
    for i in range(current - 1, -1, -1):
        liquidity[i] = liquidity[i + 1] - pool.liquidity_net[ticks[i + 1]]
    below = liquidity[0] - pool.liquidity_net[ticks[0]]
    return ticks, [*liquidity, below], current


def _concentrated(pool: ConcentratedLiquidityPool, factor: int) -> ConcentratedLiquidityPool:
    ticks, liquidity, current = _ranges(pool)
    scaled = [_scale(v, factor) for v in liquidity]
    if max((abs(v) for v in scaled), default=0) > MAX_UINT128:
        return pool  # cannot grow further
    below = scaled[-1]
    nets = {t: scaled[i] - (scaled[i - 1] if i else below) for i, t in enumerate(ticks)}
    active = below if current < 0 else scaled[current]
    return dataclasses.replace(pool, liquidity=active, liquidity_net=nets)


def perturb_pool(pool: Pool, seed: int, spread: float) -> Pool:
    """``pool`` with its amounts rescaled (unknown pool kinds are returned unchanged)."""
    rng = random.Random(f"{seed}:{pool.id}")
    if isinstance(pool, ConstantProductPool):
        r0, r1 = pool.reserves
        return dataclasses.replace(
            pool, reserves=(_scale(r0, _factor(rng, spread)), _scale(r1, _factor(rng, spread)))
        )
    if isinstance(pool, ConcentratedLiquidityPool):
        return _concentrated(pool, _factor(rng, spread))
    if isinstance(pool, WeightedPool | StablePool):
        reserves = tuple(
            dataclasses.replace(t, balance=_scale(t.balance, _factor(rng, spread)))
            for t in pool.reserves
        )
        return dataclasses.replace(pool, reserves=reserves)  # type: ignore[arg-type]
    if isinstance(pool, LimitOrderPool):
        return dataclasses.replace(
            pool,
            taker_amount=_scale(pool.taker_amount, _factor(rng, spread)),
            maker_amount=_scale(pool.maker_amount, _factor(rng, spread)),
        )
    return pool


def perturb_pools(pools: Iterable[Pool], seed: int, spread: float = 2.0) -> tuple[Pool, ...]:
    """Every pool rescaled; ``spread`` >= 1 bounds each factor to ``[1/spread, spread]``."""
    if spread < 1:
        raise ValueError(f"spread must be at least 1, not {spread}")
    return tuple(perturb_pool(pool, seed, spread) for pool in pools)
