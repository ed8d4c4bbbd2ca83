"""``ChainReader`` against a real node: the on-chain facts order intake checks.

Every read is an ``eth_call`` through a ``BatchingRpcClient``, so the balance and allowance
checks of many concurrent order submissions travel in one JSON-RPC batch. Calldata is
encoded by hand: the selectors are fixed and this is the hot path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from intents.chain import Funds
from intents.types import Address, OrderUid, TokenAddress
from intents.wire import to_hex
from settlement.jsonrpc import BatchingRpcClient, ChainReadError, RpcReply

logger = logging.getLogger(__name__)

BALANCE_OF = bytes.fromhex("70a08231")  # balanceOf(address)
ALLOWANCE = bytes.fromhex("dd62ed3e")  # allowance(address,address)
PRE_SIGNATURE = bytes.fromhex("d08d33d1")  # preSignature(bytes)
IS_VALID_SIGNATURE = bytes.fromhex("1626ba7e")  # isValidSignature(bytes32,bytes)
DOMAIN_SEPARATOR = bytes.fromhex("f698da25")  # domainSeparator()

EIP1271_MAGIC_WORD = IS_VALID_SIGNATURE + bytes(28)
"""What a valid ``isValidSignature`` returns: ``bytes4`` magic value, ABI-padded."""

PRE_SIGNED = bytes.fromhex("f59c009283ff87aa78203fc4d9c2df025ee851130fb69cc3e068941f6b5e2d6f")
"""``preSignature(uid)`` once set: ``uint256(keccak256("GPv2Signing.Scheme.PreSign"))``."""


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _address_word(address: str) -> bytes:
    return bytes(12) + bytes.fromhex(address[2:])


def _bytes_tail(data: bytes) -> bytes:
    """ABI encoding of a dynamic ``bytes`` value: length, then data padded to 32 bytes."""
    return _word(len(data)) + data + bytes(-len(data) % 32)


def _uint(reply: RpcReply) -> int:
    """A ``uint256`` return value; a revert or empty return data (no code) reads as 0."""
    if reply.error is not None:
        if reply.error.is_revert:
            return 0
        raise ChainReadError(f"eth_call failed: {reply.error.message} ({reply.error.code})")
    data = bytes.fromhex(str(reply.result)[2:])
    return int.from_bytes(data[:32], "big") if len(data) >= 32 else 0


class RpcChainReader:
    """``intents.chain.ChainReader`` over JSON-RPC ``eth_call``s at the latest block."""

    def __init__(
        self,
        client: BatchingRpcClient,
        settlement: Address,
        vault_relayer: Address,
        refuse: Callable[[], None] | None = None,
    ):
        self.client = client
        self.settlement = settlement
        self.vault_relayer = vault_relayer
        self._relayer_word = _address_word(vault_relayer)
        self.refuse = refuse
        """Called before every read; raises (a ``ChainReadError``) when the node must not be
        believed (``ChainGuard.refuse_if_swapped``: it is another chain)."""

    def _eth_call(self, to: str, data: bytes) -> tuple[str, list[Any]]:
        if self.refuse is not None:
            self.refuse()
        return ("eth_call", [{"to": to, "data": to_hex(data)}, "latest"])

    async def funds(self, queries: Sequence[tuple[Address, TokenAddress]]) -> list[Funds]:
        """Balance and vault-relayer allowance per (owner, token); a token whose calls
        revert or that has no code reports zero funds."""
        calls = []
        for owner, token in queries:
            owner_word = _address_word(owner)
            calls.append(self._eth_call(token, BALANCE_OF + owner_word))
            calls.append(self._eth_call(token, ALLOWANCE + owner_word + self._relayer_word))
        values = [_uint(reply) for reply in await self.client.request_many(calls)]
        return [Funds(values[i], values[i + 1]) for i in range(0, len(values), 2)]

    async def pre_signature(self, uid: OrderUid) -> bool:
        data = PRE_SIGNATURE + _word(32) + _bytes_tail(uid)
        result = await self.client.call(*self._eth_call(self.settlement, data))
        return bytes.fromhex(str(result)[2:]) == PRE_SIGNED

    async def is_valid_eip1271(
        self, owner: Address, digest: bytes, signature: bytes, gas_cap: int
    ) -> bool:
        """True only if the call returns the magic value within ``gas_cap`` gas; reverts,
        running out of gas, no code and any other answer are False."""
        data = IS_VALID_SIGNATURE + digest + _word(64) + _bytes_tail(signature)
        if self.refuse is not None:
            self.refuse()
        call = {"to": owner, "data": to_hex(data), "gas": hex(gas_cap)}
        reply = await self.client.request("eth_call", [call, "latest"])
        if reply.error is not None:
            # The node ran the call and it failed (revert, out of gas, invalid opcode).
            logger.debug("isValidSignature on %s failed: %s", owner, reply.error.message)
            return False
        return bytes.fromhex(str(reply.result)[2:])[:32] == EIP1271_MAGIC_WORD
