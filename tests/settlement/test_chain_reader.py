from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import pytest
from eth_utils import keccak

from devnet.anvil import Devnet, Tx
from devnet.artifacts import COW, OPENZEPPELIN, load_artifact
from intents.chain import ChainReader, Funds
from intents.types import Address, OrderUid, TokenAddress
from settlement.chain_identity import ChainMismatchError, verify_chain
from settlement.chain_reader import (
    ALLOWANCE,
    BALANCE_OF,
    DOMAIN_SEPARATOR,
    IS_VALID_SIGNATURE,
    PRE_SIGNATURE,
    PRE_SIGNED,
    RpcChainReader,
)
from settlement.deployment import Deployment
from settlement.jsonrpc import BatchingRpcClient, ChainReadError

ERC20 = load_artifact(OPENZEPPELIN, "ERC20PresetMinterPauser")
SETTLEMENT = load_artifact(COW, "GPv2Settlement")
GAS_CAP = 100_000


def accepting_wallet(digest: bytes) -> str:
    """Runtime code of a minimal EIP-1271 wallet (hand-assembled): ``isValidSignature``
    returns the magic value iff the digest argument equals ``digest``, else 32 zero bytes."""
    return (
        "0x"
        + (
            b"\x7f"
            + digest  # PUSH32 digest
            + bytes.fromhex("60043514602d57")  # CALLDATALOAD(4) EQ, JUMPI ok
            + bytes.fromhex("60206000f3")  # RETURN(0, 32): zeros
            + bytes.fromhex("5b631626ba7e60e01b60005260206000f3")  # ok: RETURN magic
        ).hex()
    )


GAS_BURNER = "0x5b600056"  # JUMPDEST PUSH1 0 JUMP: loops until out of gas


def reader_for(devnet: Deployment, client: BatchingRpcClient) -> RpcChainReader:
    return RpcChainReader(client, devnet.settlement, devnet.vault_relayer)


@pytest.fixture(params=["json-rpc batch", "multicall"])
def packing(request: pytest.FixtureRequest, devnet: Deployment) -> dict[str, Any]:
    """Client options: reads as separate eth_calls, or packed into multicalls."""
    return {} if request.param == "json-rpc batch" else {"multicall": devnet.multicall}


def uid_for(owner: Address, tag: int) -> OrderUid:
    return OrderUid(keccak(tag.to_bytes(32, "big")) + bytes.fromhex(owner[2:]) + b"\xff" * 4)


def test_selectors_and_constants_match_the_contracts() -> None:
    for selector, artifact, name in [
        (BALANCE_OF, ERC20, "balanceOf"),
        (ALLOWANCE, ERC20, "allowance"),
        (PRE_SIGNATURE, SETTLEMENT, "preSignature"),
        (DOMAIN_SEPARATOR, SETTLEMENT, "domainSeparator"),
    ]:
        fn = artifact.function(name)
        signature = f"{name}({','.join(i['type'] for i in fn['inputs'])})"
        assert keccak(text=signature)[:4] == selector
    assert keccak(text="isValidSignature(bytes32,bytes)")[:4] == IS_VALID_SIGNATURE
    assert keccak(text="GPv2Signing.Scheme.PreSign") == PRE_SIGNED


def test_the_adapter_satisfies_the_protocol(devnet: Deployment) -> None:
    reader: ChainReader = reader_for(devnet, BatchingRpcClient(devnet.rpc_url))
    assert reader is not None


async def test_concurrent_funds_queries_travel_in_one_batch(
    devnet_node: Devnet, devnet: Deployment, packing: dict[str, Any]
) -> None:
    stranger = Address("0x" + "ab" * 20)
    owners = [a.address for a in devnet.accounts] + [stranger]
    tokens = [*devnet.tokens.values(), devnet.weth]
    queries = [(o, t) for o in owners for t in tokens]
    async with BatchingRpcClient(devnet.rpc_url, window=0.25, **packing) as client:
        reader = reader_for(devnet, client)
        answers = await asyncio.gather(*(reader.funds([q]) for q in queries))
        assert client.batches_sent == 1
        assert client.calls_sent == 2 * len(queries)
    for (owner, token), [funds] in zip(queries, answers, strict=True):
        (balance,) = devnet_node.call(ERC20, token, "balanceOf", owner)
        (allowance,) = devnet_node.call(ERC20, token, "allowance", owner, devnet.vault_relayer)
        assert funds == Funds(balance, allowance)
    assert answers[-1] == [Funds(0, 0)]  # the stranger
    assert answers[0][0].balance > 0


async def test_funds_follow_the_chain(
    chain_state: Devnet, devnet: Deployment, packing: dict[str, Any]
) -> None:
    trader, receiver = devnet.accounts[0].address, devnet.accounts[1].address
    token = devnet.tokens["TKB"]
    chain_state.send(
        [
            Tx(trader, ERC20.encode_call("approve", devnet.vault_relayer, 12345), token),
            Tx(trader, ERC20.encode_call("transfer", receiver, 10**20), token),
        ]
    )
    async with BatchingRpcClient(devnet.rpc_url, **packing) as client:
        [a, b] = await reader_for(devnet, client).funds([(trader, token), (receiver, token)])
    assert a.allowance == 12345
    assert b.balance - a.balance == 2 * 10**20


