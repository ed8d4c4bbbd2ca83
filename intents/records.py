"""What the order book keeps besides orders, for what CoW's API serves: the trades (one per
``Trade`` event, with the settlement transaction that made it), uploaded app-data documents
and each auction's solver competition.

``Records`` (with the fee ledger it extends, ``intents.fee_ledger``) is the interface both
book adapters implement (``intents.records_sqlite``, ``intents.records_postgres``); the
models are in-process (integers, ``bytes``, lowercase addresses), the HTTP layer turns them
into CoW's JSON.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

import msgspec

from intents.errors import ErrorCode, OrderError
from intents.fee_ledger import FeeLedger
from intents.order import StoredOrder
from intents.types import Address, OrderUid, TokenAddress


class TradeRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One recorded fill (a ``Trade`` event) with its order's owner and tokens."""

    uid: OrderUid
    owner: Address
    sell_token: TokenAddress
    buy_token: TokenAddress
    block_number: int
    log_index: int
    tx_hash: bytes
    executed_sell: int  # excluding the signed fee
    executed_buy: int
    executed_fee: int  # the signed fee this trade took


class HookFailureRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A hook of order ``uid`` that reverted in settlement ``tx_hash`` (the trampoline's
    ``HookFailed``; the batch settled regardless): ``stage`` ``pre`` or ``post``, ``index``
    its place in the order's app data, ``target`` the contract it called."""

    uid: OrderUid
    tx_hash: bytes
    stage: str
    index: int
    target: Address


class ChargeRecord(msgspec.Struct, frozen=True, array_like=True):
    """A protocol or partner fee a solution charged an order: ``amount`` of ``token`` left in
    the settlement, owed to ``recipient``."""

    recipient: str
    token: str
    amount: int
    policy: str = ""
    """The policy as CoW's ``FeePolicy`` JSON."""


class SolutionOrder(msgspec.Struct, frozen=True, array_like=True):
    """What one order pays (sell token, all fees included) and receives in a solution;
    ``fee`` is the fee in the sell token (the solver's plus the node's protocol fees),
    ``charges`` the protocol and partner fees one by one."""

    uid: str  # 0x hex
    sell_amount: int
    buy_amount: int
    fee: int = 0
    charges: list[ChargeRecord] = msgspec.field(default_factory=list)


class SolutionRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One scored (or rejected) solution of an auction."""

    solver: str
    solver_address: str
    score: int
    ranking: int
    clearing_prices: dict[str, int]
    orders: list[SolutionOrder]
    is_winner: bool
    filtered_out: bool
    tx_hash: str | None = None  # 0x hex, a winner's mined settlement
    reference_score: int | None = None


class CompetitionRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One auction's competition, as the auctioneer saw it (CoW's ``solver_competition``)."""

    auction_id: int
    auction_start_block: int
    auction_deadline_block: int
    orders: list[str]  # 0x hex UIDs
    prices: dict[str, int]  # reference prices: native wei per 10**18 token base units
    solutions: list[SolutionRecord]
    reference_scores: dict[str, int] = msgspec.field(default_factory=dict)

    @property
    def transaction_hashes(self) -> list[str]:
        return [s.tx_hash for s in self.solutions if s.is_winner and s.tx_hash]


def trade_from_row(r: Any) -> TradeRecord:
    return TradeRecord(
        uid=OrderUid(bytes(r[0])),
        owner=Address(r[1]),
        sell_token=TokenAddress(r[2]),
        buy_token=TokenAddress(r[3]),
        block_number=int(r[4]),
        log_index=int(r[5]),
        tx_hash=bytes(r[6]),
        executed_sell=int(r[7]),
        executed_buy=int(r[8]),
        executed_fee=int(r[9]),
    )


def fee_rows(record: CompetitionRecord) -> list[tuple[bytes, bytes, str]]:
    """(tx hash, uid, solver fee) of every order a mined winner settled."""
    return [
        (bytes.fromhex(s.tx_hash[2:]), bytes.fromhex(o.uid[2:]), str(o.fee))
        for s in record.solutions
        if s.is_winner and s.tx_hash
        for o in s.orders
    ]


