"""The pools of a deployment file, as the node reads them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from settlement.chain_pools import PoolList
from settlement.interactions import PoolKind

V2_ROUTER, V3_ROUTER = "0x" + "a2" * 20, "0x" + "a3" * 20
T0, T1 = "0x" + "01" * 20, "0x" + "02" * 20


def _liquidity() -> dict[str, Any]:
    return {
        "uniswapV2": {"factory": "0x" + "f2" * 20, "router": "0x" + "A2" * 20},
        "uniswapV3": {"factory": "0x" + "f3" * 20, "router": V3_ROUTER, "quoter": "0x" + "99" * 20},
        "tokens": {},
        "pools": [
            {"kind": "uniswap_v2", "address": "0x" + "b2" * 20, "token0": T0, "token1": T1,
             "fee": 3000, "ticks": [], "mainnetAddress": "0x" + "c2" * 20},
            {"kind": "uniswap_v3", "address": "0x" + "b3" * 20, "token0": T0, "token1": T1,
             "fee": 500, "ticks": [-10, 20]},
        ],
    }  # fmt: skip


def test_each_pool_gets_the_router_of_its_kind() -> None:
    """Addresses come out lowercase, routers once per kind in the file."""
    listed = PoolList.from_dict(_liquidity())
    v2, v3 = listed.pools
    assert (v2.kind, v2.router, v2.ticks) == (PoolKind.UNISWAP_V2, V2_ROUTER, ())
    assert (v3.kind, v3.router, v3.ticks, v3.fee) == (
        PoolKind.UNISWAP_V3,
        V3_ROUTER,
        (-10, 20),
        500,
    )
    assert listed.v3_router == V3_ROUTER
    assert (v2.token0, v2.token1) == (T0, T1)


def test_a_leg_through_a_pool_carries_the_fee_tier_only_for_v3() -> None:
    v2, v3 = PoolList.from_dict(_liquidity()).pools
    assert v2.leg(T0, T1, 10, 9).fee == 0
    leg = v3.leg(T1, T0, 10, 9)
    assert (leg.fee, leg.pool, leg.token_in, leg.amount_out) == (500, v3.address, T1, 9)


def test_a_deployment_without_liquidity_lists_no_pools(tmp_path: Path) -> None:
    path = tmp_path / "deployment.json"
    path.write_text(json.dumps({"chainId": 1}))
    assert PoolList.load(path) == PoolList((), None)
    path.write_text(json.dumps({"chainId": 1, "liquidity": _liquidity()}))
    assert PoolList.load(path) == PoolList.from_dict(_liquidity())


@pytest.mark.parametrize(
    "break_it",
    [
        lambda d: d.pop("uniswapV3"),
        lambda d: d["pools"][0].update(kind="balancer"),
        lambda d: d["pools"][1].update(address="0x12"),
        lambda d: d["pools"][1].pop("token1"),
    ],
)
def test_a_malformed_liquidity_member_is_a_value_error(break_it: Any) -> None:
    raw = _liquidity()
    break_it(raw)
    with pytest.raises(ValueError, match=r"liquidity|address"):
        PoolList.from_dict(raw)
