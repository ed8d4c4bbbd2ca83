"""A stored order as one flat database row, and what else the SQLite and PostgreSQL
adapters share: the live-orders SQL condition and the refusals they raise.

Amounts (uint256) travel as decimal strings: SQLite keeps them as TEXT, PostgreSQL as
NUMERIC(78,0) (cast in SQL); never a float.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from intents.errors import (
    DuplicatedOrder,
    ErrorCode,
    OrderError,
    OrderNotFound,
)
from intents.lifecycle import LIVE, UNSETTLED
from intents.order import (
    BuyTokenBalance,
    Order,
    OrderClass,
    OrderKind,
    OrderStatus,
    SellTokenBalance,
    SigningScheme,
    StoredOrder,
)
from intents.quotes import StoredQuote
from intents.types import Address, OrderUid, TokenAddress

COLUMNS = (
    "uid",
    "owner",
    "sell_token",
    "buy_token",
    "receiver",
    "sell_amount",
    "buy_amount",
    "valid_to",
    "app_data",
    "fee_amount",
    "kind",
    "partially_fillable",
    "sell_token_balance",
    "buy_token_balance",
    "signing_scheme",
    "signature",
    "order_class",
    "creation_time",
    "app_data_json",
    "status",
    "executed_sell",
    "executed_buy",
    "executed_fee",
    "presigned",
    "quote_id",
)
ADDED_COLUMNS = {
    "presigned": ("INTEGER NOT NULL DEFAULT 1", "BOOLEAN NOT NULL DEFAULT TRUE"),
    "quote_id": ("INTEGER", "BIGINT"),
}
"""Columns of ``orders`` added after its first release, with their SQLite and PostgreSQL
types: books created before are migrated on open (``ALTER TABLE ... ADD COLUMN``); every
order stored before pre-signatures were indexed was accepted signed, and named no quote."""
AMOUNT_COLUMNS = frozenset(
    {"sell_amount", "buy_amount", "fee_amount", "executed_sell", "executed_buy", "executed_fee"}
)
LIVE_SQL = "status IN ({})".format(", ".join(sorted(f"'{s.value}'" for s in LIVE)))
"""Orders that can still trade (apart from ``valid_to``), as ``lifecycle.LIVE`` says; the
``orders_live`` partial index is built on this very condition, so queries can use it."""
UNSETTLED_SQL = "status IN ({})".format(", ".join(sorted(f"'{s.value}'" for s in UNSETTLED)))
"""Orders that may still trade some day (``lifecycle.UNSETTLED``): what expiry ends."""


def not_found(uid: OrderUid) -> OrderNotFound:
    return OrderNotFound(f"no order with UID 0x{uid.hex()}")


def duplicated(uid: OrderUid) -> DuplicatedOrder:
    return DuplicatedOrder(f"order 0x{uid.hex()} is already stored")


def wrong_owner(uid: OrderUid, owner: Address) -> OrderError:
    """A cancellation by ``owner`` names an order of someone else (401, as CoW)."""
    return OrderError(
        ErrorCode.WRONG_OWNER, f"order 0x{uid.hex()} does not belong to {owner}", http_status=401
    )


def to_row(stored: StoredOrder) -> tuple[Any, ...]:
    """Values in ``COLUMNS`` order."""
    o = stored.order
    return (
        bytes(stored.uid),
        stored.owner,
        o.sell_token,
        o.buy_token,
        o.receiver,
        str(o.sell_amount),
        str(o.buy_amount),
        o.valid_to,
        o.app_data,
        str(o.fee_amount),
        o.kind.value,
        o.partially_fillable,
        o.sell_token_balance.value,
        o.buy_token_balance.value,
        stored.signing_scheme.value,
        stored.signature,
        stored.order_class.value,
        stored.creation_time,
        stored.app_data_json,
        stored.status.value,
        str(stored.executed_sell_amount),
        str(stored.executed_buy_amount),
        str(stored.executed_fee_amount),
        stored.presigned,
        stored.quote_id,
    )


def from_row(r: Sequence[Any]) -> StoredOrder:
    """Inverse of ``to_row`` (amount columns may come back as ``str`` or ``int``)."""
    return StoredOrder(
        uid=OrderUid(bytes(r[0])),
        owner=Address(r[1]),
        order=Order(
            sell_token=TokenAddress(r[2]),
            buy_token=TokenAddress(r[3]),
            receiver=Address(r[4]),
            sell_amount=int(r[5]),
            buy_amount=int(r[6]),
            valid_to=int(r[7]),
            app_data=bytes(r[8]),
            fee_amount=int(r[9]),
            kind=OrderKind(r[10]),
            partially_fillable=bool(r[11]),
            sell_token_balance=SellTokenBalance(r[12]),
            buy_token_balance=BuyTokenBalance(r[13]),
        ),
        signing_scheme=SigningScheme(r[14]),
        signature=bytes(r[15]),
        order_class=OrderClass(r[16]),
        creation_time=float(r[17]),
        app_data_json=r[18],
        status=OrderStatus(r[19]),
        executed_sell_amount=int(r[20]),
        executed_buy_amount=int(r[21]),
        executed_fee_amount=int(r[22]),
        presigned=bool(r[23]),
        quote_id=None if r[24] is None else int(r[24]),
    )


QUOTE_COLUMNS = (
    "owner, sell_token, buy_token, kind, quoted_sell_amount, quoted_buy_amount, fee_amount,"
    " verified,"
    " creation_time, expiration"
)


def quote_row(q: StoredQuote) -> tuple[Any, ...]:
    """``q``'s values in ``QUOTE_COLUMNS`` order (amounts as decimal strings)."""
    amounts = (str(q.quoted_sell_amount), str(q.quoted_buy_amount), str(q.fee_amount))
    tokens = (q.owner, q.sell_token, q.buy_token, q.kind.value)
    return (*tokens, *amounts, q.verified, q.creation_time, q.expiration)


def quote_of(quote_id: int, r: tuple[Any, ...]) -> StoredQuote:
    """Inverse of ``quote_row`` (amounts may come back as ``str`` or ``int``)."""
    return StoredQuote(
        id=quote_id,
        owner=Address(r[0]),
        sell_token=TokenAddress(r[1]),
        buy_token=TokenAddress(r[2]),
        kind=OrderKind(r[3]),
        quoted_sell_amount=int(r[4]),
        quoted_buy_amount=int(r[5]),
        fee_amount=int(r[6]),
        verified=bool(r[7]),
        creation_time=float(r[8]),
        expiration=float(r[9]),
    )
