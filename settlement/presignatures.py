"""Pre-signatures read from the settlement's ``PreSignature`` events into the order book.

``GPv2Settlement.setPreSignature(uid, signed)`` emits ``PreSignature(owner, orderUid,
signed)`` (owner indexed). ``PresignatureIndexer.catch_up`` reads those logs from the
book's pre-signature cursor to the head and hands them to the book
(``intents.presignatures.PresignatureBook.replace_presignatures``), which opens pending
``presign`` orders that are now signed and sends revoked ones back to
``presignaturePending``. Blocks above the cursor are read again on every pass until they
are ``confirmations`` deep, and their stored events replaced by what the chain says now:
an event a reorg dropped or moved is undone or moved with it, as the fill indexer does
for ``Trade`` events. Given a ``same_chain`` check it never drops stored events while the
node answers as another chain.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from eth_abi.abi import decode
from eth_utils.crypto import keccak

from intents.presignatures import PresignatureBook, PreSignatureEvent
from intents.types import Address, OrderUid
from settlement.jsonrpc import BatchingRpcClient

logger = logging.getLogger(__name__)

PRESIGNATURE_TOPIC = keccak(text="PreSignature(address,bytes,bool)")


def presignature_event(log: dict[str, Any]) -> PreSignatureEvent:
    """The event of one ``PreSignature`` log (as ``eth_getLogs`` returns it)."""
    uid, signed = decode(("bytes", "bool"), bytes.fromhex(log["data"][2:]))
    return PreSignatureEvent(
        block_number=int(log["blockNumber"], 16),
        log_index=int(log["logIndex"], 16),
        owner=Address("0x" + log["topics"][1][-40:].lower()),
        uid=OrderUid(bytes(uid)),
        signed=bool(signed),
    )


class PresignatureIndexer:
    """Makes the book's pre-signatures those of the chain's ``PreSignature`` logs."""

    def __init__(
        self,
        rpc: BatchingRpcClient,
        settlement: Address,
        book: PresignatureBook,
        confirmations: int = 6,
        same_chain: Callable[[], Awaitable[bool]] | None = None,
        max_range: int = 2000,
    ) -> None:
        if confirmations < 1:
            raise ValueError("confirmations must be at least 1 (the including block)")
        self.rpc = rpc
        self.settlement = settlement
        self.book = book
        self.confirmations = confirmations
        self.same_chain = same_chain
        self.max_range = max_range
        """Blocks per ``eth_getLogs`` request."""

    async def catch_up(self) -> int:
        """Bring the book's pre-signatures up to the chain; how many orders changed. With
        no cursor yet (a fresh book), or one above the head, the cursor starts at the head
        (intake reads the pre-signature of an order posted before that on chain)."""
        head = int(await self.rpc.call("eth_blockNumber", []), 16)
        cursor = await self.book.presignature_cursor()
        if cursor is not None and cursor > head and not await self._same_chain():
            return 0  # another chain: nothing is rewound
        if cursor is None or cursor > head:
            await self.book.replace_presignatures(head + 1, [], head)
            return 0
        first = cursor + 1
        events = await self._events(first, head)
        stored = await self.book.presignature_events(first)
        final = max(cursor, head - self.confirmations + 1)
        if events == stored and final == cursor:
            return 0
        if not set(stored) <= set(events) and not await self._same_chain():
            return 0
        changed = await self.book.replace_presignatures(first, events, final)
        if changed:
            logger.info(
                "pre-signatures: %d order(s) changed in blocks %d..%d", len(changed), first, head
            )
        return len(changed)

    async def _same_chain(self) -> bool:
        return self.same_chain is None or await self.same_chain()

    async def _events(self, first: int, last: int) -> list[PreSignatureEvent]:
        logs = await self.rpc.logs(self.settlement, PRESIGNATURE_TOPIC, first, last, self.max_range)
        return sorted(presignature_event(log) for log in logs)
