"""Uniswap V2-style constant-product pools (any fee), exactly as ``UniswapV2Library``.

``getAmountOut``: ``out = in*(D-f)*R_out // (R_in*D + in*(D-f))``;
``getAmountIn``: ``in = R_in*out*D // ((R_out-out)*(D-f)) + 1`` — for the canonical pair
``f/D = 3/1000``. Reserves are ``uint112`` in the pair, so a swap that would push a reserve
past ``2**112 - 1`` is refused like the contract's ``OVERFLOW`` revert.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from routing.pool import (
    InsufficientLiquidity,
    LiquidityFormatError,
    PoolId,
    PoolMathError,
    TokenAddress,
    UnknownToken,
    frozen_state,
    restore_frozen,
)

MAX_RESERVE = 2**112 - 1


@dataclass(frozen=True, slots=True)
class ConstantProductPool:
    """A pair snapshot: ``reserves[i]`` of ``tokens[i]``; the fee is ``fee_num / fee_den``."""

    id: PoolId
    tokens: tuple[TokenAddress, TokenAddress]
    reserves: tuple[int, int]
    fee_num: int = 3
    fee_den: int = 1000
    gas: int = 90_000

    def __getstate__(self) -> dict[str, object]:
        return frozen_state(self)

    def __setstate__(self, state: dict[str, object]) -> None:
        restore_frozen(self, state)

    def __post_init__(self) -> None:
        if self.tokens[0] == self.tokens[1]:
            raise PoolMathError(f"pool {self.id}: both tokens are {self.tokens[0]}")
        if not 0 <= self.fee_num < self.fee_den:
            raise PoolMathError(f"pool {self.id}: fee {self.fee_num}/{self.fee_den} not in [0, 1)")
        if not all(0 <= r <= MAX_RESERVE for r in self.reserves):
            raise PoolMathError(f"pool {self.id}: reserves {self.reserves} outside uint112")

    def _reserves(self, token_in: TokenAddress, token_out: TokenAddress) -> tuple[int, int]:
        if (token_in, token_out) == self.tokens:
            return self.reserves
        if (token_out, token_in) == self.tokens:
            return self.reserves[1], self.reserves[0]
        raise UnknownToken(f"pool {self.id} does not trade {token_in} -> {token_out}")

    def amount_out(self, token_in: TokenAddress, token_out: TokenAddress, amount_in: int) -> int:
        reserve_in, reserve_out = self._reserves(token_in, token_out)
        if amount_in < 0:
            raise PoolMathError(f"negative amount in: {amount_in}")
        if amount_in == 0:
            return 0
        if reserve_in == 0 or reserve_out == 0:
            raise InsufficientLiquidity(f"pool {self.id} has an empty reserve")
        if reserve_in + amount_in > MAX_RESERVE:
            raise InsufficientLiquidity(f"pool {self.id}: reserve would overflow uint112")
        with_fee = amount_in * (self.fee_den - self.fee_num)
        return with_fee * reserve_out // (reserve_in * self.fee_den + with_fee)

    def amount_in(self, token_in: TokenAddress, token_out: TokenAddress, amount_out: int) -> int:
        reserve_in, reserve_out = self._reserves(token_in, token_out)
        if amount_out < 0:
            raise PoolMathError(f"negative amount out: {amount_out}")
        if amount_out == 0:
            return 0
        if amount_out >= reserve_out or reserve_in == 0:
            raise InsufficientLiquidity(
                f"pool {self.id}: {amount_out} out of a reserve of {reserve_out}"
            )
        numerator = reserve_in * amount_out * self.fee_den
        denominator = (reserve_out - amount_out) * (self.fee_den - self.fee_num)
        amount_in = numerator // denominator + 1
        if reserve_in + amount_in > MAX_RESERVE:
            raise InsufficientLiquidity(f"pool {self.id}: reserve would overflow uint112")
        return amount_in

    def spot_price(self, token_in: TokenAddress, token_out: TokenAddress) -> float:
        reserve_in, reserve_out = self._reserves(token_in, token_out)
        if reserve_in == 0:
            return 0.0
        return reserve_out / reserve_in * (self.fee_den - self.fee_num) / self.fee_den


def constant_product_pool(
    ident: str, reserves: Iterable[tuple[TokenAddress, int]], fee: Fraction, gas: int
) -> ConstantProductPool:
    """A pair from its two (token, reserve) entries in any order and its exact fee; the
    tokens are ordered by address, as Uniswap orders token0/token1."""
    entries = sorted(reserves)
    if len(entries) != 2:
        raise LiquidityFormatError(f"a pair needs two tokens, got {len(entries)}")
    (t0, r0), (t1, r1) = entries
    return ConstantProductPool(
        id=PoolId(ident),
        tokens=(t0, t1),
        reserves=(r0, r1),
        fee_num=fee.numerator,
        fee_den=fee.denominator,
        gas=gas,
    )
