"""A weighted pool's float bounds never cut into its exact amounts: ``amount_out_bound``
is at least ``amount_out`` and ``amount_in_bound`` at most any input whose exact output
covers the amount (and at most ``amount_in``), on random pools and on every weighted pool
of the shared mainnet auction, so ``routing.quotes`` may skip a pool on them."""

from __future__ import annotations

import json
from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from routing.balancer_weighted import WeightedPool, WeightedToken
from routing.covering import covering_input
from routing.fixed_point import ONE
from routing.liquidity import parse_snapshot
from routing.pool import PoolId, PoolMathError, TokenAddress
from tests.data import MAINNET_AUCTION

A = TokenAddress("0x" + "aa" * 20)
B = TokenAddress("0x" + "bb" * 20)


@cache
def _mainnet() -> list[WeightedPool]:
    snapshot = parse_snapshot(json.loads(MAINNET_AUCTION.read_text()))
    return [p for p in snapshot.pools if isinstance(p, WeightedPool)]


def _out(pool: WeightedPool, t_in: TokenAddress, t_out: TokenAddress, amount: int) -> int | None:
    try:
        return pool.amount_out(t_in, t_out, amount)
    except PoolMathError:
        return None


def _check(pool: WeightedPool, t_in: TokenAddress, t_out: TokenAddress, amount: int) -> None:
    out = _out(pool, t_in, t_out, amount)
    if out is not None:
        assert out <= pool.amount_out_bound(t_in, t_out, amount)
    try:
        quoted = pool.amount_in(t_in, t_out, amount)
    except PoolMathError:
        return
    least = pool.amount_in_bound(t_in, t_out, amount)
    assert least <= quoted
    covering = covering_input(lambda a: _out(pool, t_in, t_out, a), quoted, amount)
    if covering is not None:
        assert least <= covering


def _pool(
    balances: tuple[int, int], weight: int, decimals: tuple[int, int], fee: int
) -> WeightedPool:
    reserves = tuple(
        WeightedToken(token, balance, w, ONE * 10 ** (18 - d))
        for token, balance, w, d in zip(
            (A, B), balances, (weight, ONE - weight), decimals, strict=True
        )
    )
    return WeightedPool(PoolId("w"), reserves, fee)


@settings(max_examples=300, deadline=None)
@given(
    st.tuples(st.integers(10**3, 10**30), st.integers(10**3, 10**30)),
    st.sampled_from([ONE // 2, ONE // 5, 4 * ONE // 5, ONE // 50, 98 * ONE // 100]),
    st.tuples(st.sampled_from([6, 8, 18]), st.sampled_from([6, 8, 18])),
    st.sampled_from([0, 10**12, 3 * 10**15, 10**17]),
    st.integers(1, 10**30),
    st.booleans(),
    st.booleans(),
)
def test_bounds_hold_on_random_pools(
    balances: tuple[int, int],
    weight: int,
    decimals: tuple[int, int],
    fee: int,
    amount: int,
    shortcuts: bool,
    forward: bool,
) -> None:
    pool = _pool(balances, weight, decimals, fee)
    if not shortcuts:
        pool = WeightedPool(pool.id, pool.reserves, pool.fee, pow_shortcuts=False)
    t_in, t_out = (A, B) if forward else (B, A)
    _check(pool, t_in, t_out, amount)


@settings(max_examples=300, deadline=None)
@given(st.data(), st.floats(-14, 0))
def test_bounds_hold_on_mainnet_pools(data: st.DataObject, exponent: float) -> None:
    pool = data.draw(st.sampled_from(_mainnet()))
    t_in, t_out = data.draw(st.permutations(pool.tokens))[:2]
    balance = {t.address: t.balance for t in pool.reserves}
    _check(pool, t_in, t_out, max(1, int(balance[t_in] * 10**exponent)))
    _check(pool, t_in, t_out, max(1, int(balance[t_out] * 10**exponent)))


def test_the_bounds_are_tight() -> None:
    """Close to the exact amounts on a mainnet-sized pool, tight enough to rule out a pool
    that is not the best by more than that (on small trades the exact math's own ``powUp``
    error margin, about 1e-14 of the balance, is most of the gap)."""
    pool = _pool((10**24, 3 * 10**27), ONE // 5, (18, 18), 3 * 10**15)
    for amount, gap in ((10**15, 1e-4), (10**20, 1e-6), (10**23, 1e-6)):
        out = pool.amount_out(A, B, amount)
        assert out <= pool.amount_out_bound(A, B, amount) <= out * (1 + gap)
        quoted = pool.amount_in(A, B, out)
        assert quoted * (1 - gap) <= pool.amount_in_bound(A, B, out) <= quoted


def test_bounds_past_any_float_hold() -> None:
    """Where the float curve overflows (a steep weight ratio, most of a balance bought), the
    bound is infinite, never an error: such an input would be past uint256 anyway."""
    pool = _pool((10**6, 10**30), ONE // 50, (18, 18), 0)
    for amount in (10**29, 9 * 10**29, 10**30 - 1, 10**400):
        assert pool.amount_in_bound(A, B, amount) >= 0
        _check(pool, A, B, amount)
        _check(pool, B, A, amount)
