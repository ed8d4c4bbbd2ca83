"""How the order book keeps conditional orders: the stored model, the store interface both
book adapters implement, and the SQL they share.

Three tables (created ``IF NOT EXISTS`` beside the book's): ``conditional_orders`` (the
signed document), ``conditional_parts`` (one row per part: ``pending`` until it is
``released`` into the book as order ``uid``, ``cancelled`` or ``expired``) and
``conditional_history``. A part leaves ``pending`` with one conditional ``UPDATE ... WHERE
status = 'pending'``: a release and a cancellation that race touch the same row, so exactly
one of them wins (SQLite's single writer; PostgreSQL's row lock), on any replica.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any, Protocol

import msgspec

from intents.conditional import Params
from intents.errors import ErrorCode, OrderError
from intents.order import SigningScheme
from intents.types import Address


class PartStatus(enum.StrEnum):
    PENDING = "pending"
    RELEASED = "released"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class PartState(msgspec.Struct, frozen=True, kw_only=True):
    index: int
    status: PartStatus
    uid: bytes | None = None
    reason: str | None = None
    """Why a due part is still withheld (the refusal of its last release attempt)."""


class HistoryEntry(msgspec.Struct, frozen=True, kw_only=True):
    time: float
    event: str  # created, waiting, released, expired, cancelled
    part: int | None = None
    detail: str | None = None


class ConditionalDocument(msgspec.Struct, frozen=True, kw_only=True):
    """What the owner posted, as stored (the ``document`` column)."""

    params: Params
    salt: bytes
    signing_scheme: SigningScheme
    signature: bytes
    part_signatures: tuple[bytes, ...]


class StoredConditional(msgspec.Struct, frozen=True, kw_only=True):
    id: bytes  # 52 bytes: digest ‖ owner
    owner: Address
    document: ConditionalDocument
    creation_time: float
    cancelled: bool = False
    parts: tuple[PartState, ...] = ()
    history: tuple[HistoryEntry, ...] = ()

    @property
    def status(self) -> str:
        """``cancelled``; ``active`` while a part is pending; else ``finished``."""
        if self.cancelled:
            return "cancelled"
        if any(p.status is PartStatus.PENDING for p in self.parts):
            return "active"
        return "finished"


class ConditionalStore(Protocol):
    async def insert_conditional(self, conditional: StoredConditional) -> None:
        """Store a new conditional order with its parts pending (history: ``created``);
        raises ``DuplicatedOrder`` (writing nothing) if its id is stored."""
        ...

    async def get_conditional(self, conditional_id: bytes) -> StoredConditional | None: ...

    async def conditionals_by_owner(
        self, owner: Address, offset: int = 0, limit: int = 10
    ) -> list[StoredConditional]:
        """The owner's conditional orders, newest first."""
        ...

    async def active_conditionals(self) -> list[StoredConditional]:
        """The not cancelled conditional orders with a pending part, oldest first."""
        ...

    async def unbooked_releases(self) -> list[StoredConditional]:
        """The conditional orders (active, finished or cancelled) with a ``released`` part
        whose order is not in the book: a crash between ``release_part`` and ``insert``."""
        ...

    async def release_part(self, conditional_id: bytes, index: int, uid: bytes, now: float) -> bool:
        """Mark a pending part of an uncancelled order ``released`` as order ``uid``; False
        (changing nothing) if it is not pending any more."""
        ...

    async def note_part(self, conditional_id: bytes, index: int, reason: str, now: float) -> None:
        """Record why a due pending part is withheld (history ``waiting`` when it changes)."""
        ...

    async def expire_part(self, conditional_id: bytes, index: int, now: float) -> bool:
        """Mark a pending part ``expired`` (its window passed unreleased)."""
        ...

    async def cancel_conditional(self, conditional_id: bytes, now: float) -> list[int]:
        """Cancel the order: its pending parts are never released; returns them. Raises
        ``ConditionalOrderNotFound``, ``AlreadyCancelled``, or ``OrderFullyExecuted`` when
        no part is pending any more."""
        ...


def not_found(conditional_id: bytes) -> OrderError:
    return OrderError(
        ErrorCode.CONDITIONAL_ORDER_NOT_FOUND,
        f"conditional order 0x{conditional_id.hex()} is not stored",
    )


