"""Shared devnet setup of the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from devnet.anvil import Devnet
from devnet.gpv2 import deploy_gpv2
from devnet.uniswap import create_v2_pair, deploy_uniswap_v2, mint, wrap_eth
from intents.types import TokenAddress
from settlement.chain_pools import ChainPool
from settlement.deployment import Deployment
from settlement.interactions import PoolKind

E18 = 10**18


@dataclass(frozen=True)
class Market:
    devnet: Devnet
    deployment: Deployment
    path: Path
    """Where the deployment is saved (for ``NetworkSettings.deployment``)."""
    pools: tuple[ChainPool, ...]

    @property
    def tka(self) -> TokenAddress:
        return self.deployment.tokens["TKA"]

    @property
    def tkb(self) -> TokenAddress:
        return self.deployment.tokens["TKB"]


@contextmanager
def devnet_market(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Market]:
    """A fresh devnet: GPv2 and WETH/TKA, WETH/TKB Uniswap V2 pairs (1 TKA = 1 TKB = 0.001
    WETH); the deployment's traders hold and have approved TKA and TKB."""
    with Devnet() as devnet:
        deployment = deploy_gpv2(devnet, ("TKA", "TKB"))
        v2 = deploy_uniswap_v2(devnet, deployment.weth)
        me = deployment.deployer.address
        pools = []
        for symbol in ("TKA", "TKB"):
            token = deployment.tokens[symbol]
            mint(devnet, token, me, 10**6 * E18)
            wrap_eth(devnet, deployment.weth, me, 1000 * E18)
            pair = create_v2_pair(devnet, v2, token, deployment.weth, 10**6 * E18, 1000 * E18)
            t0, t1 = sorted((token, deployment.weth), key=lambda a: int(a, 16))
            pools.append(ChainPool(PoolKind.UNISWAP_V2, pair, t0, t1, 3000, v2.router))
        path = tmp_path_factory.mktemp("devnet") / "devnet.json"
        deployment.save(path)
        yield Market(devnet, deployment, path, tuple(pools))
