"""The solver-engine format's liquidity and tokens as the domain auction (``solver.dto_convert``):
one builder per pool kind, exact decimal strings, entries routing cannot model skipped."""

from __future__ import annotations

import json
from typing import Any

from routing.balancer_weighted import WeightedPool
from routing.fixed_point import ONE
from routing.limit_order import LimitOrderPool
from routing.pool import TokenAddress
from routing.stable import StablePool
from routing.uniswap_v2 import ConstantProductPool
from routing.uniswap_v3 import ConcentratedLiquidityPool
from solver import dto
from solver.dto_convert import auction_from_dto
from solver.model import Auction

WETH = TokenAddress("0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2")
USDC = TokenAddress("0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48")
DAI = TokenAddress("0x6b175474e89094c44da98b954eedeac495271d0f")


def solver_doc() -> dict[str, Any]:
    return {
        "id": "1",
        "tokens": {
            "0x" + WETH[2:].upper(): {
                "decimals": 18,
                "symbol": "WETH",
                "referencePrice": "1000000000000000000",
                "availableBalance": "0",
                "trusted": True,
            },
            USDC: {
                "decimals": 6,
                "symbol": "USDC",
                "referencePrice": "0x" + format(600_000_000 * 10**18 // 10**6, "x"),
                "availableBalance": "0",
                "trusted": True,
            },
        },
        "orders": [],
        "liquidity": [
            {
                "kind": "constantProduct",
                "id": "0",
                "address": "0xb4e16d0168e52d35cacd2c6185b44281ec28c9dc",
                "router": "0x7a250d5630b4cf539739df2c5dacb4c659f2488d",
                "gasEstimate": "110000",
                "tokens": {
                    WETH: {"balance": "20000000000000000000000"},
                    USDC: {"balance": "30000000000000"},
                },
                "fee": "0.003",
            },
            {
                "kind": "concentratedLiquidity",
                "id": "2",
                "address": "0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640",
                "router": "0xe592427a0aece4b73e7c63ba28e1a2e5c7bd5d78",
                "gasEstimate": "0x1adb0",
                "tokens": [WETH, USDC],
                "sqrtPrice": "1950000000000000000000000000000000",
                "liquidity": "10000000000000000000",
                "tick": 201000,
                "liquidityNet": {
                    "200000": "10000000000000000000",
                    "202000": "-10000000000000000000",
                },
                "fee": "0.0005",
            },
            {
                "kind": "weightedProduct",
                "id": "3",
                "address": "0x96646936b91d6b9d7d0c47c496afbf3d6ec7b6f8",
                "balancerPoolId": "0x" + "96" * 32,
                "gasEstimate": "88892",
                "tokens": {
                    USDC: {
                        "balance": "1000000000000",
                        "scalingFactor": "1000000000000",
                        "weight": "0.5",
                    },
                    WETH: {
                        "balance": "600000000000000000000",
                        "scalingFactor": "1",
                        "weight": "0.5",
                    },
                },
                "fee": "0.0025",
                "version": "v3Plus",
            },
            {
                "kind": "stable",
                "id": "4",
                "address": "0x06df3b2bbb68adc8b0e302443692037ed9f91b42",
                "balancerPoolId": "0x" + "06" * 32,
                "gasEstimate": "183520",
                "tokens": {
                    USDC: {"balance": "1000000000000", "scalingFactor": "1000000000000"},
                    DAI: {"balance": "1000000000000000000000000", "scalingFactor": "1.05"},
                },
                "amplificationParameter": "200.5",
                "fee": "0.0001",
            },
            {
                "kind": "limitOrder",
                "id": "1",
                "address": "0xdef1c0ded9bec7f1a1670819833240f027b25eff",
                "gasEstimate": "66358",
                "hash": "0x" + "00" * 32,
                "makerToken": WETH,
                "takerToken": USDC,
                "makerAmount": "2",
                "takerAmount": "3",
                "takerTokenFeeAmount": "0",
            },
        ],
        "effectiveGasPrice": "15000000000",
        "deadline": "2024-01-01T00:00:00Z",
        "surplusCapturingJitOrderOwners": [],
    }


def convert(doc: dict[str, Any]) -> Auction:
    return auction_from_dto(dto.decode_auction(json.dumps(doc).encode()))


def test_solver_format_pools() -> None:
    auction = convert(solver_doc())
    snap = auction.liquidity
    pool, v3, weighted, stable, order = snap.pools
    assert isinstance(v3, ConcentratedLiquidityPool)
    assert (v3.tokens, v3.fee_pips, v3.tick_spacing, v3.gas) == ((USDC, WETH), 500, 10, 97_015)
    assert v3.liquidity_net == {200000: 10**19, 202000: -(10**19)}
    assert isinstance(weighted, WeightedPool)
    assert weighted.pow_shortcuts
    assert [(t.address, t.scaling_factor, t.weight) for t in weighted.reserves] == [
        (USDC, 10**30, ONE // 2),
        (WETH, ONE, ONE // 2),
    ]
    assert weighted.fee == 25 * 10**14
    assert isinstance(stable, StablePool)
    assert stable.amp == 200_500
    assert [(t.address, t.scaling_factor) for t in stable.reserves] == [
        (DAI, 105 * 10**16),
        (USDC, 10**30),
    ]
    assert 0 < stable.amount_out(USDC, DAI, 10**6) < 10**18
    assert isinstance(pool, ConstantProductPool)
    assert pool.tokens == (USDC, WETH)
    assert pool.reserves == (30_000_000_000_000, 20_000 * 10**18)
    assert (pool.fee_num, pool.fee_den) == (3, 1000)
    # each leg is declared with its kind's cost, not the entry's gasEstimate (110,000 here),
    # as CoW's baseline does: the devnet-measured V2 swap, CoW's figures for Balancer/0x
    assert [p.gas for p in snap.pools] == [45_124, 97_015, 100_000, 183_520, 66_358]
    assert auction.gas_price == 15 * 10**9
    assert auction.tokens[WETH].symbol == "WETH"
    assert auction.tokens[USDC].reference_price == 600 * 10**12 * 10**6
    assert isinstance(order, LimitOrderPool)
    assert (order.tokens, order.taker_amount, order.maker_amount) == ((USDC, WETH), 3, 2)
    assert snap.skipped == ()


def test_composable_stable_pool_drops_its_bpt() -> None:
    doc = solver_doc()
    stable = doc["liquidity"][3]
    stable["tokens"][stable["address"]] = {"balance": "5" + "0" * 30, "scalingFactor": "1"}
    pool = convert(doc).liquidity.pools[3]
    assert isinstance(pool, StablePool)
    assert pool.tokens == (DAI, USDC)


def test_malformed_pool_is_skipped_with_a_reason() -> None:
    doc = solver_doc()
    doc["liquidity"][1]["fee"] = "0.0000005"  # half a pip: no V3 pool can have it
    snap = convert(doc).liquidity
    assert [(s.id, s.kind, s.code) for s in snap.skipped] == [
        ("2", "concentratedLiquidity", "LiquidityFormatError")
    ]
    bad = snap.skipped[0]
    assert "fee" in bad.reason
    assert len(snap.pools) == 4
    doc = solver_doc()
    doc["liquidity"][4]["takerTokenFeeAmount"] = "1"
    (fee_order,) = convert(doc).liquidity.skipped
    assert fee_order.id == "1" and "taker token fee" in fee_order.reason


def test_a_second_pool_under_an_id_already_taken_is_skipped() -> None:
    """A solution names pools by id: of two entries sharing one, the first is kept."""
    doc = solver_doc()
    first = doc["liquidity"][0]
    doc["liquidity"][2]["id"] = first["id"]
    snap = convert(doc).liquidity
    assert [(s.id, s.code) for s in snap.skipped] == [(first["id"], "DuplicateId")]
    assert len(snap.pools) == 4
    assert [p.id for p in snap.pools].count(first["id"]) == 1
    assert "already used" in snap.skipped[0].reason
