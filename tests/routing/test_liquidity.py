from __future__ import annotations

import json
from collections import Counter
from fractions import Fraction
from typing import Any

import pytest

from routing.balancer_weighted import WeightedPool
from routing.fixed_point import ONE
from routing.limit_order import LimitOrderPool
from routing.liquidity import LiquidityFormatError, Snapshot, parse_snapshot
from routing.pool import InsufficientLiquidity, Pool, TokenAddress
from routing.stable import AMP_PRECISION, StablePool
from routing.tick_math import sqrt_ratio_at_tick
from routing.uniswap_v2 import ConstantProductPool
from routing.uniswap_v3 import ConcentratedLiquidityPool
from tests.data import MAINNET_AUCTION

AUCTION = MAINNET_AUCTION
WETH = TokenAddress("0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2")
USDC = TokenAddress("0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48")
DAI = TokenAddress("0x6b175474e89094c44da98b954eedeac495271d0f")


@pytest.fixture(scope="module")
def legacy_doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(AUCTION.read_text())
    return doc


@pytest.fixture(scope="module")
def legacy(legacy_doc: dict[str, Any]) -> Snapshot:
    return parse_snapshot(legacy_doc)


def kinds(pools: tuple[Pool, ...]) -> Counter[str]:
    return Counter(type(p).__name__ for p in pools)


def test_legacy_file_loads_every_pool(legacy: Snapshot, legacy_doc: dict[str, Any]) -> None:
    assert legacy.skipped == ()
    assert kinds(legacy.pools) == {
        "ConstantProductPool": 351,
        "ConcentratedLiquidityPool": 299,
        "WeightedPool": 185,
        "StablePool": 7,
    }
    assert len({p.id for p in legacy.pools}) == len(legacy.pools)
    assert legacy.native_token == WETH
    assert len(legacy.tokens) == len(legacy_doc["tokens"])


def test_legacy_tokens_and_gas(legacy: Snapshot) -> None:
    assert legacy.tokens[USDC].decimals == 6
    assert legacy.tokens[WETH].reference_price == 10**18
    assert 10**9 < legacy.gas_price < 10**12
    for pool in legacy.pools:
        # Native-token cost over the gas price: a plausible swap gas figure.
        assert 10_000 < pool.gas < 2_000_000, (pool.id, pool.gas)
        assert all(t == t.lower() and len(t) == 42 for t in pool.tokens)


def test_legacy_constant_product_matches_the_file(
    legacy: Snapshot, legacy_doc: dict[str, Any]
) -> None:
    for pool in legacy.pools:
        if not isinstance(pool, ConstantProductPool):
            continue
        amm = legacy_doc["amms"][pool.id]
        assert {t: str(r) for t, r in zip(pool.tokens, pool.reserves, strict=True)} == amm[
            "reserves"
        ]
        assert pool.tokens[0] < pool.tokens[1]
        # Exact fee: the decimal string is reproduced by the integer fraction.
        assert Fraction(pool.fee_num, pool.fee_den) == Fraction(amm["fee"])


def test_legacy_concentrated_matches_the_file(legacy: Snapshot, legacy_doc: dict[str, Any]) -> None:
    for pool in legacy.pools:
        if not isinstance(pool, ConcentratedLiquidityPool):
            continue
        state = legacy_doc["amms"][pool.id]["pool"]["state"]
        assert pool.sqrt_price_x96 == int(state["sqrt_price"])
        assert pool.liquidity == int(state["liquidity"])
        assert sum(pool.liquidity_net.values()) == 0
        # The snapshot's tick is the one its sqrt price lies in (or its upper end, where a
        # swap downwards stopped exactly on a tick: the contract then stores tick - 1).
        assert sqrt_ratio_at_tick(pool.tick) <= pool.sqrt_price_x96
        assert pool.sqrt_price_x96 <= sqrt_ratio_at_tick(pool.tick + 1)
        assert Fraction(pool.fee_pips, 10**6) == Fraction(legacy_doc["amms"][pool.id]["fee"])


