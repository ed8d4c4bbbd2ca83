"""Our devnet contracts for conditional orders, on anvil: ``PriceOracle`` answers as a
Chainlink aggregator (read back by ``settlement.price_oracle``) and only its owner sets it;
``DigestWallet`` accepts, under EIP-1271, digests its owner approved and its owner key's
signatures, and nothing else (checked through the node's ``RpcChainReader``)."""

from __future__ import annotations

import pytest
from web3 import Web3
from web3.exceptions import ContractLogicError

from devnet.anvil import Devnet
from devnet.solidity import own_artifact
from intents.order import SigningScheme
from intents.signing import sign
from intents.types import Address
from settlement.chain_reader import RpcChainReader
from settlement.jsonrpc import BatchingRpcClient
from settlement.price_oracle import chain_time, latest_answers


async def test_the_oracle_answers_like_an_aggregator(devnet_node: Devnet) -> None:
    oracle = own_artifact("PriceOracle")
    (address,) = devnet_node.deploy_many([(oracle, [8, 2000 * 10**8])])
    contract = devnet_node.w3.eth.contract(
        address=Web3.to_checksum_address(address), abi=oracle.abi
    )
    owner = devnet_node.call(oracle, address, "owner")[0]
    devnet_node.transact(contract.functions.setAnswer(1400 * 10**8), owner)
    with pytest.raises(ContractLogicError):  # only the owner sets the answer
        devnet_node.transact(contract.functions.setAnswer(1), devnet_node.accounts[5].address)
    async with BatchingRpcClient(devnet_node.rpc_url) as rpc:
        [answer, missing] = await latest_answers(rpc, [address, "0x" + "00" * 19 + "01"])
        now = await chain_time(rpc)
    assert missing is None
    assert answer is not None and (answer.answer, answer.decimals) == (1400 * 10**8, 8)
    assert now - 60 <= answer.updated_at <= now


async def test_the_wallet_accepts_approved_digests_and_its_owner_key(devnet_node: Devnet) -> None:
    wallet = own_artifact("DigestWallet")
    owner, stranger = devnet_node.accounts[3], devnet_node.accounts[4]
    (address,) = devnet_node.deploy_many([(wallet, [owner.address])])
    contract = devnet_node.w3.eth.contract(
        address=Web3.to_checksum_address(address), abi=wallet.abi
    )
    approved, signed = b"\x01" * 32, b"\x02" * 32
    owner_key, stranger_key = (bytes.fromhex(a.private_key[2:]) for a in (owner, stranger))
    wallet_address = Address(address)
    async with BatchingRpcClient(devnet_node.rpc_url) as rpc:
        reader = RpcChainReader(rpc, wallet_address, wallet_address)

        async def accepts(digest: bytes, signature: bytes) -> bool:
            return await reader.is_valid_eip1271(wallet_address, digest, signature, 10**6)

        assert await accepts(signed, sign(SigningScheme.EIP712, signed, owner_key))
        assert not await accepts(signed, sign(SigningScheme.EIP712, signed, stranger_key))
        assert not await accepts(approved, b"")
        with pytest.raises(ContractLogicError):  # only the wallet's owner approves
            devnet_node.transact(contract.functions.setApproval(approved, True), stranger.address)
        assert not await accepts(approved, b"")
        devnet_node.transact(contract.functions.setApproval(approved, True), owner.address)
        assert await accepts(approved, b"")
        devnet_node.transact(contract.functions.setApproval(approved, False), owner.address)
        assert not await accepts(approved, b"")
