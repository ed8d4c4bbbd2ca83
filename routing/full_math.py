"""Solidity ``uint256`` helpers (Uniswap ``FullMath``/``UnsafeMath``) on Python ints.

Each function raises ``PoolMathError`` where the contract would revert, so callers see the
same domain as the chain.
"""

from __future__ import annotations

from routing.pool import PoolMathError

MAX_UINT256 = 2**256 - 1
MAX_UINT160 = 2**160 - 1
MAX_UINT128 = 2**128 - 1


def mul_div(a: int, b: int, denominator: int) -> int:
    """``floor(a * b / denominator)`` with a 512-bit intermediate; reverts past 256 bits."""
    if denominator <= 0:
        raise PoolMathError("mulDiv by zero")
    result = a * b // denominator
    if result > MAX_UINT256:
        raise PoolMathError("mulDiv overflow")
    return result


def mul_div_rounding_up(a: int, b: int, denominator: int) -> int:
    """``ceil(a * b / denominator)``; reverts past 256 bits."""
    if denominator <= 0:
        raise PoolMathError("mulDiv by zero")
    result = -(-(a * b) // denominator)
    if result > MAX_UINT256:
        raise PoolMathError("mulDiv overflow")
    return result


def div_rounding_up(a: int, b: int) -> int:
    """``UnsafeMath.divRoundingUp``: ceil of a non-negative quotient (``b > 0``)."""
    return -(-a // b)
