"""The chain's identity: what differs, and the guard against a second devnet."""

from __future__ import annotations

import logging

import pytest
from eth_utils.crypto import keccak

from devnet.anvil import Devnet
from settlement.chain_identity import (
    ChainGuard,
    ChainIdentity,
    ChainMismatchError,
    ChainSwappedError,
    mismatch,
    read_identity,
    verify_chain,
)
from settlement.deployment import Deployment
from settlement.jsonrpc import BatchingRpcClient

RECORDED = ChainIdentity(
    chain_id=31337, genesis_hash=b"\x01" * 32, code_hash=b"\x02" * 32, domain_separator=b"\x03" * 32
)


def test_the_same_identity_is_no_mismatch() -> None:
    same = ChainIdentity(31337, b"\x01" * 32, b"\x02" * 32, b"\x03" * 32)
    assert mismatch(RECORDED, same) is None


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"chain_id": 1}, "chain 1, expected 31337"),
        ({"genesis_hash": b"\x09" * 32}, "another chain with the same id"),
        ({"code_hash": keccak(b"")}, "code hash"),
        ({"domain_separator": b""}, "domainSeparator() is no answer"),
    ],
)
def test_each_difference_is_named(changes: dict[str, object], said: str) -> None:
    fields = {
        "chain_id": RECORDED.chain_id,
        "genesis_hash": RECORDED.genesis_hash,
        "code_hash": RECORDED.code_hash,
        "domain_separator": RECORDED.domain_separator,
    } | changes
    reason = mismatch(RECORDED, ChainIdentity(**fields))  # type: ignore[arg-type]
    assert reason is not None and said in reason


async def test_the_identity_read_from_the_devnet(devnet_node: Devnet, devnet: Deployment) -> None:
    async with BatchingRpcClient(devnet.rpc_url) as client:
        identity = await read_identity(client, devnet.settlement)
    genesis = devnet_node.rpc("eth_getBlockByNumber", "0x0", False)["hash"]
    code = devnet_node.rpc("eth_getCode", devnet.settlement, "latest")
    assert identity == ChainIdentity(
        chain_id=devnet.chain_id,
        genesis_hash=bytes.fromhex(genesis[2:]),
        code_hash=keccak(bytes.fromhex(code[2:])),
        domain_separator=devnet.domain_separator,
    )
    assert devnet.genesis_hash == identity.genesis_hash  # the deployment records it


async def test_a_fresh_chain_with_the_same_id_is_caught_at_start_and_every_round(
    devnet: Deployment, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "settlement.chain_identity")
    async with BatchingRpcClient(devnet.rpc_url) as ours:
        recorded = await verify_chain(
            ours, devnet.chain_id, devnet.settlement, devnet.domain_separator, devnet.genesis_hash
        )
        # same chain id, nothing deployed; its genesis differs unless anvil started within
        # the same second (its hash is the start time's): then the contract's absence shows
        with Devnet() as other:
            async with BatchingRpcClient(other.rpc_url) as theirs:
                with pytest.raises(ChainMismatchError, match=r"genesis|domainSeparator"):
                    await verify_chain(
                        theirs,
                        devnet.chain_id,
                        devnet.settlement,
                        devnet.domain_separator,
                        devnet.genesis_hash,
                    )
                guard = ChainGuard(theirs, devnet.settlement, recorded)
                assert not await guard.verify()
                assert not await guard.verify()
                with pytest.raises(ChainMismatchError, match=r"genesis|code hash"):
                    await guard.health()
                with pytest.raises(ChainSwappedError):  # reads for orders are refused
                    guard.refuse_if_swapped()
                guard.client = ours  # the recorded chain is back behind the URL
                assert await guard.verify()
                await guard.health()
                guard.refuse_if_swapped()
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2, messages  # one per change, not one per check
    assert "auctions paused" in messages[0] and "resume" in messages[1]
