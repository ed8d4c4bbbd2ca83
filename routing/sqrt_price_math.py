"""Uniswap V3 ``SqrtPriceMath``: price moves and token deltas between two sqrt prices.

Prices are Q64.96 (``uint160``), liquidity ``uint128``. Rounding is the contract's: the
next price always moves less than the exact value in the trader's favour, token-0 deltas
and token-1 deltas round up when they are owed to the pool and down when paid out.
"""

from __future__ import annotations

from routing.full_math import (
    MAX_UINT160,
    MAX_UINT256,
    div_rounding_up,
    mul_div,
    mul_div_rounding_up,
)
from routing.pool import PoolMathError

Q96 = 1 << 96


def _to_uint160(value: int) -> int:
    if value > MAX_UINT160:
        raise PoolMathError("sqrt price overflows uint160")
    return value


def next_sqrt_price_from_amount0_rounding_up(
    sqrt_price_x96: int, liquidity: int, amount: int, add: bool
) -> int:
    """Price after adding (``add``) or removing ``amount`` of token 0, rounded up."""
    if amount == 0:
        return sqrt_price_x96
    numerator1 = liquidity << 96
    product = amount * sqrt_price_x96
    if add:
        if product <= MAX_UINT256 and numerator1 + product <= MAX_UINT256:
            # The uint160 cast is unchecked in the contract; the result is below the input.
            return mul_div_rounding_up(numerator1, sqrt_price_x96, numerator1 + product)
        denominator = numerator1 // sqrt_price_x96 + amount
        if denominator > MAX_UINT256:
            raise PoolMathError("sqrt price denominator overflow")
        return div_rounding_up(numerator1, denominator)
    if product > MAX_UINT256 or numerator1 <= product:
        raise PoolMathError("not enough token 0 liquidity for the output")
    return _to_uint160(mul_div_rounding_up(numerator1, sqrt_price_x96, numerator1 - product))


def next_sqrt_price_from_amount1_rounding_down(
    sqrt_price_x96: int, liquidity: int, amount: int, add: bool
) -> int:
    """Price after adding (``add``) or removing ``amount`` of token 1, rounded down."""
    if add:
        quotient = mul_div(amount, Q96, liquidity)
        return _to_uint160(sqrt_price_x96 + quotient)
    quotient = mul_div_rounding_up(amount, Q96, liquidity)
    if sqrt_price_x96 <= quotient:
        raise PoolMathError("not enough token 1 liquidity for the output")
    return sqrt_price_x96 - quotient


def next_sqrt_price_from_input(
    sqrt_price_x96: int, liquidity: int, amount_in: int, zero_for_one: bool
) -> int:
    """``getNextSqrtPriceFromInput``: never overshoots the target price."""
    if sqrt_price_x96 <= 0 or liquidity <= 0:
        raise PoolMathError("price and liquidity must be positive")
    if zero_for_one:
        return next_sqrt_price_from_amount0_rounding_up(sqrt_price_x96, liquidity, amount_in, True)
    return next_sqrt_price_from_amount1_rounding_down(sqrt_price_x96, liquidity, amount_in, True)


def next_sqrt_price_from_output(
    sqrt_price_x96: int, liquidity: int, amount_out: int, zero_for_one: bool
) -> int:
    """``getNextSqrtPriceFromOutput``: always passes the target price."""
    if sqrt_price_x96 <= 0 or liquidity <= 0:
        raise PoolMathError("price and liquidity must be positive")
    if zero_for_one:
        return next_sqrt_price_from_amount1_rounding_down(
            sqrt_price_x96, liquidity, amount_out, False
        )
    return next_sqrt_price_from_amount0_rounding_up(sqrt_price_x96, liquidity, amount_out, False)


def amount0_delta(sqrt_a_x96: int, sqrt_b_x96: int, liquidity: int, round_up: bool) -> int:
    """``getAmount0Delta``: ``L * (sqrtB - sqrtA) / (sqrtA * sqrtB)`` (``* 2**96``)."""
    if sqrt_a_x96 > sqrt_b_x96:
        sqrt_a_x96, sqrt_b_x96 = sqrt_b_x96, sqrt_a_x96
    if sqrt_a_x96 <= 0:
        raise PoolMathError("sqrt price must be positive")
    numerator1 = liquidity << 96
    numerator2 = sqrt_b_x96 - sqrt_a_x96
    if round_up:
        return div_rounding_up(mul_div_rounding_up(numerator1, numerator2, sqrt_b_x96), sqrt_a_x96)
    return mul_div(numerator1, numerator2, sqrt_b_x96) // sqrt_a_x96


def amount1_delta(sqrt_a_x96: int, sqrt_b_x96: int, liquidity: int, round_up: bool) -> int:
    """``getAmount1Delta``: ``L * (sqrtB - sqrtA) / 2**96``."""
    if sqrt_a_x96 > sqrt_b_x96:
        sqrt_a_x96, sqrt_b_x96 = sqrt_b_x96, sqrt_a_x96
    if round_up:
        return mul_div_rounding_up(liquidity, sqrt_b_x96 - sqrt_a_x96, Q96)
    return mul_div(liquidity, sqrt_b_x96 - sqrt_a_x96, Q96)
