"""The mainnet auction file, and the same auction rewritten in the solver-engine format (as
CoW's driver would send it), for tests that read both formats."""

from __future__ import annotations

import json
from fractions import Fraction
from functools import cache
from typing import Any

from solver.dto_pools import decimal_string
from tests.data import MAINNET_AUCTION

MAINNET = MAINNET_AUCTION
ZERO = "0x" + "00" * 20
POOL_ID = "0x" + "00" * 32


@cache
def legacy_bytes() -> bytes:
    return MAINNET.read_bytes()


def solver_format(doc: dict[str, Any]) -> dict[str, Any]:
    """The legacy document ``doc`` as a solver-engine ``/solve`` body."""
    gas_price = Fraction(repr(doc["metadata"]["gas_price"]))
    decimals = {t.lower(): info.get("decimals") for t, info in doc["tokens"].items()}

    def gas(entry: dict[str, Any]) -> str:
        return str(round(Fraction(entry["cost"]["amount"]) / gas_price))

    def base(ident: str, kind: str, entry: dict[str, Any]) -> dict[str, Any]:
        return {"kind": kind, "id": ident, "address": entry["address"], "gasEstimate": gas(entry)}

    liquidity: list[dict[str, Any]] = []
    for ident, amm in doc["amms"].items():
        kind = amm["kind"]
        if kind == "ConstantProduct":
            entry = base(ident, "constantProduct", amm) | {
                "router": ZERO,
                "tokens": {t: {"balance": r} for t, r in amm["reserves"].items()},
                "fee": amm["fee"],
            }
        elif kind == "Concentrated":
            state = amm["pool"]["state"]
            entry = base(ident, "concentratedLiquidity", amm) | {
                "router": ZERO,
                "tokens": [t["id"] for t in amm["pool"]["tokens"]],
                "sqrtPrice": state["sqrt_price"],
                "liquidity": state["liquidity"],
                "tick": int(state["tick"]),
                "liquidityNet": state["liquidity_net"],
                "fee": amm["fee"],
            }
        elif kind == "WeightedProduct":
            entry = base(ident, "weightedProduct", amm) | {
                "balancerPoolId": POOL_ID,
                "tokens": {
                    t: {
                        "balance": r["balance"],
                        "scalingFactor": decimal_string(
                            Fraction(10**18, 10 ** decimals[t.lower()])
                        ),
                        "weight": r["weight"],
                    }
                    for t, r in amm["reserves"].items()
                },
                "fee": amm["fee"],
                "version": "v0",
            }
        else:
            rates = amm["scaling_rates"]
            entry = base(ident, "stable", amm) | {
                "balancerPoolId": POOL_ID,
                "tokens": {
                    t: {
                        "balance": b,
                        "scalingFactor": decimal_string(
                            Fraction((2 * 10**36 + int(rates[t])) // (2 * int(rates[t])), 10**18)
                        ),
                    }
                    for t, b in amm["reserves"].items()
                },
                "amplificationParameter": str(amm["amplification_parameter"]),
                "fee": amm["fee"],
            }
        liquidity.append(entry)
    orders = []
    for o in doc["orders"].values():
        uid = o["id"]
        signed_fee = int(o["fee"]["amount"])
        orders.append(
            {
                "uid": uid,
                "sellToken": o["sell_token"],
                "buyToken": o["buy_token"],
                "sellAmount": o["sell_amount"],
                "fullSellAmount": o["sell_amount"],
                "buyAmount": o["buy_amount"],
                "fullBuyAmount": o["buy_amount"],
                "validTo": int(uid[-8:], 16),
                "kind": "sell" if o["is_sell_order"] else "buy",
                "owner": "0x" + uid[66:106],
                "partiallyFillable": o["allow_partial_fill"],
                "preInteractions": [],
                "postInteractions": [],
                "sellTokenSource": "erc20",
                "buyTokenDestination": "erc20",
                "class": "market" if signed_fee else "limit",
                "appData": POOL_ID,
                "signingScheme": "eip712",
                "signature": "0x" + "00" * 65,
            }
        )
    tokens = {
        t: {
            "decimals": info.get("decimals"),
            "symbol": info.get("alias"),
            "referencePrice": None
            if info.get("external_price") is None
            else str(int(Fraction(repr(info["external_price"])) * 10**18)),
            "availableBalance": info.get("internal_buffer") or "0",
            "trusted": bool(info.get("accepted_for_internalization")),
        }
        for t, info in doc["tokens"].items()
    }
    return {
        "id": str(doc["metadata"]["auction_id"]),
        "tokens": tokens,
        "orders": orders,
        "liquidity": liquidity,
        "effectiveGasPrice": str(round(gas_price)),
        "deadline": "2023-09-05T12:00:00Z",
        "surplusCapturingJitOrderOwners": [],
    }


@cache
def solver_bytes() -> bytes:
    return json.dumps(solver_format(json.loads(legacy_bytes()))).encode()