def refuse_cancel(conditional_id: bytes, cancelled: bool | None, pending: int) -> None:
    """Raise the refusal for cancelling an order in this state (``cancelled`` None:
    unknown)."""
    name = f"conditional order 0x{conditional_id.hex()}"
    if cancelled is None:
        raise not_found(conditional_id)
    if cancelled:
        raise OrderError(ErrorCode.ALREADY_CANCELLED, f"{name} is already cancelled")
    if pending == 0:
        raise OrderError(
            ErrorCode.ORDER_FULLY_EXECUTED,
            f"every part of {name} is already released or expired: nothing left to cancel",
        )


_DOCUMENT = msgspec.json.Decoder(ConditionalDocument)
_encoder = msgspec.json.Encoder()


def encode_document(document: ConditionalDocument) -> str:
    return _encoder.encode(document).decode()


def assemble(
    head: Sequence[Any], parts: Sequence[Sequence[Any]], history: Sequence[Sequence[Any]]
) -> StoredConditional:
    """A stored order from its rows: ``HEAD_COLUMNS``, ``PART_COLUMNS``, ``HISTORY_COLUMNS``."""
    conditional_id, owner, creation_time, cancelled, document = head
    return StoredConditional(
        id=bytes(conditional_id),
        owner=Address(owner),
        document=_DOCUMENT.decode(document),
        creation_time=float(creation_time),
        cancelled=bool(cancelled),
        parts=tuple(
            PartState(
                index=int(i),
                status=PartStatus(s),
                uid=None if u is None else bytes(u),
                reason=r,
            )
            for i, s, u, r in parts
        ),
        history=tuple(
            HistoryEntry(time=float(t), event=e, part=p, detail=d) for t, e, p, d in history
        ),
    )


# The statements both adapters run, with ``?`` placeholders (PostgreSQL: ``numbered``).
HEAD_COLUMNS = "id, owner, creation_time, cancelled, document"
PART_COLUMNS = "idx, status, uid, reason"
HISTORY_COLUMNS = "time, event, part, detail"
INSERT_HEAD = f"INSERT INTO conditional_orders ({HEAD_COLUMNS}) VALUES (?, ?, ?, ?, ?)"
INSERT_PART = "INSERT INTO conditional_parts (id, idx, status) VALUES (?, ?, 'pending')"
INSERT_HISTORY = (
    "INSERT INTO conditional_history (id, time, event, part, detail) VALUES (?, ?, ?, ?, ?)"
)
SELECT_HEAD = f"SELECT {HEAD_COLUMNS} FROM conditional_orders WHERE id = ?"
SELECT_PARTS = f"SELECT {PART_COLUMNS} FROM conditional_parts WHERE id = ? ORDER BY idx"
SELECT_HISTORY = f"SELECT {HISTORY_COLUMNS} FROM conditional_history WHERE id = ? ORDER BY seq"
SELECT_BY_OWNER = (
    f"SELECT {HEAD_COLUMNS} FROM conditional_orders WHERE owner = ? ORDER BY seq DESC"
    " LIMIT ? OFFSET ?"
)
SELECT_ACTIVE = (
    f"SELECT {HEAD_COLUMNS} FROM conditional_orders c WHERE NOT c.cancelled AND EXISTS"
    " (SELECT 1 FROM conditional_parts p WHERE p.id = c.id AND p.status = 'pending')"
    " ORDER BY c.seq"
)
SELECT_UNBOOKED = (
    f"SELECT {HEAD_COLUMNS} FROM conditional_orders c WHERE EXISTS"
    " (SELECT 1 FROM conditional_parts p WHERE p.id = c.id AND p.status = 'released'"
    " AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.uid = p.uid)) ORDER BY c.seq"
)
RELEASE_PART = (
    "UPDATE conditional_parts SET status = 'released', uid = ?, reason = NULL"
    " WHERE id = ? AND idx = ? AND status = 'pending'"
)
NOTE_PART = (
    "UPDATE conditional_parts SET reason = ? WHERE id = ? AND idx = ? AND status = 'pending'"
    " AND (reason IS NULL OR reason <> ?)"
)
EXPIRE_PART = (
    "UPDATE conditional_parts SET status = 'expired'"
    " WHERE id = ? AND idx = ? AND status = 'pending'"
)
CANCEL_HEAD = "UPDATE conditional_orders SET cancelled = TRUE WHERE id = ?"
CANCEL_PARTS = (
    "UPDATE conditional_parts SET status = 'cancelled' WHERE id = ? AND status = 'pending'"
    " RETURNING idx"
)
COUNT_PENDING = "SELECT count(*) FROM conditional_parts WHERE id = ? AND status = 'pending'"


def numbered(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1, $2, ...``."""
    pieces = sql.split("?")
    return "".join(f"{piece}${i}" for i, piece in enumerate(pieces[:-1], 1)) + pieces[-1]
