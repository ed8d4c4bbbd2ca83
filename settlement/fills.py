"""Fills read back from the settlement's ``Trade`` events, kept right through reorgs.

A settlement's fills are handed to a ``FillSink`` (the order book implements it) as soon as
its transaction is mined, and watched until it is ``confirmations`` blocks deep. If the
block holding it leaves the canonical chain first, its fills are reverted (the orders are
open again); if the same transaction is mined again, its fills are recorded again from the
new block. The sink is idempotent per ``(tx_hash, log_index)`` and the tracker always
reverts before it re-records, so a trade is never counted twice and never lost.

The book follows the chain, not one node's memory: ``FillIndexer.catch_up`` reads the
settlement contract's ``Trade`` logs from the book's persisted fill cursor to the head and
hands every settlement it finds to the tracker, so a settlement mined after its submitter
died (a leader killed between mining and recording) is recorded by whoever runs next.

Neither ever rewinds the book on a chain that is not the one it recorded (an empty chain
with the same id behind the RPC URL is not a deep reorg): given a ``same_chain`` check
(``ChainGuard.verify``), they ask it before reverting any fill and do nothing if it fails.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from eth_abi.abi import decode
from eth_utils.crypto import keccak

from intents.types import Address, OrderUid, TokenAddress
from settlement.jsonrpc import BatchingRpcClient, ChainReadError

logger = logging.getLogger(__name__)

TRADE_TOPIC = keccak(text="Trade(address,address,address,uint256,uint256,uint256,bytes)")
_TRADE_DATA = ("address", "address", "uint256", "uint256", "uint256", "bytes")


@dataclass(frozen=True, slots=True)
class Fill:
    """One ``Trade`` event: ``sell_amount`` includes ``fee_amount``, as the contract emits."""

    owner: Address
    uid: OrderUid
    sell_token: TokenAddress
    buy_token: TokenAddress
    sell_amount: int
    buy_amount: int
    fee_amount: int
    tx_hash: bytes
    block_number: int
    block_hash: bytes
    log_index: int


class FillSink(Protocol):
    """Where fills go: ``intents.book.OrderBook`` has exactly these two methods."""

    async def record_fill(
        self,
        uid: OrderUid,
        *,
        executed_sell: int,
        executed_buy: int,
        executed_fee: int,
        tx_hash: bytes,
        log_index: int,
        block_number: int,
    ) -> bool:
        """Count one trade (sell amount excluding the fee); idempotent per
        ``(tx_hash, log_index)``."""
        ...

    async def revert_fill(self, tx_hash: bytes) -> list[OrderUid]:
        """Undo every fill recorded from ``tx_hash``."""
        ...


def _bytes(value: str) -> bytes:
    return bytes.fromhex(value[2:])


def trade_fills(receipt: Mapping[str, Any], settlement: Address) -> list[Fill]:
    """The fills in a JSON-RPC transaction receipt: the ``Trade`` logs ``settlement``
    emitted, in log order."""
    fills = []
    for log in receipt.get("logs", ()):
        topics = log["topics"]
        if log["address"].lower() != settlement or not topics or _bytes(topics[0]) != TRADE_TOPIC:
            continue
        sell_token, buy_token, sell, buy, fee, uid = decode(_TRADE_DATA, _bytes(log["data"]))
        fills.append(
            Fill(
                owner=Address("0x" + _bytes(topics[1])[12:].hex()),
                uid=OrderUid(uid),
                sell_token=TokenAddress(sell_token.lower()),
                buy_token=TokenAddress(buy_token.lower()),
                sell_amount=sell,
                buy_amount=buy,
                fee_amount=fee,
                tx_hash=_bytes(receipt["transactionHash"]),
                block_number=int(receipt["blockNumber"], 16),
                block_hash=_bytes(receipt["blockHash"]),
                log_index=int(log["logIndex"], 16),
            )
        )
    return fills


@dataclass
class _Tracked:
    tx_hash: bytes
    sender: Address
    nonce: int
    fills: list[Fill] = field(default_factory=list)
    block_number: int | None = None
    """None while the transaction is not on the canonical chain."""
    block_hash: bytes = b""


class FillTracker:
    """Records settlements' fills into a sink and keeps them right until they are final."""

    def __init__(
        self,
        rpc: BatchingRpcClient,
        settlement: Address,
        sink: FillSink,
        confirmations: int = 6,
        same_chain: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        if confirmations < 1:
            raise ValueError("confirmations must be at least 1 (the including block)")
        self.rpc = rpc
        self.settlement = settlement
        self.sink = sink
        self.confirmations = confirmations
        self.same_chain = same_chain
        """Asked before any fill is reverted: is the node still the chain we recorded?"""
        self._tracked: dict[bytes, _Tracked] = {}

    @property
    def pending(self) -> frozenset[bytes]:
        """Transactions whose fills are not final yet (watched for reorgs)."""
        return frozenset(self._tracked)

    async def track(self, receipt: Mapping[str, Any], sender: Address, nonce: int) -> list[Fill]:
        """Record the fills of a freshly mined successful settlement and watch it."""
        tx_hash = _bytes(receipt["transactionHash"])
        tracked = self._tracked.setdefault(tx_hash, _Tracked(tx_hash, sender, nonce))
        if tracked.block_number is None:
            await self._include(tracked, receipt)
        return list(tracked.fills)

    async def poll(self) -> None:
        """Look at the chain once: revert fills whose block was reorged out, re-record
        re-mined ones, and stop watching those ``confirmations`` deep."""
        if not self._tracked:
            return
        head = int(await self.rpc.call("eth_blockNumber", []), 16)
        for tracked in list(self._tracked.values()):
            receipt = await self.rpc.call(
                "eth_getTransactionReceipt", ["0x" + tracked.tx_hash.hex()]
            )
            on_chain = receipt is not None and int(receipt["status"], 16) == 1
            if tracked.block_number is not None and (
                not on_chain or _bytes(receipt["blockHash"]) != tracked.block_hash
            ):
                if not await self.is_same_chain():
                    return  # another chain: nothing is rewound, looked at again later
                await self._exclude(tracked)
            if tracked.block_number is None and on_chain:
                await self._include(tracked, receipt)
            if tracked.block_number is not None:
                if head - tracked.block_number + 1 >= self.confirmations:
                    logger.info(
                        "settlement 0x%s final at depth %d: %d fills",
                        tracked.tx_hash.hex(),
                        head - tracked.block_number + 1,
                        len(tracked.fills),
                    )
                    del self._tracked[tracked.tx_hash]
            elif await self._nonce_taken(tracked):
                logger.warning(
                    "settlement 0x%s was reorged out and its nonce %d now holds another "
                    "transaction: its orders stay open",
                    tracked.tx_hash.hex(),
                    tracked.nonce,
                )
                del self._tracked[tracked.tx_hash]

    async def is_same_chain(self) -> bool:
        """True without a ``same_chain`` check, else its answer."""
        return self.same_chain is None or await self.same_chain()

    async def run(self, interval: float) -> None:
        """``poll`` every ``interval`` seconds until cancelled; a node that does not answer
        is logged once (and once more when it answers again) and asked again next time."""
        failing = False
        while True:
            try:
                await self.poll()
                if failing:
                    logger.info("fill tracker reads the chain again")
                failing = False
            except ChainReadError as exc:
                if not failing:
                    logger.warning("fill tracker could not read the chain: %s", exc)
                failing = True
            await asyncio.sleep(interval)

    async def _include(self, tracked: _Tracked, receipt: Mapping[str, Any]) -> None:
        tracked.fills = trade_fills(receipt, self.settlement)
        tracked.block_number = int(receipt["blockNumber"], 16)
        tracked.block_hash = _bytes(receipt["blockHash"])
        for fill in tracked.fills:
            try:
                await self.sink.record_fill(
                    fill.uid,
                    executed_sell=fill.sell_amount - fill.fee_amount,
                    executed_buy=fill.buy_amount,
                    executed_fee=fill.fee_amount,
                    tx_hash=fill.tx_hash,
                    log_index=fill.log_index,
                    block_number=fill.block_number,
                )
            except LookupError:  # the book's OrderNotFound: an order that is not ours
                logger.warning("fill of unknown order 0x%s not recorded", fill.uid.hex())
        logger.info(
            "settlement 0x%s in block %d (0x%s): %d fills recorded",
            tracked.tx_hash.hex(),
            tracked.block_number,
            tracked.block_hash.hex(),
            len(tracked.fills),
        )

    async def _exclude(self, tracked: _Tracked) -> None:
        reverted = await self.sink.revert_fill(tracked.tx_hash)
        logger.warning(
            "settlement 0x%s: block %s (0x%s) left the canonical chain; %d fills reverted",
            tracked.tx_hash.hex(),
            tracked.block_number,
            tracked.block_hash.hex(),
            len(reverted),
        )
        tracked.block_number, tracked.block_hash, tracked.fills = None, b"", []

    async def _nonce_taken(self, tracked: _Tracked) -> bool:
        mined = int(await self.rpc.call("eth_getTransactionCount", [tracked.sender, "latest"]), 16)
        return mined > tracked.nonce


class FillBook(FillSink, Protocol):
    """What the indexer needs of ``intents.book.OrderBook``: the sink, and its place."""

    async def fill_cursor(self) -> int | None:
        """The last block whose fills are all recorded and final, if any."""
        ...

    async def set_fill_cursor(self, block: int) -> None: ...

    async def fill_transactions(self, first_block: int, last_block: int) -> list[bytes]:
        """The transactions with fills recorded from these blocks (inclusive)."""
        ...


class FillIndexer:
    """Makes the book's fills those of the chain's ``Trade`` logs since the cursor.

    Every settlement in the logs goes to ``tracker`` (which records it and watches the
    non-final ones for reorgs); a fill recorded from a block in the range whose
    transaction is no longer in the logs (a node recorded it, then died, then a reorg
    dropped it) is reverted. The cursor then moves to the last final block; blocks above
    it are read again each time, so a settlement a reorg moved is still found."""

    def __init__(
        self,
        rpc: BatchingRpcClient,
        tracker: FillTracker,
        book: FillBook,
        max_range: int = 2000,
    ) -> None:
        self.rpc = rpc
        self.tracker = tracker
        self.book = book
        self.max_range = max_range
        """Blocks per ``eth_getLogs`` request."""
        self.head = 0
        """The chain's head block at the last ``catch_up``."""

    async def catch_up(self) -> int:
        """Bring the book's fills up to the chain; how many settlements were found that
        the tracker was not watching. With no cursor yet (a fresh book: nothing of it can
        have settled), or one above the head, the cursor starts at the head."""
        head = self.head = int(await self.rpc.call("eth_blockNumber", []), 16)
        cursor = await self.book.fill_cursor()
        if cursor is not None and cursor > head and not await self.tracker.is_same_chain():
            return 0  # another chain: the cursor is not moved back
        if cursor is None or cursor > head:
            if cursor is not None:
                logger.warning(
                    "fill cursor %d is above the head %d (another chain, or a reorg deeper "
                    "than the confirmations): indexing from the head",
                    cursor,
                    head,
                )
            await self.book.set_fill_cursor(head)
            return 0
        on_chain = await self._settlements(cursor + 1, head)
        found = 0
        for tx_hash in on_chain:
            receipt, tx = await asyncio.gather(
                self.rpc.call("eth_getTransactionReceipt", ["0x" + tx_hash.hex()]),
                self.rpc.call("eth_getTransactionByHash", ["0x" + tx_hash.hex()]),
            )
            if receipt is None or tx is None or int(receipt["status"], 16) != 1:
                continue  # reorged out since the logs were read: the next catch-up looks again
            if tx_hash not in self.tracker.pending:
                found += 1
            await self.tracker.track(receipt, Address(tx["from"].lower()), int(tx["nonce"], 16))
        for tx_hash in await self.book.fill_transactions(cursor + 1, head):
            if tx_hash not in on_chain and tx_hash not in self.tracker.pending:
                if not await self.tracker.is_same_chain():
                    return found  # another chain: nothing is rewound
                reverted = await self.book.revert_fill(tx_hash)
                logger.warning(
                    "settlement 0x%s is recorded but no longer on the chain: %d order(s) reopened",
                    tx_hash.hex(),
                    len(reverted),
                )
        final = head - self.tracker.confirmations + 1
        if final > cursor:
            await self.book.set_fill_cursor(final)
        if found:
            logger.info("fill indexer: %d settlement(s) in blocks %d..%d", found, cursor + 1, head)
        return found

    async def _settlements(self, first: int, last: int) -> dict[bytes, None]:
        """The transactions with ``Trade`` logs in blocks ``first``..``last``, in order."""
        logs = await self.rpc.logs(
            self.tracker.settlement, TRADE_TOPIC, first, last, self.max_range
        )
        return {_bytes(log["transactionHash"]): None for log in logs}
