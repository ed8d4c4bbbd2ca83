"""Small synthetic markets of Uniswap V2 pools for the routing tests."""

from __future__ import annotations

from collections.abc import Sequence

from routing.graph import TokenGraph
from routing.pool import Pool, PoolId, TokenAddress
from routing.uniswap_v2 import ConstantProductPool


def token(n: int) -> TokenAddress:
    return TokenAddress(f"0x{n:040x}")


A, B, C, D = token(0xA), token(0xB), token(0xC), token(0xD)
E18 = 10**18


def pair(name: str, t0: TokenAddress, t1: TokenAddress, r0: int, r1: int) -> ConstantProductPool:
    return ConstantProductPool(PoolId(name), (t0, t1), (r0, r1))


def graph(pools: Sequence[Pool], gas_price: int = 0) -> TokenGraph:
    """All tokens priced at one native token per unit."""
    tokens = {t for p in pools for t in p.tokens}
    return TokenGraph(pools, {t: E18 for t in tokens}, gas_price=gas_price)
