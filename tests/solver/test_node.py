"""The node's start-up: configuration resolution and the refusal to serve the wrong chain."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import aiohttp
import pytest

from bench.intake import free_port, presign_orders
from settlement.chain_identity import ChainMismatchError
from settlement.deployment import Deployment
from settlement.jsonrpc import ChainReadError
from solver.node import DEFAULT_DATABASE, ConfigError, NodeConfig, resolve_config, run_node


def _args(**given: object) -> argparse.Namespace:
    fields: dict[str, object] = {
        "host": "127.0.0.1",
        "port": 0,
        "database": None,
        "rpc_url": None,
        "chain_id": None,
        "settlement": None,
        "deployment": None,
    }
    fields.update(given)
    return argparse.Namespace(**fields)


def test_flags_win_over_the_deployment_file(devnet: Deployment, tmp_path: Path) -> None:
    path = tmp_path / "devnet.json"
    devnet.save(path)
    config = resolve_config(_args(rpc_url="http://x:1", chain_id=5, deployment=str(path)), None)
    assert (config.rpc_url, config.chain_id, config.settlement) == (
        "http://x:1",
        5,
        devnet.settlement,
    )
    assert config.vault_relayer == devnet.vault_relayer
    assert config.genesis_hash == devnet.genesis_hash is not None  # a swapped chain is refused
    assert config.database == DEFAULT_DATABASE


def test_an_rpc_url_alone_is_not_enough() -> None:
    with pytest.raises(ConfigError):
        resolve_config(_args(rpc_url="http://127.0.0.1:8545"), None)


def _config(devnet: Deployment, tmp_path: Path, **changes: object) -> NodeConfig:
    fields: dict[str, object] = {
        "host": "127.0.0.1",
        "port": free_port(),
        "database": f"sqlite:///{tmp_path / 'book.sqlite3'}",
        "rpc_url": devnet.rpc_url,
        "chain_id": devnet.chain_id,
        "settlement": devnet.settlement,
        "vault_relayer": None,
    }
    fields.update(changes)
    return NodeConfig(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "changes",
    [{"chain_id": 1}, {"settlement": "0x" + "11" * 20}, {"genesis_hash": b"\x01" * 32}],
    ids=["wrong chain id", "not the settlement contract", "another chain with the same id"],
)
async def test_refuses_to_serve_a_chain_that_is_not_the_configured_one(
    devnet: Deployment, tmp_path: Path, changes: dict[str, object]
) -> None:
    config = _config(devnet, tmp_path, **changes)
    with pytest.raises(ChainMismatchError):
        await run_node(config, asyncio.Event())
    assert not (tmp_path / "book.sqlite3").exists()  # nothing opened, nothing listening


async def test_refuses_to_start_when_the_chain_does_not_answer(
    devnet: Deployment, tmp_path: Path
) -> None:
    config = _config(devnet, tmp_path, rpc_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ChainReadError):
        await run_node(config, asyncio.Event())
    assert not (tmp_path / "book.sqlite3").exists()


async def test_serves_until_stopped_with_the_vault_relayer_read_from_chain(
    devnet: Deployment, tmp_path: Path
) -> None:
    config = _config(devnet, tmp_path)
    stop = asyncio.Event()
    node = asyncio.create_task(run_node(config, stop))
    url = f"http://127.0.0.1:{config.port}/healthz"
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            try:
                async with http.get(url) as response:
                    assert await response.json() == {
                        "status": "ok",
                        "checks": {"database": "ok", "chain": "ok"},
                    }
                    break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)
        else:
            pytest.fail("node never answered /healthz")
        # Accepted only if the allowance was read for the right vault relayer.
        [order] = presign_orders(devnet, 1, seed=99)
        async with http.post(
            f"http://127.0.0.1:{config.port}/api/v1/orders",
            data=order,
            headers={"Content-Type": "application/json"},
        ) as response:
            assert response.status == 201, await response.text()
    stop.set()
    await asyncio.wait_for(node, 10)
