"""The pools a node routes through: ``ChainPool`` (what to read on chain, and how a swap
through it is executed) and ``PoolList``, the ``liquidity`` member of a deployment file.

The member is written by ``tributary devnet`` (the pools it seeded) or by hand for another
chain. Only what routing and settlement need is read from it::

    {"uniswapV2": {"router": ADDRESS, ...},
     "uniswapV3": {"router": ADDRESS, ...},
     "pools": [{"kind": "uniswap_v2" | "uniswap_v3", "address": ADDRESS,
                "token0": ADDRESS, "token1": ADDRESS, "fee": MILLIONTHS,
                "ticks": [INITIALIZED_TICK, ...]}, ...]}

Other members (factories, the quoter, the mainnet origin of each pool) are ignored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from intents.types import Address, TokenAddress, to_address
from settlement.errors import DeploymentError
from settlement.interactions import Leg, PoolKind

_KINDS = {"uniswap_v2": PoolKind.UNISWAP_V2, "uniswap_v3": PoolKind.UNISWAP_V3}


@dataclass(frozen=True, slots=True)
class ChainPool:
    """A pool on chain: its kind, tokens (sorted as the pool sorts them), fee in millionths
    and, for V3, the ticks that may be initialized."""

    kind: PoolKind
    address: Address
    token0: TokenAddress
    token1: TokenAddress
    fee: int
    router: Address
    ticks: tuple[int, ...] = ()

    def leg(self, token_in: str, token_out: str, amount_in: int, amount_out: int) -> Leg:
        return Leg(
            kind=self.kind,
            pool=self.address,
            token_in=TokenAddress(token_in),
            token_out=TokenAddress(token_out),
            amount_in=amount_in,
            amount_out=amount_out,
            fee=self.fee if self.kind is PoolKind.UNISWAP_V3 else 0,
        )


@dataclass(frozen=True, slots=True)
class PoolList:
    """The pools of a deployment and the router that executes V3 swaps (none: no pools)."""

    pools: tuple[ChainPool, ...] = ()
    v3_router: Address | None = None

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> PoolList:
        """Parse the ``liquidity`` member; ``ValueError`` on a malformed one."""
        try:
            routers = {
                PoolKind.UNISWAP_V2: to_address(raw["uniswapV2"]["router"]),
                PoolKind.UNISWAP_V3: to_address(raw["uniswapV3"]["router"]),
            }
            pools = []
            for p in raw["pools"]:
                kind = _KINDS[p["kind"]]
                pools.append(
                    ChainPool(
                        kind=kind,
                        address=to_address(p["address"]),
                        token0=TokenAddress(to_address(p["token0"])),
                        token1=TokenAddress(to_address(p["token1"])),
                        fee=int(p["fee"]),
                        router=routers[kind],
                        ticks=tuple(int(t) for t in p.get("ticks", ())),
                    )
                )
        except (KeyError, TypeError, AttributeError) as exc:
            raise DeploymentError(f"malformed liquidity in the deployment: {exc!r}") from exc
        return cls(tuple(pools), routers[PoolKind.UNISWAP_V3])

    @classmethod
    def load(cls, deployment_path: str | Path) -> PoolList:
        """The pools recorded in a deployment file (none without ``liquidity``)."""
        raw = json.loads(Path(deployment_path).read_text()).get("liquidity")
        return cls() if raw is None else cls.from_dict(raw)
