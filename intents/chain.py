"""What intake needs to know from the chain, as a small interface.

The web3 adapter lives in ``settlement`` (the package that owns the chain); intake depends
only on this protocol, and unit tests use ``FakeChain``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from intents.types import Address, OrderUid, TokenAddress


@dataclass(frozen=True, slots=True)
class Funds:
    """An owner's balance of a token and its allowance to the GPv2 vault relayer."""

    balance: int
    allowance: int


class ChainReader(Protocol):
    async def funds(self, queries: Sequence[tuple[Address, TokenAddress]]) -> list[Funds]:
        """Balance and vault-relayer allowance for each (owner, token), in one round trip
        where the adapter can (JSON-RPC batch or Multicall3)."""
        ...

    async def pre_signature(self, uid: OrderUid) -> bool:
        """Whether the owner set ``preSignature(uid)`` on the settlement contract."""
        ...

    async def is_valid_eip1271(
        self, owner: Address, digest: bytes, signature: bytes, gas_cap: int
    ) -> bool:
        """Whether ``owner.isValidSignature(digest, signature)`` returns the EIP-1271 magic
        value within ``gas_cap`` gas."""
        ...


@dataclass
class FakeChain:
    """In-memory ``ChainReader`` for unit tests; set its dicts to shape the world."""

    balances: dict[tuple[Address, TokenAddress], int] = field(default_factory=dict)
    allowances: dict[tuple[Address, TokenAddress], int] = field(default_factory=dict)
    presigned: set[OrderUid] = field(default_factory=set)
    eip1271_valid: set[tuple[Address, bytes, bytes]] = field(default_factory=set)
    calls: int = 0

    async def funds(self, queries: Sequence[tuple[Address, TokenAddress]]) -> list[Funds]:
        self.calls += 1
        return [Funds(self.balances.get(q, 0), self.allowances.get(q, 0)) for q in queries]

    async def pre_signature(self, uid: OrderUid) -> bool:
        self.calls += 1
        return uid in self.presigned

    async def is_valid_eip1271(
        self, owner: Address, digest: bytes, signature: bytes, gas_cap: int
    ) -> bool:
        self.calls += 1
        return (owner, digest, signature) in self.eip1271_valid
