"""Shared fixtures: one anvil devnet with the GPv2 contracts for the whole test session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings

# Hypothesis: no per-example deadline (speed is measured in bench/, and a loaded 2-core
# machine would make timing failures noise). In CI (CI=true) the examples are derandomized,
# so a landing is judged on the same cases every time; locally they stay random, so new
# counterexamples keep being found (and are replayed from .hypothesis/).
settings.register_profile("dev", deadline=None, print_blob=True)
settings.register_profile("ci", deadline=None, print_blob=True, derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

# The fixtures import settlement themselves: web3 takes seconds to import, and test
# sessions that never touch the chain should not pay for it.
if TYPE_CHECKING:
    from devnet.anvil import Devnet
    from devnet.uniswap import UniswapV2, UniswapV3
    from settlement.deployment import Deployment


@pytest.fixture(scope="session")
def devnet_node() -> Iterator[Devnet]:
    """The running anvil (web3 at ``.w3``, ``deploy_many``, ``transact``, ``rpc``)."""
    from devnet.anvil import Devnet

    with Devnet() as node:
        yield node


@pytest.fixture(scope="session")
def devnet(devnet_node: Devnet) -> Deployment:
    """Addresses and accounts of the GPv2 deployment on the session's devnet."""
    from devnet.gpv2 import deploy_gpv2

    return deploy_gpv2(devnet_node)


@pytest.fixture(scope="session")
def uniswap_v2(devnet_node: Devnet, devnet: Deployment) -> UniswapV2:
    """Uniswap V2 factory and router on the session's devnet (no pairs yet)."""
    from devnet.uniswap import deploy_uniswap_v2

    return deploy_uniswap_v2(devnet_node, devnet.weth)


@pytest.fixture(scope="session")
def uniswap_v3(devnet_node: Devnet, devnet: Deployment) -> UniswapV3:
    """Uniswap V3 factory, position manager, quoter and router (no pools yet)."""
    from devnet.uniswap import deploy_uniswap_v3

    return deploy_uniswap_v3(devnet_node, devnet.weth)


@pytest.fixture
def chain_state(
    devnet_node: Devnet, devnet: Deployment, uniswap_v2: UniswapV2, uniswap_v3: UniswapV3
) -> Iterator[Devnet]:
    """Snapshot the chain before the test and revert it after, so tests can transact freely.

    Every session-wide deployment happens before the first snapshot, so none is reverted.
    """
    snapshot = devnet_node.snapshot()
    yield devnet_node
    devnet_node.revert(snapshot)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses the devnet with ``devnet`` (select with ``-m devnet``)."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if {"devnet", "devnet_node", "chain_state", "uniswap_v2", "uniswap_v3"} & used:
            item.add_marker(pytest.mark.devnet)
