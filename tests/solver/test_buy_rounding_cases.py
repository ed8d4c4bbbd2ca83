"""Buy orders on the Balancer pool states of CoW's ``buy_order_rounding`` cases
(``distant_convergence``: weighted V3+, quote 7,343 wei of input short of covering;
``balancer_stable``: a three-token stable pool): filled, paying at most what CoW's baseline
pays (issue 11, item 1). Without the covering bump neither was answered."""

from __future__ import annotations

import json
from typing import Any

import pytest

from routing.pool import TokenAddress
from solver import dto
from solver.dto_convert import auction_from_dto
from solver.engines import make_engine

COW, GNO, XDAI = (
    "0x177127622c4a00f3d409b75571e12cb3c8973d3c",
    "0x9c58bacc331c9aa871afd802db6379a98e80cedb",
    "0xe91d153e0b41518a2ce8dd3d7944fa863463a97d",
)
S1, S2, BPT = (
    "0x4b1e2c2762667331bc91648052f646d1b0d35984",
    "0xcb444e90d8198415266c6a2724b7900fb12fc56e",
    "0x5c78d05b8ecf97507d1cf70646082c54faa4da95",
)


def _auction(sell: str, buy: str, sell_amount: int, buy_amount: int, pools: list[Any]) -> bytes:
    """A market buy order over ``pools``; tokens unpriced, as in CoW's cases."""
    tokens = {t for p in pools for t in p["tokens"]}
    doc = {
        "id": "1",
        "tokens": {
            t: {
                "decimals": 18,
                "referencePrice": None,
                "availableBalance": "0",
                "trusted": False,
            }
            for t in tokens
        },
        "orders": [
            {
                "uid": "0x" + "2a" * 56,
                "sellToken": sell,
                "buyToken": buy,
                "sellAmount": str(sell_amount),
                "fullSellAmount": str(sell_amount),
                "buyAmount": str(buy_amount),
                "fullBuyAmount": str(buy_amount),
                "feePolicies": [],
                "validTo": 0,
                "kind": "buy",
                "owner": "0x" + "5b" * 20,
                "partiallyFillable": False,
                "preInteractions": [],
                "postInteractions": [],
                "sellTokenSource": "erc20",
                "buyTokenDestination": "erc20",
                "class": "market",
                "appData": "0x" + "00" * 32,
                "signingScheme": "presign",
                "signature": "0x",
            }
        ],
        "liquidity": pools,
        "effectiveGasPrice": "15000000000",
        "deadline": "2106-01-01T00:00:00.000Z",
        "surplusCapturingJitOrderOwners": [],
    }
    return json.dumps(doc).encode()


def _common(ident: str, address: str, gas: int) -> dict[str, Any]:
    return {"id": ident, "address": address, "gasEstimate": str(gas)}


WEIGHTED_V3 = {
    "kind": "weightedProduct",
    "tokens": {
        COW: {"balance": "5089632258314443812936111", "scalingFactor": "1", "weight": "0.5"},
        GNO: {"balance": "3043530764763263654069", "scalingFactor": "1", "weight": "0.5"},
    },
    "fee": "0.005",
    "balancerPoolId": "0x" + "5c" * 32,
    "version": "v3Plus",
    **_common("0", "0x" + "21" * 20, 88892),
}
STABLE = {
    "kind": "stable",
    "tokens": {
        S1: {"balance": "126041615528606990697699", "scalingFactor": "1"},
        BPT: {"balance": "2596148429267369423681023550322451", "scalingFactor": "1"},
        S2: {"balance": "170162457652825667152980", "scalingFactor": "1"},
    },
    "fee": "0.0001",
    "amplificationParameter": "100.0",
    "balancerPoolId": "0x" + "5c" * 32,
    **_common("0", BPT, 183520),
}

CASES = {
    # (sell, buy, sell limit, buy amount, pool, CoW's baseline input)
    "distant_convergence": (
        GNO,
        COW,
        10**23,
        999999999999999843119,
        WEIGHTED_V3,
        601109440402472000,
    ),
    "balancer_stable": (S1, S2, 105 * 10**17, 10**19, STABLE, 9970226684231795304),
}


@pytest.mark.parametrize("engine", ["baseline", "optimal"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_buy_orders_on_cows_rounding_cases_are_filled(engine: str, case: str) -> None:
    sell, buy, limit, amount, pool, cow_input = CASES[case]
    auction = auction_from_dto(dto.decode_auction(_auction(sell, buy, limit, amount, [pool])))
    (solution,) = make_engine(engine).solve(auction)
    (trade,) = solution.trades
    assert trade.executed == amount
    (leg,) = solution.legs
    assert leg.amount_out >= amount
    # uniform clearing prices: the user pays exactly the pool's input for the amount
    assert solution.prices == {TokenAddress(sell): amount, TokenAddress(buy): leg.amount_in}
    assert leg.amount_in <= cow_input  # the user pays no more than with CoW's baseline
