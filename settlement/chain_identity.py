"""Which chain the node talks to, re-checked before every auction round.

A chain id says little: every fresh devnet is 31337, and a node behind the same RPC URL can
be replaced by an empty chain with the same id. The identity is the chain id, the genesis
block's hash, the hash of the settlement contract's code and its ``domainSeparator()``,
read in one JSON-RPC batch (``read_identity``). ``ChainGuard`` holds the identity recorded
at start: while the chain answers with another one, auctions pause, ``/healthz`` names the
difference and nothing of the order book is rewound (a swapped chain is not a reorg); once
the identity matches again, everything resumes. Each change is logged once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from eth_utils.crypto import keccak

from intents.types import Address
from intents.wire import to_hex
from settlement.chain_reader import DOMAIN_SEPARATOR
from settlement.errors import SettlementError
from settlement.jsonrpc import BatchingRpcClient, ChainReadError

logger = logging.getLogger(__name__)


class ChainMismatchError(SettlementError, RuntimeError):
    """The node is not the chain, or the contract not the settlement, we are configured for."""

    code = "ChainMismatch"


class ChainSwappedError(ChainReadError):
    """A read refused: the node answers as another chain than the one recorded at start
    (a ``ConnectionError``: the API answers 503 with this code)."""

    code = "ChainMismatch"
    already_reported = True
    """The guard logged the change once."""


@dataclass(frozen=True, slots=True)
class ChainIdentity:
    chain_id: int
    genesis_hash: bytes
    code_hash: bytes
    """keccak256 of the settlement contract's runtime code (of ``b""`` when it has none)."""
    domain_separator: bytes
    """What ``domainSeparator()`` returned (``b""`` when it did not answer)."""


def _bytes(value: object) -> bytes:
    return bytes.fromhex(str(value or "0x")[2:])


async def read_identity(client: BatchingRpcClient, settlement: Address) -> ChainIdentity:
    """The chain's identity as the node tells it now, in one batch (``ChainReadError`` if
    the node cannot be asked)."""
    chain_id, genesis, code, separator = await client.request_many(
        [
            ("eth_chainId", []),
            ("eth_getBlockByNumber", ["0x0", False]),
            ("eth_getCode", [settlement, "latest"]),
            ("eth_call", [{"to": settlement, "data": to_hex(DOMAIN_SEPARATOR)}, "latest"]),
        ]
    )
    for name, reply in (("eth_chainId", chain_id), ("eth_getBlockByNumber", genesis)):
        if reply.error is not None or reply.result is None:
            error = reply.error.message if reply.error else "no answer"
            raise ChainReadError(f"{name} failed: {error}")
    if code.error is not None:
        raise ChainReadError(f"eth_getCode failed: {code.error.message}")
    try:
        return ChainIdentity(
            chain_id=int(chain_id.result, 16),
            genesis_hash=_bytes(genesis.result["hash"]),
            code_hash=keccak(_bytes(code.result)),
            domain_separator=_bytes(separator.result) if separator.error is None else b"",
        )
    except (KeyError, TypeError, ValueError) as exc:  # not what a node answers
        raise ChainReadError(f"malformed identity reply: {exc!r}") from exc


def mismatch(expected: ChainIdentity, actual: ChainIdentity) -> str | None:
    """The first way ``actual`` differs from ``expected``, as a sentence; ``None`` if it is
    the same chain and contract."""
    if actual.chain_id != expected.chain_id:
        return f"the node is chain {actual.chain_id}, expected {expected.chain_id}"
    if actual.genesis_hash != expected.genesis_hash:
        return (
            f"the node's genesis block is 0x{actual.genesis_hash.hex()}, expected "
            f"0x{expected.genesis_hash.hex()} (another chain with the same id)"
        )
    if actual.code_hash != expected.code_hash:
        return f"the settlement contract's code hash is 0x{actual.code_hash.hex()}, expected " + (
            f"0x{expected.code_hash.hex()}"
        )
    if actual.domain_separator != expected.domain_separator:
        got = f"0x{actual.domain_separator.hex()}" if actual.domain_separator else "no answer"
        return (
            f"the settlement's domainSeparator() is {got}, "
            f"expected 0x{expected.domain_separator.hex()}"
        )
    return None


async def verify_chain(
    client: BatchingRpcClient,
    expected_chain_id: int,
    settlement: Address,
    expected_domain_separator: bytes,
    genesis_hash: bytes | None = None,
) -> ChainIdentity:
    """Refuse to run against the wrong chain or contract: raise ``ChainMismatchError`` if
    the chain id, the settlement's ``domainSeparator()`` or (when one was recorded, e.g. in
    the deployment file) the genesis block's hash differ from the configuration
    (``ChainReadError`` if the node cannot be asked). Returns the identity to keep."""
    actual = await read_identity(client, settlement)
    expected = ChainIdentity(
        chain_id=expected_chain_id,
        genesis_hash=actual.genesis_hash if genesis_hash is None else genesis_hash,
        code_hash=actual.code_hash,
        domain_separator=expected_domain_separator,
    )
    reason = mismatch(expected, actual)
    if reason is not None:
        raise ChainMismatchError(f"{client.url}: {reason}")
    logger.info(
        "chain %d (genesis 0x%s) and settlement %s verified",
        actual.chain_id,
        actual.genesis_hash.hex(),
        settlement,
    )
    return actual


class ChainGuard:
    """The identity recorded at start, and whether the chain still has it."""

    def __init__(self, client: BatchingRpcClient, settlement: Address, expected: ChainIdentity):
        self.client = client
        self.settlement = settlement
        self.expected = expected
        self.reason: str | None = None
        """Why the chain is not the expected one (``None`` while it is, or unknown)."""

    async def verify(self) -> bool:
        """Read the identity once: True if it is the expected chain. A node that does not
        answer is False without changing what is known (the breaker reports outages)."""
        try:
            actual = await read_identity(self.client, self.settlement)
        except ChainReadError:
            return False
        reason = mismatch(self.expected, actual)
        if reason != self.reason:
            if reason is not None:
                logger.warning("chain identity changed: %s; auctions paused", reason)
            else:
                logger.warning("chain identity matches again: auctions resume")
        self.reason = reason
        return reason is None

    def refuse_if_swapped(self) -> None:
        """Raise ``ChainSwappedError`` while the chain is another one (no I/O): what it
        would answer (balances, signatures) is not the recorded chain's."""
        if self.reason is not None:
            raise ChainSwappedError(self.reason)

    async def health(self) -> None:
        """A health check without I/O: raise ``ChainDownError`` while the client's breaker
        is open, ``ChainMismatchError`` while the chain is another one."""
        self.client.raise_if_down()
        if self.reason is not None:
            raise ChainMismatchError(self.reason)

    @contextlib.asynccontextmanager
    async def watching(
        self, probe_interval: float = 0.5, identity_interval: float = 2.0
    ) -> AsyncIterator[ChainGuard]:
        """While the context lasts: probe the node every ``probe_interval`` seconds (the
        client's breaker) and re-read the identity every ``identity_interval`` seconds (so
        ``/healthz`` knows of a swapped chain without an auctioneer too)."""
        task = asyncio.create_task(self._watch(probe_interval, identity_interval))
        try:
            yield self
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _watch(self, probe_interval: float, identity_interval: float) -> None:
        checked = time.monotonic()
        while True:
            await self.client.probe()
            if time.monotonic() - checked >= identity_interval:
                checked = time.monotonic()
                await self.verify()
            await asyncio.sleep(probe_interval)
