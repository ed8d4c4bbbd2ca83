"""Bit-exactness of the Uniswap pool models against the real contracts on anvil.

V2: a real pair (``@uniswap/v2-core``) set to drawn reserves; our ``amount_out`` must equal
the router library's ``getAmountOut`` and be exactly the most the pair releases for the
input (its K check accepts ``out`` and rejects ``out + 1``); ``amount_in`` must equal
``getAmountIn`` and be enough for the pair.

V3: real pools (``@uniswap/v3-core``) with several positions, including a tick-spacing-1
pool whose swaps cross many bitmap words; the model is built from the pool's on-chain state
and must equal ``QuoterV2`` (``@uniswap/v3-periphery``) exactly, both directions, exact in
and exact out, and refuse exactly the swaps the pool cannot fill.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from devnet.anvil import Devnet, Tx
from devnet.errors import DevnetError
from devnet.uniswap import (
    ERC20,
    V2_PAIR,
    V2_ROUTER,
    V3_FACTORY,
    V3_POOL,
    V3_QUOTER,
    V3_ROUTER,
    UniswapV2,
    UniswapV3,
    add_v3_position,
    create_v2_pair,
    create_v3_pool,
    mint,
)
from intents.types import UINT256_MAX, Address, to_address
from routing.pool import InsufficientLiquidity, PoolId
from routing.pool import TokenAddress as PoolToken
from routing.tick_math import (
    MAX_SQRT_RATIO,
    MIN_SQRT_RATIO,
    sqrt_ratio_at_tick,
    tick_at_sqrt_ratio,
)
from routing.uniswap_v2 import ConstantProductPool
from routing.uniswap_v3 import ConcentratedLiquidityPool
from settlement.deployment import Deployment

Q96 = 2**96
SEED_RESERVE = 10**4


@dataclass(frozen=True)
class V3Pool:
    address: Address
    fee: int
    tokens: tuple[Address, Address]
    ticks: tuple[int, ...]


@dataclass(frozen=True)
class World:
    node: Devnet
    lp: Address
    router: Address
    quoter: Address
    v3_router: Address
    pair: Address
    pair_tokens: tuple[Address, Address]
    v3_pools: tuple[V3Pool, ...]


# (fee, tick spacing to enable or 0, initial tick, positions: (lower, upper, amount each))
V3_LAYOUTS = (
    (3000, 0, 0, ((-600, 600, 10**18), (-6000, -60, 10**17), (120, 12000, 10**17),
                  (-887220, 887220, 10**16))),
    (500, 0, 20010, ((19000, 21000, 10**19), (20000, 20020, 10**18), (-5000, 40000, 10**17),
                     (23040, 30000, 10**18))),
    (100, 1, -301, ((-3000, 2000, 10**18), (-320, -290, 10**18), (500, 901, 10**17),
                    (-887272, 887272, 10**15))),
    (10000, 0, -30100, ((-36000, -25000, 10**19), (-30200, -30000, 10**18))),
)  # fmt: skip


def _sqrt_price_at(tick: int) -> int:
    """A sqrt price strictly inside ``tick`` (not on its boundary)."""
    return (sqrt_ratio_at_tick(tick) + sqrt_ratio_at_tick(tick + 1)) // 2


@pytest.fixture(scope="module")
def world(
    devnet_node: Devnet, devnet: Deployment, uniswap_v2: UniswapV2, uniswap_v3: UniswapV3
) -> Iterator[World]:
    node = devnet_node
    snapshot = node.snapshot()
    lp = devnet.deployer.address
    tka, tkb, tkc = (devnet.tokens[s] for s in ("TKA", "TKB", "TKC"))
    for token in (tka, tkb, tkc):
        mint(node, token, lp, 2**113)
    pair = create_v2_pair(node, uniswap_v2, tka, tkb, SEED_RESERVE, SEED_RESERVE)
    (token0,) = node.call(V2_PAIR, pair, "token0")
    (token1,) = node.call(V2_PAIR, pair, "token1")

    pools = []
    pairs = ((tka, tkb), (tkb, tkc), (tka, tkc), (tkc, tka))
    for (fee, spacing, tick, positions), (ta, tb) in zip(V3_LAYOUTS, pairs, strict=True):
        if spacing:
            enable = V3_FACTORY.encode_call("enableFeeAmount", fee, spacing)
            node.send([Tx(lp, enable, uniswap_v3.factory, what="enableFeeAmount")])
        address = create_v3_pool(node, uniswap_v3, ta, tb, fee, _sqrt_price_at(tick))
        for lower, upper, amount in positions:
            add_v3_position(node, uniswap_v3, ta, tb, fee, lower, upper, amount, amount)
        (t0,) = node.call(V3_POOL, address, "token0")
        (t1,) = node.call(V3_POOL, address, "token1")
        boundaries = sorted({t for lower, upper, _ in positions for t in (lower, upper)})
        pools.append(V3Pool(address, fee, (to_address(t0), to_address(t1)), tuple(boundaries)))
    node.send(
        [
            Tx(lp, ERC20.encode_call("approve", uniswap_v3.router, UINT256_MAX), token)
            for token in (tka, tkb, tkc)
        ]
    )
    yield World(
        node,
        lp,
        uniswap_v2.router,
        uniswap_v3.quoter,
        uniswap_v3.router,
        pair,
        (to_address(token0), to_address(token1)),
        tuple(pools),
    )
    node.revert(snapshot)


# -- Uniswap V2 ------------------------------------------------------------------------------


def _set_reserves(w: World, reserve0: int, reserve1: int) -> ConstantProductPool:
    """Top the pair up to the given reserves (``sync``) and model it from ``getReserves``."""
    t0, t1 = w.pair_tokens
    r0, r1, _ = w.node.call(V2_PAIR, w.pair, "getReserves")
    w.node.send(
        [
            Tx(w.lp, ERC20.encode_call("transfer", w.pair, reserve0 - r0), t0),
            Tx(w.lp, ERC20.encode_call("transfer", w.pair, reserve1 - r1), t1),
            Tx(w.lp, V2_PAIR.encode_call("sync"), w.pair, what="sync"),
        ]
    )
    r0, r1, _ = w.node.call(V2_PAIR, w.pair, "getReserves")
    assert (r0, r1) == (reserve0, reserve1)
    return ConstantProductPool(PoolId(w.pair), (PoolToken(t0), PoolToken(t1)), (r0, r1))


def _pair_releases(w: World, zero_for_one: bool, amount_out: int) -> bool:
    """Does the pair's swap (after the input was transferred) pay ``amount_out``?"""
    outs = (0, amount_out) if zero_for_one else (amount_out, 0)
    try:
        w.node.call(V2_PAIR, w.pair, "swap", *outs, w.lp, b"")
    except DevnetError:
        return False
    return True


