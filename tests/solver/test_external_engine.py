"""The external client against our own solver-engine app (``solver.solve_api``) serving a
real engine: what comes back over HTTP passes the checks and scores above zero."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import aiohttp
from aiohttp.test_utils import TestServer

from solver import dto
from solver.checks import check_solution
from solver.dto_convert import auction_from_dto
from solver.engines import make_engine
from solver.external import ExternalSolver
from solver.scoring import score_trades
from solver.solve_api import make_app
from tests.solver.test_dto import A as TOKEN_A
from tests.solver.test_dto import B as TOKEN_B
from tests.solver.test_dto import _order

E18 = 10**18


def small_auction() -> dto.Auction:
    """One market order selling 1 A for at least 0.9 B, and a deep 1:1 A/B pair."""
    doc = {
        "id": "1",
        "tokens": {
            token: {
                "decimals": 18,
                "symbol": symbol,
                "referencePrice": str(E18),
                "availableBalance": "0",
                "trusted": False,
            }
            for token, symbol in ((TOKEN_A, "A"), (TOKEN_B, "B"))
        },
        "orders": [
            _order(
                sellAmount=str(E18),
                fullSellAmount=str(E18),
                buyAmount=str(9 * E18 // 10),
                fullBuyAmount=str(9 * E18 // 10),
                feePolicies=[],
                preInteractions=[],
                **{"class": "market"},
            )
        ],
        "liquidity": [
            {
                "kind": "constantProduct",
                "id": "pair-ab",
                "address": "0x" + "cd" * 20,
                "router": "0x" + "ef" * 20,
                "gasEstimate": "110000",
                "tokens": {
                    TOKEN_A: {"balance": str(1000 * E18)},
                    TOKEN_B: {"balance": str(1000 * E18)},
                },
                "fee": "0.003",
            }
        ],
        "effectiveGasPrice": "1000000000",
        "deadline": (datetime.now(UTC) + timedelta(seconds=20)).isoformat(),
        "surplusCapturingJitOrderOwners": [],
    }
    return dto.decode_auction(json.dumps(doc).encode())


async def test_our_engine_over_http_passes_the_checks() -> None:
    server = TestServer(make_app([make_engine("baseline")]))
    await server.start_server()
    try:
        wire = small_auction()
        async with aiohttp.ClientSession() as session:
            solutions = await ExternalSolver("ours", str(server.make_url("/"))).solve(session, wire)
    finally:
        await server.close()
    auction = auction_from_dto(wire)
    assert solutions
    for solution in solutions:
        checked = check_solution(auction, solution, solver="ours")
        (trade,) = checked
        # the pool pays about 0.996 B for 1 A: well above the 0.9 B limit
        assert 99 * E18 // 100 < trade.bought < E18
        assert score_trades(checked, auction).total > 0
