"""A sentence of a route's explanation that keeps its tokens, amounts and rates apart.

As a ``str`` a ``Reason`` reads as it always has, with raw addresses and base units (what
``tributary route --json`` prints and scripts may parse); its ``parts`` let a reader that
knows the tokens' symbols and decimals say the same in human units
(``solver.route_cli``: "1,611.27 USDC per WETH").
"""

from __future__ import annotations

from dataclasses import dataclass

from routing.pool import TokenAddress


@dataclass(frozen=True, slots=True)
class Token:
    address: TokenAddress


@dataclass(frozen=True, slots=True)
class Amount:
    """``amount`` base units of ``token``."""

    amount: int
    token: TokenAddress


@dataclass(frozen=True, slots=True)
class Rate:
    """``value`` base units of ``token_out`` per base unit of ``token_in``."""

    value: float
    token_in: TokenAddress
    token_out: TokenAddress


Part = str | Token | Amount | Rate


def raw(part: Part) -> str:
    """``part`` as the explanation always wrote it: addresses and base units."""
    if isinstance(part, Token):
        return part.address
    if isinstance(part, Amount):
        return str(part.amount)
    if isinstance(part, Rate):
        return f"{part.value:.6g}"
    return part


class Reason(str):
    """A sentence whose ``parts`` are text, tokens, amounts and rates."""

    parts: tuple[Part, ...]

    def __new__(cls, *parts: Part) -> Reason:
        reason = super().__new__(cls, "".join(raw(p) for p in parts))
        reason.parts = parts
        return reason
