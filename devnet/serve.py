"""The devnet ``tributary serve`` runs on when it is given no ``--rpc-url``.

``node_devnet`` starts anvil for the node's lifetime, deploys GPv2 and saves the deployment
file the node then reads like any other; for the auctioneer, ``prepare_devnet`` seeds pools
from the snapshot, funds the traders with the seeded tokens and records the pools under
``liquidity``. The composition root (``solver.node``) is the only production module that
imports this package.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path

from devnet.anvil import Devnet, Tx
from devnet.gpv2 import deploy_gpv2
from devnet.seed import default_seed_snapshot, load_snapshot, seed, select_tokens
from devnet.uniswap import ERC20
from intents.types import UINT256_MAX
from settlement.deployment import Deployment, write_private

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def node_devnet(path: Path, seed_tokens: int | None) -> Iterator[Deployment]:
    """A fresh devnet with GPv2, its deployment saved to ``path``, stopped on exit; pools
    seeded (``prepare_devnet``) unless ``seed_tokens`` is ``None``."""
    with Devnet() as devnet:
        deployment = deploy_gpv2(devnet)
        deployment.save(path)
        if seed_tokens is not None:
            prepare_devnet(devnet, deployment, path, seed_tokens)
        logger.info("devnet at %s, deployment written to %s", devnet.rpc_url, path)
        yield deployment


def prepare_devnet(devnet: Devnet, deployment: Deployment, path: Path, seed_tokens: int) -> None:
    """Seed the devnet's pools from the snapshot (WETH, base tokens and ``seed_tokens``
    more), give every trader account 10^6 whole units of each seeded token approved for the
    vault relayer, and record the pools under ``liquidity`` in the deployment JSON."""
    snapshot_path = default_seed_snapshot()
    document = json.loads(deployment.to_json())
    if snapshot_path != "none":
        snapshot = load_snapshot(snapshot_path)
        seeded = seed(devnet, deployment, snapshot, select_tokens(snapshot, seed_tokens))
        document["liquidity"] = seeded.to_dict()
        document["liquidity"]["snapshot"] = snapshot_path
        me = deployment.deployer.address
        txs = []
        for trader in deployment.accounts:
            for token in seeded.tokens.values():
                if token == deployment.weth:
                    continue
                txs.append(Tx(me, ERC20.encode_call("mint", trader.address, 10**30), token))
                txs.append(
                    Tx(
                        trader.address,
                        ERC20.encode_call("approve", deployment.vault_relayer, UINT256_MAX),
                        token,
                    )
                )
        devnet.send(txs)
    write_private(path, json.dumps(document, indent=2) + "\n")
