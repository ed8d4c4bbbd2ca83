"""Pre-signatures as the chain records them: ``GPv2Settlement``'s
``PreSignature(owner, orderUid, signed)`` events, kept by the order book.

A ``presign`` order may be posted before its owner's ``setPreSignature(uid, true)``
transaction (cow-sdk posts first): it is stored ``presignaturePending``, and it moves to
open when the event is indexed, back to pending when ``setPreSignature(uid, false)`` revokes
it (``intents.lifecycle.gate``). The indexer (``settlement.presignatures``) reads the events
of the blocks that are not final yet on every pass and hands them to
``replace_presignatures``, which swaps them in for the stored events of those blocks in one
transaction: a reorg that drops or moves an event is undone on the next pass, as fills are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from intents.types import Address, OrderUid


@dataclass(frozen=True, slots=True, order=True)
class PreSignatureEvent:
    """One ``PreSignature`` log; events order by their place in the chain."""

    block_number: int
    log_index: int
    owner: Address
    uid: OrderUid
    signed: bool


def latest(events: Iterable[PreSignatureEvent]) -> dict[OrderUid, bool]:
    """Each order's pre-signature after ``events`` (the last one in chain order wins)."""
    return {e.uid: e.signed for e in sorted(events)}


class PresignatureBook(Protocol):
    """What the indexer needs of ``intents.book.OrderBook``."""

    async def presignature_cursor(self) -> int | None:
        """The last block whose ``PreSignature`` events are stored and final (None until
        ``replace_presignatures`` is first called)."""
        ...

    async def presignature_events(self, first_block: int) -> list[PreSignatureEvent]:
        """The stored events of blocks ``first_block`` and above, in chain order."""
        ...

    async def replace_presignatures(
        self, first_block: int, events: list[PreSignatureEvent], cursor: int
    ) -> list[OrderUid]:
        """In one transaction: drop the stored events of blocks ``first_block`` and above,
        store ``events`` (all of them at or above it), move the affected orders to what
        their latest remaining event says (unsigned if none remains) and the cursor to
        ``cursor``. Returns the orders whose pre-signature changed."""
        ...
