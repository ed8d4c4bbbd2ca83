"""The GPv2 contracts on a devnet: authenticator, settlement, WETH and test tokens.

``deploy_gpv2(devnet)`` deploys the npm-published builds (and our hooks trampoline,
``devnet/contracts/HooksTrampoline.sol``) and returns a ``Deployment``:
every address, key and constant the node needs, serialisable to the JSON file that
``tributary devnet`` writes and ``serve`` reads.

Roles on the devnet (anvil's default mnemonic accounts, all unlocked): account 0 deploys
everything, is the authenticator's manager and the tokens' minter; account 1 is the
allow-listed solver; the rest are traders holding every token and WETH, each having
approved the vault relayer for the maximum amount.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from devnet.anvil import DEPLOY_GAS, Devnet, Tx
from devnet.artifacts import (
    COW,
    OPENZEPPELIN,
    UNISWAP_V2_PERIPHERY,
    UNISWAP_V3_PERIPHERY,
    load_artifact,
)
from devnet.errors import DevnetError
from devnet.solidity import own_artifact
from intents.types import UINT256_MAX, ZERO_ADDRESS, TokenAddress, to_address
from settlement.deployment import Deployment

logger = logging.getLogger(__name__)


def deploy_gpv2(
    devnet: Devnet,
    token_symbols: Sequence[str] = ("TKA", "TKB", "TKC"),
    token_amount: int = 10**24,
    weth_amount: int = 100 * 10**18,
) -> Deployment:
    """Deploy the authenticator, the settlement (with its vault relayer), WETH9 and
    mintable 18-decimal test tokens; fund and approve the trader accounts."""
    if len(devnet.accounts) < 3:
        raise DevnetError("need a deployer, a solver and at least one trader account")
    deployer, solver, *traders = devnet.accounts
    me = deployer.address
    auth_art = load_artifact(COW, "GPv2AllowListAuthentication")
    settle_art = load_artifact(COW, "GPv2Settlement")
    weth_art = load_artifact(UNISWAP_V2_PERIPHERY, "WETH9")
    token_art = load_artifact(OPENZEPPELIN, "ERC20PresetMinterPauser")
    multicall_art = load_artifact(UNISWAP_V3_PERIPHERY, "UniswapInterfaceMulticall")

    authenticator, weth, multicall, *token_addresses = devnet.deploy_many(
        [(auth_art, ()), (weth_art, ()), (multicall_art, ())]
        + [(token_art, (f"Test {s}", s)) for s in token_symbols]
    )
    tokens = {s: TokenAddress(a) for s, a in zip(token_symbols, token_addresses, strict=True)}
    # The vault is only used for Balancer internal/external balances; erc20-balance
    # orders never touch it, so no Balancer vault is deployed.
    settle_tx = Tx(me, settle_art.encode_deploy(authenticator, ZERO_ADDRESS), gas=DEPLOY_GAS)
    receipts = devnet.send(
        [
            Tx(me, auth_art.encode_call("initializeManager", me), authenticator),
            Tx(me, auth_art.encode_call("addSolver", solver.address), authenticator),
            settle_tx,
        ]
    )
    settlement = to_address(receipts[2]["contractAddress"])
    (relayer,) = devnet.call(settle_art, settlement, "vaultRelayer")
    (domain_separator,) = devnet.call(settle_art, settlement, "domainSeparator")
    relayer = to_address(relayer)
    (trampoline,) = devnet.deploy_many([(own_artifact("HooksTrampoline"), (settlement,))])

    funding = []
    for trader in traders:
        who = trader.address
        for token in token_addresses:
            funding.append(Tx(me, token_art.encode_call("mint", who, token_amount), token))
            funding.append(Tx(who, token_art.encode_call("approve", relayer, UINT256_MAX), token))
        funding.append(Tx(who, weth_art.encode_call("deposit"), weth, value=weth_amount))
        funding.append(Tx(who, weth_art.encode_call("approve", relayer, UINT256_MAX), weth))
    devnet.send(funding)

    deployment = Deployment(
        rpc_url=devnet.rpc_url,
        chain_id=devnet.chain_id,
        settlement=settlement,
        vault_relayer=relayer,
        authenticator=authenticator,
        weth=TokenAddress(weth),
        tokens=tokens,
        accounts=tuple(traders),
        deployer=deployer,
        solver=solver,
        domain_separator=bytes(domain_separator),
        multicall=multicall,
        genesis_hash=bytes.fromhex(devnet.rpc("eth_getBlockByNumber", "0x0", False)["hash"][2:]),
        hooks_trampoline=to_address(trampoline),
    )
    logger.info(
        "GPv2 deployed: settlement %s, vault relayer %s, hooks trampoline %s, authenticator "
        "%s, WETH %s, tokens %s, %d funded traders",
        settlement,
        relayer,
        trampoline,
        authenticator,
        weth,
        tokens,
        len(traders),
    )
    return deployment