def hook_failures_by_order(rows: Iterable[Any]) -> dict[OrderUid, list[HookFailureRecord]]:
    """``hook_failures`` rows (uid, tx hash, stage, index, target) by order."""
    found: dict[OrderUid, list[HookFailureRecord]] = {}
    for uid, tx_hash, stage, index, target in rows:
        key = OrderUid(bytes(uid))
        record = HookFailureRecord(
            uid=key, tx_hash=bytes(tx_hash), stage=stage, index=int(index), target=target
        )
        found.setdefault(key, []).append(record)
    return found


def charge_rows(record: CompetitionRecord) -> list[tuple[bytes, bytes, int, str, str, str, str]]:
    """(tx hash, uid, index, recipient, token, amount, policy) of every protocol or partner
    fee a mined winner charged (the fee ledger's rows, ``intents.fee_ledger``)."""
    return [
        (
            bytes.fromhex(s.tx_hash[2:]),
            bytes.fromhex(o.uid[2:]),
            i,
            c.recipient,
            c.token,
            str(c.amount),
            c.policy,
        )
        for s in record.solutions
        if s.is_winner and s.tx_hash
        for o in s.orders
        for i, c in enumerate(o.charges)
    ]


NEWEST_FIRST = "ORDER BY f.block_number DESC, f.log_index DESC"
"""The order trades are listed in (CoW's): newest first."""
competition_encoder = msgspec.json.Encoder()
competition_decoder = msgspec.json.Decoder(CompetitionRecord)


class AppDataConflict(OrderError):
    """A different document is already stored under this hash (keccak makes it all but
    impossible; CoW answers it as ``AppDataMismatch``)."""

    def __init__(self, app_data_hash: bytes):
        super().__init__(
            ErrorCode.APP_DATA_MISMATCH,
            f"another app data document is stored under 0x{app_data_hash.hex()}",
        )


class Records(FeeLedger, Protocol):
    async def trades(
        self,
        *,
        uid: OrderUid | None = None,
        owner: Address | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[TradeRecord]:
        """The trades of one order or of one owner's orders (exactly one is given), newest
        first (block, log index descending, as CoW's API); ``limit`` None: all of them."""
        ...

    async def orders_of_transaction(self, tx_hash: bytes) -> list[StoredOrder]:
        """The orders a settlement transaction traded, in its log order."""
        ...

    async def solver_fees(self, uids: list[OrderUid]) -> dict[OrderUid, int]:
        """Per order, the solver fees (sell token) of its recorded trades: the fee each
        winning solution charged it, counted for each settlement whose fills are recorded."""
        ...

    async def record_hook_failures(self, failures: list[HookFailureRecord]) -> None:
        """Keep the hooks that failed in a mined settlement (idempotent)."""
        ...

    async def hook_failures(self, uids: list[OrderUid]) -> dict[OrderUid, list[HookFailureRecord]]:
        """Per order, its hooks that failed in settlements whose fills are recorded (a
        reorged-out settlement's failures are not shown)."""
        ...

    async def put_app_data(self, app_data_hash: bytes, document: str) -> bool:
        """Store ``document`` under its hash; True if new, False if it was already stored.
        Raises ``AppDataConflict`` if another document is stored under the hash."""
        ...

    async def app_data(self, app_data_hash: bytes) -> str | None:
        """The document stored (uploaded, or posted with an order) under the hash."""
        ...

    async def record_competition(self, record: CompetitionRecord) -> None:
        """Store an auction's competition (replacing one of the same auction id)."""
        ...

    async def competition(
        self, *, auction_id: int | None = None, tx_hash: bytes | None = None
    ) -> CompetitionRecord | None:
        """The competition of an auction id, of the auction a transaction settled, or
        (neither given) the latest one."""
        ...