reserves = st.integers(SEED_RESERVE, 2**100)
amounts = st.integers(0, 30).flatmap(lambda e: st.integers(1, 10**e))


@settings(max_examples=40, deadline=None)
@given(reserve0=reserves, reserve1=reserves, amount=amounts, zero_for_one=st.booleans())
def test_v2_amount_out_is_exactly_what_the_pair_releases(
    world: World, reserve0: int, reserve1: int, amount: int, zero_for_one: bool
) -> None:
    w = world
    snapshot = w.node.snapshot()
    try:
        pool = _set_reserves(w, reserve0, reserve1)
        t_in, t_out = pool.tokens if zero_for_one else pool.tokens[::-1]
        r_in, r_out = (reserve0, reserve1) if zero_for_one else (reserve1, reserve0)
        (quoted,) = w.node.call(V2_ROUTER, w.router, "getAmountOut", amount, r_in, r_out)
        try:
            out = pool.amount_out(t_in, t_out, amount)
        except InsufficientLiquidity:
            # Only when the input would push the reserve past uint112: the pair refuses.
            assert r_in + amount > 2**112 - 1
            w.node.send([Tx(w.lp, ERC20.encode_call("transfer", w.pair, amount), t_in)])
            assert not _pair_releases(w, zero_for_one, 1)
            return
        assert out == quoted
        w.node.send([Tx(w.lp, ERC20.encode_call("transfer", w.pair, amount), t_in)])
        # (A zero output is no swap at all: the pair refuses it by design.)
        assert out == 0 or _pair_releases(w, zero_for_one, out)
        assert not _pair_releases(w, zero_for_one, out + 1)
    finally:
        w.node.revert(snapshot)