def test_legacy_balancer_pools_match_the_file(legacy: Snapshot, legacy_doc: dict[str, Any]) -> None:
    for pool in legacy.pools:
        if isinstance(pool, WeightedPool):
            amm = legacy_doc["amms"][pool.id]
            assert not pool.pow_shortcuts
            for t in pool.reserves:
                assert Fraction(t.weight, ONE) == Fraction(amm["reserves"][t.address]["weight"])
                assert str(t.balance) == amm["reserves"][t.address]["balance"]
                decimals = legacy.tokens[t.address].decimals
                assert decimals is not None
                # Upscaling one whole token gives 1e18.
                assert t.scaling_factor * 10**decimals == ONE * ONE
        elif isinstance(pool, StablePool):
            amm = legacy_doc["amms"][pool.id]
            assert pool.amp == int(amm["amplification_parameter"]) * AMP_PRECISION
            assert Fraction(pool.fee, ONE) == Fraction(amm["fee"])
            for token in pool.reserves:
                # Rounded to the nearest integer factor: within half a unit of 1e36 / rate.
                rate = int(amm["scaling_rates"][token.address])
                assert abs(2 * (token.scaling_factor * rate - ONE * ONE)) <= rate
        else:
            continue
        addresses = [t.address for t in pool.reserves]
        assert addresses == sorted(addresses)


def test_legacy_pools_quote_a_small_trade(legacy: Snapshot) -> None:
    """Every pool in the real file trades a small amount both ways, or refuses it cleanly."""
    quoted = 0
    for pool in legacy.pools:
        a, b = pool.tokens[0], pool.tokens[1]
        for t_in, t_out in ((a, b), (b, a)):
            try:
                out = pool.amount_out(t_in, t_out, 10**6)
            except InsufficientLiquidity:
                continue
            quoted += 1
            assert out >= 0
    assert quoted > len(legacy.pools)


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
                "tick": "201000",
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


def test_solver_format_pools() -> None:
    snap = parse_snapshot(solver_doc())
    pool, v3, weighted, stable, order = snap.pools
    assert isinstance(v3, ConcentratedLiquidityPool)
    assert (v3.tokens, v3.fee_pips, v3.tick_spacing, v3.gas) == ((USDC, WETH), 500, 10, 110_000)
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
    assert pool.gas == 110_000
    assert snap.gas_price == 15 * 10**9
    assert snap.tokens[WETH].symbol == "WETH"
    assert snap.tokens[USDC].reference_price == 600 * 10**12 * 10**6
    assert isinstance(order, LimitOrderPool)
    assert (order.tokens, order.taker_amount, order.maker_amount) == ((USDC, WETH), 3, 2)
    assert snap.skipped == ()


def test_composable_stable_pool_drops_its_bpt() -> None:
    doc = solver_doc()
    stable = doc["liquidity"][3]
    stable["tokens"][stable["address"]] = {"balance": "5" + "0" * 30, "scalingFactor": "1"}
    pool = parse_snapshot(doc).pools[3]
    assert isinstance(pool, StablePool)
    assert pool.tokens == (DAI, USDC)


def test_malformed_pool_is_skipped_with_a_reason() -> None:
    doc = solver_doc()
    doc["liquidity"][1]["fee"] = "0.0000005"  # half a pip: no V3 pool can have it
    doc["liquidity"][4]["kind"] = "someFutureKind"
    snap = parse_snapshot(doc)
    assert [(s.id, s.code) for s in snap.skipped] == [
        ("2", "LiquidityFormatError"),
        ("1", "UnsupportedKind"),
    ]
    bad = snap.skipped[0]
    assert bad.code == "LiquidityFormatError" and "fee" in bad.reason
    assert len(snap.pools) == 3
    doc = solver_doc()
    doc["liquidity"][4]["takerTokenFeeAmount"] = "1"
    (fee_order,) = parse_snapshot(doc).skipped
    assert fee_order.id == "1" and "taker token fee" in fee_order.reason


def test_unknown_format_is_refused() -> None:
    with pytest.raises(LiquidityFormatError):
        parse_snapshot({"orders": []})


@pytest.mark.parametrize(
    "doc",
    [
        {"amms": {}, "metadata": {}},  # no gas price
        {"amms": {}, "metadata": {"gas_price": "1"}},  # no tokens
        {"amms": [], "tokens": {}, "metadata": {"gas_price": "1"}},  # amms not an object
        {"amms": {}, "tokens": {"0x1": {}}, "metadata": {"gas_price": "1"}},  # bad address
        {"amms": {}, "tokens": {}, "metadata": {"gas_price": "one"}},
        {"liquidity": [], "tokens": {}},  # no gas price
        {"liquidity": [{"kind": "stable"}], "tokens": {}, "effectiveGasPrice": "1"},  # no id
        {"liquidity": {}, "tokens": [], "effectiveGasPrice": "1"},
        [1, 2],
    ],
)
def test_a_malformed_auction_is_a_format_error(doc: Any) -> None:
    with pytest.raises(LiquidityFormatError):
        parse_snapshot(doc)