async def test_identical_queries_in_a_window_are_sent_once(devnet: Deployment) -> None:
    query = (devnet.accounts[0].address, devnet.tokens["TKA"])
    async with BatchingRpcClient(devnet.rpc_url, window=0.25) as client:
        answers = await asyncio.gather(
            *(reader_for(devnet, client).funds([query]) for _ in range(50))
        )
        assert client.calls_sent == 2
    assert len(set(a[0] for a in answers)) == 1


async def test_tokens_without_code_or_the_function_have_no_funds(
    devnet: Deployment, packing: dict[str, Any]
) -> None:
    owner = devnet.accounts[0].address
    no_code = TokenAddress("0x" + "12" * 20)
    not_a_token = TokenAddress(devnet.authenticator)  # reverts on balanceOf
    async with BatchingRpcClient(devnet.rpc_url, **packing) as client:
        funds = await reader_for(devnet, client).funds([(owner, no_code), (owner, not_a_token)])
    assert funds == [Funds(0, 0), Funds(0, 0)]


async def test_pre_signature_is_read_from_the_settlement(
    chain_state: Devnet, devnet: Deployment, packing: dict[str, Any]
) -> None:
    owner = devnet.accounts[0].address
    signed, other = uid_for(owner, 1), uid_for(owner, 2)
    async with BatchingRpcClient(devnet.rpc_url, **packing) as client:
        reader = reader_for(devnet, client)
        assert await reader.pre_signature(signed) is False
        chain_state.send(
            [Tx(owner, SETTLEMENT.encode_call("setPreSignature", signed, True), devnet.settlement)]
        )
        assert await reader.pre_signature(signed) is True
        assert await reader.pre_signature(other) is False
        chain_state.send(
            [Tx(owner, SETTLEMENT.encode_call("setPreSignature", signed, False), devnet.settlement)]
        )
        assert await reader.pre_signature(signed) is False


async def test_eip1271_magic_value_only_from_a_wallet_that_accepts(
    chain_state: Devnet, devnet: Deployment
) -> None:
    digest, other_digest = keccak(b"order"), keccak(b"another order")
    wallet, burner = Address("0x" + "a1" * 20), Address("0x" + "b2" * 20)
    chain_state.rpc("anvil_setCode", wallet, accepting_wallet(digest))
    chain_state.rpc("anvil_setCode", burner, GAS_BURNER)
    signature = b"\x01" * 65
    async with BatchingRpcClient(devnet.rpc_url) as client:
        reader = reader_for(devnet, client)
        assert await reader.is_valid_eip1271(wallet, digest, signature, GAS_CAP) is True
        assert await reader.is_valid_eip1271(wallet, other_digest, signature, GAS_CAP) is False
        # no code, no such function (reverts), and a wallet that never returns within the cap
        eoa = devnet.accounts[0].address
        assert await reader.is_valid_eip1271(eoa, digest, signature, GAS_CAP) is False
        token = Address(devnet.tokens["TKA"])
        assert await reader.is_valid_eip1271(token, digest, signature, GAS_CAP) is False
        started = time.perf_counter()
        assert await reader.is_valid_eip1271(burner, digest, signature, GAS_CAP) is False
        assert time.perf_counter() - started < 2.0
        # the accepting wallet too fails when the cap is below what its code needs
        assert await reader.is_valid_eip1271(wallet, digest, signature, 21_100) is False


async def test_verify_chain_accepts_the_configured_chain(devnet: Deployment) -> None:
    async with BatchingRpcClient(devnet.rpc_url) as client:
        await verify_chain(client, devnet.chain_id, devnet.settlement, devnet.domain_separator)


@pytest.mark.parametrize("wrong", ["chain_id", "separator", "settlement"])
async def test_verify_chain_refuses_a_mismatch(devnet: Deployment, wrong: str) -> None:
    chain_id = devnet.chain_id + 1 if wrong == "chain_id" else devnet.chain_id
    separator = keccak(b"x") if wrong == "separator" else devnet.domain_separator
    settlement = devnet.authenticator if wrong == "settlement" else devnet.settlement
    async with BatchingRpcClient(devnet.rpc_url) as client:
        with pytest.raises(ChainMismatchError, match="chain" if wrong == "chain_id" else "domain"):
            await verify_chain(client, chain_id, settlement, separator)


async def test_an_unreachable_node_is_a_chain_read_error(devnet: Deployment) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connections are refused
        async with BatchingRpcClient(f"http://127.0.0.1:{port}", timeout=2) as client:
            with pytest.raises(ChainReadError, match="unreachable"):
                await reader_for(devnet, client).funds([(devnet.accounts[0].address, devnet.weth)])