@settings(max_examples=30, deadline=None)
@given(reserve0=reserves, reserve1=reserves, data=st.data(), zero_for_one=st.booleans())
def test_v2_amount_in_is_the_library_quote_and_suffices(
    world: World, reserve0: int, reserve1: int, data: st.DataObject, zero_for_one: bool
) -> None:
    w = world
    r_in, r_out = (reserve0, reserve1) if zero_for_one else (reserve1, reserve0)
    want = data.draw(st.integers(1, r_out - 1), label="amount out")
    snapshot = w.node.snapshot()
    try:
        pool = _set_reserves(w, reserve0, reserve1)
        t_in, t_out = pool.tokens if zero_for_one else pool.tokens[::-1]
        (quoted,) = w.node.call(V2_ROUTER, w.router, "getAmountIn", want, r_in, r_out)
        try:
            needed = pool.amount_in(t_in, t_out, want)
        except InsufficientLiquidity:
            assert r_in + quoted > 2**112 - 1
            return
        assert needed == quoted
        w.node.send([Tx(w.lp, ERC20.encode_call("transfer", w.pair, needed), t_in)])
        assert _pair_releases(w, zero_for_one, want)
    finally:
        w.node.revert(snapshot)


# -- Uniswap V3 ------------------------------------------------------------------------------


def _model(w: World, pool: V3Pool) -> ConcentratedLiquidityPool:
    """Our pool snapshot, read from the contract's state."""
    sqrt_price, tick, *_ = w.node.call(V3_POOL, pool.address, "slot0")
    (liquidity,) = w.node.call(V3_POOL, pool.address, "liquidity")
    (spacing,) = w.node.call(V3_POOL, pool.address, "tickSpacing")
    net = {}
    for t in pool.ticks:
        _, liquidity_net, *_ = w.node.call(V3_POOL, pool.address, "ticks", t)
        net[t] = liquidity_net
    assert tick == tick_at_sqrt_ratio(sqrt_price)
    return ConcentratedLiquidityPool(
        id=PoolId(pool.address),
        tokens=(PoolToken(pool.tokens[0]), PoolToken(pool.tokens[1])),
        sqrt_price_x96=sqrt_price,
        liquidity=liquidity,
        tick=tick,
        liquidity_net=net,
        fee_pips=pool.fee,
        tick_spacing=spacing,
    )


@pytest.fixture(scope="module")
def v3_models(world: World) -> tuple[ConcentratedLiquidityPool, ...]:
    return tuple(_model(world, p) for p in world.v3_pools)


# From 1 wei to 1e27, weighted towards amounts that cross ranges or exhaust the pool.
v3_amounts = st.builds(
    lambda m, e: m * 10**e,
    st.integers(1, 999),
    st.one_of(st.integers(0, 14), st.integers(15, 24), st.integers(15, 24)),
)


@settings(max_examples=80, deadline=None)
@given(index=st.integers(0, len(V3_LAYOUTS) - 1), amount=v3_amounts, zero_for_one=st.booleans())
def test_v3_exact_input_equals_the_quoter(
    world: World,
    v3_models: tuple[ConcentratedLiquidityPool, ...],
    index: int,
    amount: int,
    zero_for_one: bool,
) -> None:
    pool, model = world.v3_pools[index], v3_models[index]
    t_in, t_out = pool.tokens if zero_for_one else pool.tokens[::-1]
    quoted, sqrt_after, crossed, _ = world.node.call(
        V3_QUOTER, world.quoter, "quoteExactInputSingle", (t_in, t_out, amount, pool.fee, 0)
    )
    event(f"initialized ticks crossed: {min(crossed, 3)}{'+' if crossed >= 3 else ''}")
    limit = MIN_SQRT_RATIO + 1 if zero_for_one else MAX_SQRT_RATIO - 1
    try:
        out = model.amount_out(PoolToken(t_in), PoolToken(t_out), amount)
    except InsufficientLiquidity:
        # The pool ran to the price limit with input left over: a partial fill.
        assert sqrt_after == limit
        event("partial fill refused")
        return
    assert out == quoted


