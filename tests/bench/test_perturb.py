"""Perturbed liquidity: reproducible, bounded, and still valid pools."""

from __future__ import annotations

import contextlib
import json
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.perturb import _ranges, perturb_pools
from routing.balancer_weighted import WeightedPool
from routing.liquidity import parse_snapshot
from routing.pool import Pool, PoolMathError
from routing.stable import StablePool
from routing.uniswap_v2 import ConstantProductPool
from routing.uniswap_v3 import ConcentratedLiquidityPool
from tests.data import MAINNET_AUCTION

pytestmark = pytest.mark.skipif(not MAINNET_AUCTION.exists(), reason="shared auction not found")

seeds = st.integers(0, 2**32)
spreads = st.floats(1.0, 8.0)


@cache
def _pools() -> tuple[Pool, ...]:
    return parse_snapshot(json.loads(MAINNET_AUCTION.read_text())).pools


def _amounts(pool: Pool) -> list[int]:
    """Every amount a pool holds except V3's (checked range by range)."""
    if isinstance(pool, ConstantProductPool):
        return list(pool.reserves)
    if isinstance(pool, WeightedPool | StablePool):
        return [t.balance for t in pool.reserves]
    return []


@settings(max_examples=10, deadline=None)
@given(seed=seeds, spread=spreads)
def test_same_seed_same_pools(seed: int, spread: float) -> None:
    assert perturb_pools(_pools(), seed, spread) == perturb_pools(_pools(), seed, spread)
    # and the same whatever the pools' order
    backwards = perturb_pools(_pools()[::-1], seed, spread)
    assert backwards[::-1] == perturb_pools(_pools(), seed, spread)


@settings(max_examples=5, deadline=None)
@given(seed=seeds)
def test_another_seed_other_pools(seed: int) -> None:
    a, b = perturb_pools(_pools(), seed), perturb_pools(_pools(), seed + 1)
    changed = sum(p != q for p, q in zip(a, b, strict=True))
    assert changed > 0.9 * len(a)


@settings(max_examples=10, deadline=None)
@given(seed=seeds, spread=spreads)
def test_every_amount_moves_within_the_spread(seed: int, spread: float) -> None:
    for before, after in zip(_pools(), perturb_pools(_pools(), seed, spread), strict=True):
        assert type(after) is type(before) and after.id == before.id
        assert after.tokens == before.tokens
        for x, y in zip(_amounts(before), _amounts(after), strict=True):
            if x >= 10**6:  # above rounding
                assert x / spread * (1 - 1e-6) <= y <= x * spread * (1 + 1e-6)
            assert (x == 0) == (y == 0)


@settings(max_examples=10, deadline=None)
@given(seed=seeds, spread=spreads)
def test_v3_ranges_scale_together_and_the_price_stays(seed: int, spread: float) -> None:
    for before, after in zip(_pools(), perturb_pools(_pools(), seed, spread), strict=True):
        if not isinstance(before, ConcentratedLiquidityPool):
            continue
        assert isinstance(after, ConcentratedLiquidityPool)
        assert (after.sqrt_price_x96, after.tick) == (before.sqrt_price_x96, before.tick)
        assert sorted(after.liquidity_net) == sorted(before.liquidity_net)
        old, new = _ranges(before)[1], _ranges(after)[1]
        ratios = [n / o for o, n in zip(old, new, strict=True) if abs(o) >= 10**9]
        if ratios:
            assert max(ratios) - min(ratios) <= 1e-6 * max(ratios)
            assert 1 / spread * (1 - 1e-6) <= ratios[0] <= spread * (1 + 1e-6)
        assert [o == 0 for o in old] == [n == 0 for n in new]


@settings(max_examples=3, deadline=None)
@given(seed=seeds)
def test_perturbed_pools_still_trade(seed: int) -> None:
    # every perturbed pool is a valid snapshot whose math answers or refuses cleanly
    for pool in perturb_pools(_pools(), seed):
        a, b = pool.tokens[:2]
        for token_in, token_out in ((a, b), (b, a)):
            for amount in (10**6, 10**18, 10**24):
                with contextlib.suppress(PoolMathError):
                    assert pool.amount_out(token_in, token_out, amount) >= 0


def test_spread_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="spread"):
        perturb_pools(_pools(), 1, 0.5)
