"""The one interface every pool model implements, and the errors of pool math.

A pool is an immutable snapshot. Its methods are pure integer functions with the deployed
contract's rounding: ``amount_out`` rounds down (the pool never pays more than the contract
would), ``amount_in`` rounds up (the trader never pays less than the contract would demand).

Conventions shared by every model: an amount of 0 gives 0; a negative amount is a
``PoolMathError``; an amount the pool cannot fill completely (reserves, tick range, max
ratio, a revert of the contract's math) is ``InsufficientLiquidity`` — and once an amount is
refused, every larger one is too. ``amount_in`` is the contract's exact-output math (Uniswap
``getAmountIn`` / V3 exact output / Balancer ``GIVEN_OUT``); for Balancer, selling that input
with ``GIVEN_IN`` can return a few wei less, as on chain.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from typing import Any, NewType, Protocol, runtime_checkable

from routing.errors import RoutingError

TokenAddress = NewType("TokenAddress", str)
"""An ERC-20 address, lowercase ``0x`` hex (this package's own type: ``routing`` imports
nothing of ours)."""

PoolId = NewType("PoolId", str)


class PoolMathError(RoutingError, ArithmeticError):
    """Root of pool-math failures; ``code`` is machine-readable."""

    code = "PoolMathError"


class LiquidityFormatError(RoutingError, ValueError):
    """Liquidity that cannot be read: a document that is not an auction, or a pool's
    description that cannot be a pool of its kind (not an address, a fee that is not a
    whole number of the contract's units...)."""

    code = "LiquidityFormatError"


def token_address(value: str) -> TokenAddress:
    """Normalise an address to this package's lowercase form."""
    text = value.lower()
    if len(text) != 42 or not text.startswith("0x"):
        raise LiquidityFormatError(f"not an address: {value!r}")
    int(text, 16)
    return TokenAddress(text)


def scaled(value: Fraction, scale: int, what: str) -> int:
    """``value * scale`` as an exact integer (a fee in pips, a weight in 18 decimals...), or
    a ``LiquidityFormatError`` if it is not one."""
    product = value * scale
    if product.denominator != 1:
        raise LiquidityFormatError(f"{what} {value} is not a multiple of 1/{scale}")
    return product.numerator


class InsufficientLiquidity(PoolMathError):
    """The pool cannot fill the amount (reserves, tick range or max-ratio exhausted)."""

    code = "InsufficientLiquidity"


class UnknownToken(PoolMathError, KeyError):
    code = "UnknownToken"


@runtime_checkable
class Pool(Protocol):
    @property
    def id(self) -> PoolId: ...

    @property
    def tokens(self) -> tuple[TokenAddress, ...]: ...

    @property
    def gas(self) -> int:
        """Gas units one swap through this pool costs (estimate)."""
        ...

    def amount_out(self, token_in: TokenAddress, token_out: TokenAddress, amount_in: int) -> int:
        """Exact output for ``amount_in``; raises ``InsufficientLiquidity``."""
        ...

    def amount_in(self, token_in: TokenAddress, token_out: TokenAddress, amount_out: int) -> int:
        """Exact input needed to receive ``amount_out``; raises ``InsufficientLiquidity``."""
        ...

    def spot_price(self, token_in: TokenAddress, token_out: TokenAddress) -> float:
        """Marginal units of ``token_out`` per unit of ``token_in`` after fee, for graph
        weights and candidate pruning only (never for amounts)."""
        ...


def frozen_state(snapshot: Any) -> dict[str, object]:
    """A frozen dataclass pool's fields, for ``__getstate__``: pools are copied
    (``ConcentratedLiquidityPool.after``) and pickled (the fork server's workers), and the
    compiled classes (``routing.native``) restore them only through ``restore_frozen``."""
    return {field.name: getattr(snapshot, field.name) for field in dataclasses.fields(snapshot)}


def restore_frozen(snapshot: object, state: dict[str, object]) -> None:
    """``__setstate__`` of a frozen dataclass pool (its own ``__setattr__`` refuses)."""
    for name, value in state.items():
        object.__setattr__(snapshot, name, value)
