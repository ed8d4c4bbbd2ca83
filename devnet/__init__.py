"""Development tooling: a local chain with the real contracts.

``anvil`` (the process and the calls that drive it), ``artifacts`` (the npm-published
contract builds), ``gpv2`` (settlement, authenticator, WETH, funded traders), ``uniswap``
(V2 and V3 factories, routers, quoter), ``seed`` and ``v3_curve`` (pools recreated from a
mainnet snapshot), ``serve`` (the devnet of ``tributary serve``) and ``cli``
(``tributary devnet``).

Production code does not import this package, except the composition root that starts a
devnet for ``tributary serve`` without ``--rpc-url``: what the node reads from a devnet is
the deployment file (``settlement.deployment``, ``settlement.chain_pools``).
"""

from devnet.anvil import Devnet, Tx
from devnet.artifacts import Artifact, ArtifactError, load_artifact
from devnet.errors import DevnetError
from devnet.gpv2 import deploy_gpv2
from devnet.seed import Seeded, SeededPool, load_seeded, load_snapshot, seed, select_tokens
from devnet.serve import node_devnet, prepare_devnet
from devnet.uniswap import UniswapV2, UniswapV3, deploy_uniswap_v2, deploy_uniswap_v3

__all__ = [
    "Artifact",
    "ArtifactError",
    "Devnet",
    "DevnetError",
    "Seeded",
    "SeededPool",
    "Tx",
    "UniswapV2",
    "UniswapV3",
    "deploy_gpv2",
    "deploy_uniswap_v2",
    "deploy_uniswap_v3",
    "load_artifact",
    "load_seeded",
    "load_snapshot",
    "node_devnet",
    "prepare_devnet",
    "seed",
    "select_tokens",
]
