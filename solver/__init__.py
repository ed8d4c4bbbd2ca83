"""Deciding what to settle: the solver-engine DTOs and exact auction/solution models, the
engines (baseline, optimal, batch), solution checks, CoW scoring and fair winner
selection, external solvers, the auctioneer, leader election, and the node (CLI).

Names are re-exported lazily (PEP 562): ``tributary --help`` imports ``solver.cli`` and
must not pay for OR-Tools, web3 and aiohttp.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Auctioneer": "auctioneer",
    "AuctioneerConfig": "auctioneer",
    "RoundReport": "auctioneer",
    "SolutionRejected": "checks",
    "ConditionalReleaser": "conditional_release",
    "PriceSource": "conditional_release",
    "check_solution": "checks",
    "verify_solution": "checks",
    "Bid": "competition",
    "Ranking": "competition",
    "arbitrate": "competition",
    "ExternalSolver": "external",
    "AlwaysLeader": "leader",
    "Leadership": "leader",
    "PostgresLeader": "leader",
    "leadership_for": "leader",
    "ChainLiquidity": "liquidity_source",
    "FileLiquidity": "liquidity_source",
    "LiquiditySource": "liquidity_source",
    "Auction": "model",
    "Order": "model",
    "Solution": "model",
    "Token": "model",
    "Trade": "model",
    "load_auction": "auction_file",
    "solution_to_dto": "dto_convert",
    "run_node": "node",
    "RoutingQuoter": "quoter",
    "SolutionScore": "scoring",
    "score_trades": "scoring",
    "make_app": "solve_api",
    "Engine": "engines",
    "make_engine": "engines",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'solver' has no attribute {name!r}")
    return getattr(importlib.import_module(f"solver.{module}"), name)
