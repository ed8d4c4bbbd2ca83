"""The order book: durable storage of accepted orders, their fills and status history.

``OrderBook`` is the interface the API, the auctioneer and settlement use; adapters:
``intents.book_sqlite.SqliteBook`` (embedded default, one file) and
``intents.book_postgres.PostgresBook`` (several replicas). ``open_book(url)`` picks one.

Every write is durably committed before its coroutine returns. Status changes are
published to subscribers (``subscribe``) after they are committed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from intents.conditional_store import ConditionalStore
from intents.feed import StatusChange, Subscription
from intents.order import StoredOrder
from intents.outbox import Outbox
from intents.presignatures import PresignatureBook
from intents.quotes import QuoteStore
from intents.records import Records
from intents.round_records import RoundRecords
from intents.types import Address, OrderUid
from intents.webhook_store import WebhookStore


class OrderBook(
    Records,
    RoundRecords,
    PresignatureBook,
    QuoteStore,
    ConditionalStore,
    WebhookStore,
    Outbox,
    Protocol,
):
    async def insert(self, order: StoredOrder, *, limit_cap: int | None = None) -> None:
        """Store a new order (its status history starts with its status at its creation
        time; a ``presign`` order takes the pre-signature of its latest stored event).
        Raises ``DuplicatedOrder`` (and writes nothing) if the UID is already stored. With
        ``limit_cap``, a limit-class order is stored only if its owner has fewer than
        ``limit_cap`` open limit orders (``count_open_limit_orders`` at the book's clock),
        atomically with the insert, across concurrent inserts and replicas; otherwise it
        raises ``TooManyLimitOrders`` and writes nothing."""
        ...

    async def get(self, uid: OrderUid) -> StoredOrder | None: ...

    async def list_by_owner(
        self, owner: Address, offset: int = 0, limit: int = 10
    ) -> list[StoredOrder]:
        """The owner's orders, newest first."""
        ...

    async def count(self) -> int:
        """How many orders are stored, in any status."""
        ...

    async def count_open_limit_orders(self, owner: Address, now: float) -> int:
        """The owner's limit orders that can still trade at ``now`` (for the per-owner cap)."""
        ...

    async def open_orders(self, now: float) -> list[StoredOrder]:
        """Orders an auction at ``now`` may include: open or partially filled, and
        ``valid_to >= now``; oldest first."""
        ...

    async def cancel(self, uids: list[OrderUid], owner: Address) -> list[OrderUid]:
        """Cancel ``owner``'s open or partially filled orders ``uids`` (a repeated UID counts
        once); returns them. All or nothing, with CoW's answers: raises
        ``intents.cancellation.refuse_cancellation``'s refusal (``OrderNotFound``,
        ``OrderFullyExecuted``, ``AlreadyCancelled``, ``OrderExpired``, ``OnChainOrder``)
        for the first UID that cannot be cancelled, then ``WrongOwner`` if one belongs to
        someone else, cancelling none."""
        ...

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
        """Add one on-chain trade (a ``Trade`` event: sell amount *excluding* the fee, buy
        amount, fee) to the order's executed amounts and move its status. Idempotent per
        ``(tx_hash, log_index)``: returns False, changing nothing, for a fill already
        recorded. Raises ``OrderNotFound`` for an unknown UID."""
        ...

    async def revert_fill(self, tx_hash: bytes) -> list[OrderUid]:
        """Undo every fill recorded from ``tx_hash`` (a reorg dropped it); returns the
        orders touched. A later ``record_fill`` of the same trade counts again."""
        ...

    async def fill_cursor(self) -> int | None:
        """The last block whose ``Trade`` events are all recorded and final (None until
        ``set_fill_cursor`` is first called): where the fill indexer resumes."""
        ...

    async def set_fill_cursor(self, block: int) -> None:
        """Persist the fill indexer's cursor (see ``fill_cursor``)."""
        ...

    async def fill_transactions(self, first_block: int, last_block: int) -> list[bytes]:
        """The transactions whose fills are recorded from blocks ``first_block`` to
        ``last_block`` (inclusive), each once: what the indexer checks against the chain."""
        ...

    async def expire(self, now: float) -> list[OrderUid]:
        """Mark open, partially filled and pre-signature pending orders with
        ``valid_to < now`` expired."""
        ...

    async def status_history(self, uid: OrderUid) -> list[StatusChange]:
        """Every status the order has had, oldest first (empty for an unknown UID)."""
        ...

    def subscribe(self, owner: Address | None = None) -> Subscription:
        """Committed status changes from now on (all owners', or one's); use as
        ``with book.subscribe(owner) as changes: async for change in changes: ...``."""
        ...

    async def close(self) -> None:
        """Finish pending writes, end subscriptions, release connections."""
        ...


async def open_book(url: str) -> OrderBook:
    """Open the book at ``sqlite:///path/to/file.db`` (parent directories are created) or
    ``postgresql://user@host:port/db`` (the schema is created if missing)."""
    if url.startswith("sqlite:///"):
        from intents.book_sqlite import SqliteBook

        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return await SqliteBook.open(path)
    if url.startswith(("postgresql://", "postgres://")):
        from intents.book_postgres import PostgresBook

        return await PostgresBook.open(url)
    raise ValueError(f"unsupported order book URL {url!r}: use sqlite:///path or postgresql://")
