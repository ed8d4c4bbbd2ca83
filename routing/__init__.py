"""Pure routing core: exact pool math, liquidity snapshots, graph search and optimization.

Names are re-exported lazily (PEP 562): importing one submodule (``routing.pool``) loads
neither networkx (the token graph) nor OR-Tools and scipy (the split optimizer).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from routing.native import prefer_source

prefer_source()  # TRIBUTARY_PURE_PYTHON=1: the .py files, not the compiled modules

if TYPE_CHECKING:
    from routing.balancer_weighted import WeightedPool, WeightedToken
    from routing.baseline import BASE_TOKENS, baseline_route, best_single_pool_route
    from routing.graph import Edge, TokenGraph
    from routing.limit_order import LimitOrderPool
    from routing.liquidity import (
        Pools,
        SkippedLiquidity,
        Snapshot,
        TokenInfo,
        collect,
        parse_snapshot,
    )
    from routing.optimizer import Router, RouterConfig
    from routing.paths import CandidateNetwork, TokenPath, candidate_network, candidate_paths
    from routing.pool import (
        InsufficientLiquidity,
        LiquidityFormatError,
        Pool,
        PoolId,
        PoolMathError,
        TokenAddress,
        UnknownToken,
    )
    from routing.route import Leg, NoRoute, OrderKind, Route
    from routing.stable import StablePool, StableToken
    from routing.uniswap_v2 import ConstantProductPool
    from routing.uniswap_v3 import ConcentratedLiquidityPool, SwapResult

_EXPORTS = {
    "WeightedPool": "balancer_weighted",
    "WeightedToken": "balancer_weighted",
    "BASE_TOKENS": "baseline",
    "baseline_route": "baseline",
    "best_single_pool_route": "baseline",
    "Edge": "graph",
    "TokenGraph": "graph",
    "LimitOrderPool": "limit_order",
    "LiquidityFormatError": "pool",
    "Pools": "liquidity",
    "collect": "liquidity",
    "SkippedLiquidity": "liquidity",
    "Snapshot": "liquidity",
    "TokenInfo": "liquidity",
    "parse_snapshot": "liquidity",
    "Router": "optimizer",
    "RouterConfig": "optimizer",
    "CandidateNetwork": "paths",
    "TokenPath": "paths",
    "candidate_network": "paths",
    "candidate_paths": "paths",
    "InsufficientLiquidity": "pool",
    "Pool": "pool",
    "PoolId": "pool",
    "PoolMathError": "pool",
    "TokenAddress": "pool",
    "UnknownToken": "pool",
    "Leg": "route",
    "NoRoute": "route",
    "OrderKind": "route",
    "Route": "route",
    "StablePool": "stable",
    "StableToken": "stable",
    "ConstantProductPool": "uniswap_v2",
    "ConcentratedLiquidityPool": "uniswap_v3",
    "SwapResult": "uniswap_v3",
}

__all__ = [
    "BASE_TOKENS",
    "CandidateNetwork",
    "ConcentratedLiquidityPool",
    "ConstantProductPool",
    "Edge",
    "InsufficientLiquidity",
    "Leg",
    "LimitOrderPool",
    "LiquidityFormatError",
    "NoRoute",
    "OrderKind",
    "Pool",
    "PoolId",
    "PoolMathError",
    "Pools",
    "Route",
    "Router",
    "RouterConfig",
    "SkippedLiquidity",
    "Snapshot",
    "StablePool",
    "StableToken",
    "SwapResult",
    "TokenAddress",
    "TokenGraph",
    "TokenInfo",
    "TokenPath",
    "UnknownToken",
    "WeightedPool",
    "WeightedToken",
    "baseline_route",
    "best_single_pool_route",
    "candidate_network",
    "candidate_paths",
    "collect",
    "parse_snapshot",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'routing' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"routing.{module}"), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
