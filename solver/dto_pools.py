"""The liquidity side of the DTO boundary (``solver.dto_convert``): the solver-engine
format's liquidity as routing's pools and back, typed to typed.

``pools_from_dto`` builds each entry with the one builder of its kind (``_POOL_BUILDERS``
calling e.g. ``routing.uniswap_v2.constant_product_pool``, the same builders the legacy
format's parser ``routing.liquidity`` uses); entries routing cannot model are kept in
``Pools.skipped``. ``pool_to_dto`` is the wire form of a routing pool. Exact decimal strings
become ``Fraction``s scaled to the contracts' integer units. A pool's gas is its kind's
fixed cost (``routing.interaction_gas``), not the entry's ``gasEstimate``, as CoW's
baseline declares it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from fractions import Fraction
from functools import partial
from typing import Any

from intents.types import ZERO_ADDRESS
from routing.balancer_weighted import WeightedPool, weighted_pool
from routing.interaction_gas import (
    BALANCER_STABLE_GAS,
    BALANCER_WEIGHTED_GAS,
    FOREIGN_LIMIT_ORDER_GAS,
    UNISWAP_V2_GAS,
    UNISWAP_V3_GAS,
)
from routing.limit_order import limit_order_pool
from routing.liquidity import Pools, collect
from routing.pool import Pool, scaled, token_address
from routing.stable import AMP_PRECISION, StablePool, stable_pool
from routing.uniswap_v2 import ConstantProductPool, constant_product_pool
from routing.uniswap_v3 import ConcentratedLiquidityPool, concentrated_liquidity_pool
from solver import dto

_WAD = 10**18
_NO_POOL_ID = "0x" + "00" * 32


def _constant_product(pool: dto.ConstantProductPool) -> Pool:
    return constant_product_pool(
        pool.id,
        [(token_address(t), int(r.balance)) for t, r in pool.tokens.items()],
        Fraction(pool.fee),
        UNISWAP_V2_GAS,
    )


def _concentrated(pool: dto.ConcentratedLiquidityPool) -> Pool:
    return concentrated_liquidity_pool(
        pool.id,
        [token_address(t) for t in pool.tokens],
        int(pool.sqrt_price),
        int(pool.liquidity),
        pool.tick,
        {int(t): int(n) for t, n in pool.liquidity_net.items()},
        Fraction(pool.fee),
        UNISWAP_V3_GAS,
    )


def _weighted(pool: dto.WeightedProductPool) -> Pool:
    reserves = [
        (
            token_address(t),
            int(r.balance),
            Fraction(r.weight),
            scaled(Fraction(r.scaling_factor), _WAD, "scaling factor"),
        )
        for t, r in pool.tokens.items()
    ]
    return weighted_pool(
        pool.id, reserves, Fraction(pool.fee), pool.version == "v3Plus", BALANCER_WEIGHTED_GAS
    )


def _stable(pool: dto.StablePool) -> Pool:
    reserves = [
        (
            token_address(t),
            int(r.balance),
            scaled(Fraction(r.scaling_factor), _WAD, "scaling factor"),
        )
        for t, r in pool.tokens.items()
    ]
    return stable_pool(
        pool.id,
        reserves,
        Fraction(pool.amplification_parameter),
        Fraction(pool.fee),
        BALANCER_STABLE_GAS,
        token_address(pool.address),
    )


def _limit_order(order: dto.ForeignLimitOrder) -> Pool:
    return limit_order_pool(
        order.id,
        token_address(order.taker_token),
        token_address(order.maker_token),
        int(order.taker_amount),
        int(order.maker_amount),
        int(order.taker_token_fee_amount),
        FOREIGN_LIMIT_ORDER_GAS,
    )


_POOL_BUILDERS: Mapping[type[Any], Callable[[Any], Pool]] = {
    dto.ConstantProductPool: _constant_product,
    dto.ConcentratedLiquidityPool: _concentrated,
    dto.WeightedProductPool: _weighted,
    dto.StablePool: _stable,
    dto.ForeignLimitOrder: _limit_order,
}
"""One builder per liquidity kind of the wire format."""


def pools_from_dto(liquidity: Iterable[dto.Liquidity]) -> Pools:
    """Routing's pools of the auction's liquidity (unmodelled entries in ``skipped``)."""

    def entry(item: dto.Liquidity) -> tuple[str, str, Callable[[], Pool] | None]:
        build = _POOL_BUILDERS.get(type(item))
        kind = str(type(item).__struct_config__.tag)
        return item.id, kind, None if build is None else partial(build, item)

    return collect(entry(item) for item in liquidity)


def decimal_string(value: Fraction) -> str:
    """The exact decimal form of ``value`` (its denominator must divide a power of ten)."""
    digits = 0
    while (value * 10**digits).denominator != 1:
        digits += 1
        if digits > 80:
            raise ValueError(f"{value} has no finite decimal form")
    whole = abs(value * 10**digits).numerator
    sign = "-" if value < 0 else ""
    if not digits:
        return f"{sign}{whole}"
    text = str(whole).rjust(digits + 1, "0")
    return f"{sign}{text[:-digits]}.{text[-digits:]}"


def _ratio(numerator: int, denominator: int) -> str:
    return decimal_string(Fraction(numerator, denominator))


def pool_to_dto(pool: Pool) -> dto.Liquidity:
    """The wire form of a routing pool (the pool id is its address when it is one; routers
    and Balancer pool ids the routing model does not keep are zero)."""
    ident = str(pool.id)
    address = ident if _is_address(ident) else ZERO_ADDRESS
    gas = dto.U256(pool.gas)
    if isinstance(pool, ConstantProductPool):
        reserves = zip(pool.tokens, pool.reserves, strict=True)
        return dto.ConstantProductPool(
            id=ident,
            address=address,
            router=ZERO_ADDRESS,
            gas_estimate=gas,
            tokens={t: dto.ConstantProductReserve(balance=dto.U256(r)) for t, r in reserves},
            fee=_ratio(pool.fee_num, pool.fee_den),
        )
    if isinstance(pool, ConcentratedLiquidityPool):
        return dto.ConcentratedLiquidityPool(
            id=ident,
            address=address,
            router=ZERO_ADDRESS,
            gas_estimate=gas,
            tokens=list(pool.tokens),
            sqrt_price=dto.U256(pool.sqrt_price_x96),
            liquidity=str(pool.liquidity),
            tick=pool.tick,
            liquidity_net={str(t): str(n) for t, n in sorted(pool.liquidity_net.items())},
            fee=_ratio(pool.fee_pips, 10**6),
        )
    if isinstance(pool, WeightedPool):
        return dto.WeightedProductPool(
            id=ident,
            address=address,
            balancer_pool_id=_NO_POOL_ID,
            gas_estimate=gas,
            tokens={
                r.address: dto.WeightedProductReserve(
                    balance=dto.U256(r.balance),
                    scaling_factor=_ratio(r.scaling_factor, _WAD),
                    weight=_ratio(r.weight, _WAD),
                )
                for r in pool.reserves
            },
            fee=_ratio(pool.fee, _WAD),
            version="v3Plus" if pool.pow_shortcuts else "v0",
        )
    if isinstance(pool, StablePool):
        return dto.StablePool(
            id=ident,
            address=address,
            balancer_pool_id=_NO_POOL_ID,
            gas_estimate=gas,
            tokens={
                r.address: dto.StableReserve(
                    balance=dto.U256(r.balance), scaling_factor=_ratio(r.scaling_factor, _WAD)
                )
                for r in pool.reserves
            },
            amplification_parameter=_ratio(pool.amp, AMP_PRECISION),
            fee=_ratio(pool.fee, _WAD),
        )
    raise TypeError(f"no wire form for pool {pool.id} of type {type(pool).__name__}")


def _is_address(text: str) -> bool:
    try:
        token_address(text)
    except ValueError:
        return False
    return True