@settings(max_examples=80, deadline=None)
@given(index=st.integers(0, len(V3_LAYOUTS) - 1), amount=v3_amounts, zero_for_one=st.booleans())
def test_v3_exact_output_equals_the_quoter(
    world: World,
    v3_models: tuple[ConcentratedLiquidityPool, ...],
    index: int,
    amount: int,
    zero_for_one: bool,
) -> None:
    pool, model = world.v3_pools[index], v3_models[index]
    t_in, t_out = pool.tokens if zero_for_one else pool.tokens[::-1]
    try:
        quoted, *_ = world.node.call(
            V3_QUOTER, world.quoter, "quoteExactOutputSingle", (t_in, t_out, amount, pool.fee, 0)
        )
    except DevnetError:
        # QuoterV2 refuses an output the pool cannot deliver in full; so must we.
        with pytest.raises(InsufficientLiquidity):
            model.amount_in(PoolToken(t_in), PoolToken(t_out), amount)
        event("output beyond the pool refused")
        return
    assert model.amount_in(PoolToken(t_in), PoolToken(t_out), amount) == quoted


def _balance(w: World, token: str) -> int:
    (value,) = w.node.call(ERC20, token, "balanceOf", w.lp)
    return int(value)


@settings(max_examples=30, deadline=None)
@given(
    index=st.integers(0, len(V3_LAYOUTS) - 1),
    amount=v3_amounts,
    zero_for_one=st.booleans(),
    exact_in=st.booleans(),
)
def test_v3_real_swap_moves_tokens_and_state_as_modelled(
    world: World,
    v3_models: tuple[ConcentratedLiquidityPool, ...],
    index: int,
    amount: int,
    zero_for_one: bool,
    exact_in: bool,
) -> None:
    """A real ``SwapRouter`` swap: the tokens that move and the pool's price, tick and
    liquidity afterwards are exactly the model's ``swap`` result."""
    w, pool, model = world, world.v3_pools[index], v3_models[index]
    t_in, t_out = pool.tokens if zero_for_one else pool.tokens[::-1]
    try:
        expected = model.swap(zero_for_one, amount if exact_in else -amount)
    except InsufficientLiquidity:
        expected = None
    if exact_in:
        params = (t_in, t_out, pool.fee, w.lp, 2**32 - 1, amount, 0, 0)
        call = V3_ROUTER.encode_call("exactInputSingle", params)
    else:
        params = (t_in, t_out, pool.fee, w.lp, 2**32 - 1, amount, UINT256_MAX, 0)
        call = V3_ROUTER.encode_call("exactOutputSingle", params)
    snapshot = w.node.snapshot()
    try:
        before = _balance(w, t_in), _balance(w, t_out)
        try:
            w.node.send([Tx(w.lp, call, w.v3_router, gas=30_000_000, what="v3 swap")])
        except DevnetError:
            # Only an exact output the pool cannot deliver in full reverts.
            assert expected is None and not exact_in
            return
        spent, got = before[0] - _balance(w, t_in), _balance(w, t_out) - before[1]
        sqrt_price, tick, *_ = w.node.call(V3_POOL, pool.address, "slot0")
        (liquidity,) = w.node.call(V3_POOL, pool.address, "liquidity")
        if expected is None:
            # A partial fill: the pool stopped at the price limit.
            assert exact_in and sqrt_price == (
                MIN_SQRT_RATIO + 1 if zero_for_one else MAX_SQRT_RATIO - 1
            )
            return
        assert (spent, got, sqrt_price, tick, liquidity) == tuple(expected)
    finally:
        w.node.revert(snapshot)


def test_v3_models_cross_ticks_and_words(
    world: World, v3_models: tuple[ConcentratedLiquidityPool, ...]
) -> None:
    """The layouts make swaps cross initialized ticks (and, at spacing 1, bitmap words)."""
    pool, model = world.v3_pools[2], v3_models[2]
    t0, t1 = (PoolToken(t) for t in pool.tokens)
    amount = 10**21
    quoted, _, crossed, _ = world.node.call(
        V3_QUOTER, world.quoter, "quoteExactInputSingle", (t1, t0, amount, pool.fee, 0)
    )
    assert crossed >= 2
    assert model.amount_out(t1, t0, amount) == quoted
