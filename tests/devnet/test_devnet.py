from __future__ import annotations

import os

import pytest
from eth_account import Account as EthAccount

from devnet.anvil import Devnet, Tx, cs
from devnet.artifacts import COW, OPENZEPPELIN, ArtifactError, load_artifact
from devnet.errors import DevnetError
from devnet.solidity import own_artifact
from intents.types import UINT256_MAX, to_address
from settlement.deployment import Deployment


def test_artifacts_of_every_layout_load() -> None:
    cow = load_artifact(COW, "GPv2Settlement")
    waffle = load_artifact("@uniswap/v2-core", "UniswapV2Factory")
    hardhat_nested = load_artifact("@uniswap/v3-core", "UniswapV3Factory")
    truffle = load_artifact(OPENZEPPELIN, "ERC20PresetMinterPauser")
    for art in (cow, waffle, hardhat_nested, truffle):
        assert len(art.bytecode) > 1000
        assert art.bytecode.hex() in art.path.read_text().lower()
        assert any(e.get("type") == "function" for e in art.abi)
    assert hardhat_nested.path.name == "UniswapV3Factory.json"
    assert load_artifact(COW, "GPv2Settlement") is cow  # cached
    assert load_artifact(COW, "EIP1271Verifier").bytecode == b""  # an interface


def test_missing_artifact_is_a_clear_error() -> None:
    with pytest.raises(ArtifactError, match="NoSuchContract"):
        load_artifact(COW, "NoSuchContract")


def test_deployment_has_code_and_answers(devnet_node: Devnet, devnet: Deployment) -> None:
    w3 = devnet_node.w3
    assert devnet.multicall is not None
    for address in (
        devnet.settlement,
        devnet.vault_relayer,
        devnet.authenticator,
        devnet.weth,
        devnet.multicall,
    ):
        assert len(w3.eth.get_code(cs(address))) > 100
    settlement = devnet_node.contract(load_artifact(COW, "GPv2Settlement"), devnet.settlement)
    assert bytes(settlement.functions.domainSeparator().call()) == devnet.domain_separator
    assert len(devnet.domain_separator) == 32
    assert to_address(settlement.functions.vaultRelayer().call()) == devnet.vault_relayer
    assert to_address(settlement.functions.authenticator().call()) == devnet.authenticator
    assert devnet.chain_id == w3.eth.chain_id == 31337
    # our hooks trampoline, bound to this settlement
    assert devnet.hooks_trampoline is not None
    (bound,) = devnet_node.call(
        own_artifact("HooksTrampoline"), devnet.hooks_trampoline, "settlement"
    )
    assert to_address(bound) == devnet.settlement


def test_solver_is_allow_listed_and_traders_are_not(
    devnet_node: Devnet, devnet: Deployment
) -> None:
    auth = devnet_node.contract(
        load_artifact(COW, "GPv2AllowListAuthentication"), devnet.authenticator
    )
    assert auth.functions.isSolver(cs(devnet.solver.address)).call() is True
    assert auth.functions.isSolver(cs(devnet.accounts[0].address)).call() is False
    assert to_address(auth.functions.manager().call()) == devnet.deployer.address


def test_traders_are_funded_and_have_approved_the_relayer(
    devnet_node: Devnet, devnet: Deployment
) -> None:
    erc20 = load_artifact(OPENZEPPELIN, "ERC20PresetMinterPauser")
    assert len(devnet.accounts) >= 2
    for trader in devnet.accounts:
        for token in (*devnet.tokens.values(), devnet.weth):
            (balance,) = devnet_node.call(erc20, token, "balanceOf", trader.address)
            assert balance > 0
            allowance = devnet_node.call(
                erc20, token, "allowance", trader.address, devnet.vault_relayer
            )
            assert allowance == (UINT256_MAX,)
        # the key really is the account's key
        assert EthAccount.from_key(trader.private_key).address.lower() == trader.address


def test_a_reverting_transaction_is_an_error(chain_state: Devnet, devnet: Deployment) -> None:
    erc20 = load_artifact(OPENZEPPELIN, "ERC20PresetMinterPauser")
    trader = devnet.accounts[0].address  # not a minter
    mint = erc20.encode_call("mint", trader, 1)
    with pytest.raises(DevnetError, match="unauthorised mint reverted"):
        chain_state.send([Tx(trader, mint, devnet.tokens["TKA"], what="unauthorised mint")])


def test_chain_state_reverts_changes(chain_state: Devnet, devnet: Deployment) -> None:
    erc20 = chain_state.contract(
        load_artifact(OPENZEPPELIN, "ERC20PresetMinterPauser"), devnet.tokens["TKA"]
    )
    trader = devnet.accounts[0].address
    before = erc20.functions.balanceOf(cs(trader)).call()
    snap = chain_state.snapshot()
    chain_state.transact(erc20.functions.transfer(cs(devnet.solver.address), 1), trader)
    assert erc20.functions.balanceOf(cs(trader)).call() == before - 1
    chain_state.revert(snap)
    assert erc20.functions.balanceOf(cs(trader)).call() == before


def test_deployment_json_round_trips(devnet: Deployment, tmp_path: object) -> None:
    assert Deployment.from_json(devnet.to_json()) == devnet
    assert '"hooksTrampoline": "0x' in devnet.to_json()
    with pytest.raises(ValueError, match="malformed"):
        Deployment.from_json('{"rpcUrl": "x"}')


def test_anvil_is_gone_after_stop() -> None:
    node = Devnet().start()
    pid = node.pid
    assert pid is not None and node.running
    assert node.w3.eth.block_number == 0
    node.stop()
    assert not node.running
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    node.stop()  # idempotent
