from __future__ import annotations

import json
from collections import Counter
from fractions import Fraction
from typing import Any

import pytest

from routing.balancer_weighted import WeightedPool
from routing.fixed_point import ONE
from routing.liquidity import Snapshot, parse_snapshot
from routing.pool import InsufficientLiquidity, LiquidityFormatError, Pool, TokenAddress
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


def test_a_document_without_amms_is_refused() -> None:
    with pytest.raises(LiquidityFormatError):
        parse_snapshot({"orders": []})
    with pytest.raises(LiquidityFormatError):  # the solver-engine format is the DTOs' job
        parse_snapshot({"orders": [], "liquidity": [], "tokens": {}})


@pytest.mark.parametrize(
    "doc",
    [
        {"amms": {}, "metadata": {}},  # no gas price
        {"amms": {}, "metadata": {"gas_price": "1"}},  # no tokens
        {"amms": [], "tokens": {}, "metadata": {"gas_price": "1"}},  # amms not an object
        {"amms": {}, "tokens": {"0x1": {}}, "metadata": {"gas_price": "1"}},  # bad address
        {"amms": {}, "tokens": {}, "metadata": {"gas_price": "one"}},
        [1, 2],
    ],
)
def test_a_malformed_auction_is_a_format_error(doc: Any) -> None:
    with pytest.raises(LiquidityFormatError):
        parse_snapshot(doc)
