"""Pure routing core: exact pool math, liquidity snapshots, graph search and optimization."""

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
