"""Stored orders as the API shows them: ``OrderResponse`` with the fees solvers charged
them and the hooks that failed (one ``Records.solver_fees`` and one
``Records.hook_failures`` read per answer), and query-parameter parsing the
listing endpoints share."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from intents.errors import ErrorCode, OrderError, OrderNotFound
from intents.http.keys import BOOK, SETTINGS
from intents.order import StoredOrder
from intents.types import Address, to_address
from intents.wire import OrderResponse, parse_uid, to_hex


async def stored_order(request: web.Request) -> StoredOrder:
    """The order of the path's ``{uid}``; 404 ``OrderNotFound`` if the book has none."""
    uid = parse_uid(request.match_info["uid"])
    stored = await request.app[BOOK].get(uid)
    if stored is None:
        raise OrderNotFound(f"no order with UID {to_hex(uid)}")
    return stored


async def order_views(request: web.Request, orders: list[StoredOrder]) -> list[OrderResponse]:
    if not orders:
        return []
    book, uids = request.app[BOOK], [s.uid for s in orders]
    fees, failed = await asyncio.gather(book.solver_fees(uids), book.hook_failures(uids))
    settlement, now = request.app[SETTINGS].settlement, time.time()
    return [
        OrderResponse.from_stored(
            stored,
            settlement_contract=settlement,
            now=now,
            solver_fee=fees.get(stored.uid, 0),
            failed_hooks=failed.get(stored.uid, ()),
        )
        for stored in orders
    ]


def json_response(body: bytes, status: int = 200) -> web.Response:
    return web.Response(status=status, body=body, content_type="application/json")


def invalid_query(name: str, why: str, http_status: int | None = None) -> OrderError:
    return OrderError(ErrorCode.INVALID_FIELD, f"{why} - at `{name}`", http_status=http_status)


def query_int(
    request: web.Request,
    name: str,
    default: int,
    low: int,
    high: int,
    *,
    code: ErrorCode = ErrorCode.INVALID_FIELD,
) -> int:
    """A decimal query parameter in ``[low, high]``, else 400 ``code`` (as CoW answers a
    bad ``limit``); digits are counted before ``int()``, which refuses strings of over
    4,300 digits with a ``ValueError``."""
    raw = request.query.get(name)
    if raw is None:
        return default
    digits = raw.lstrip("0") or "0"
    if not (
        raw.isascii()
        and raw.isdigit()
        and len(digits) <= len(str(high))
        and low <= int(digits) <= high
    ):
        raise OrderError(
            code,
            f"Expected an integer in [{low}, {high}], got {raw[:40]!r} - at `{name}`",
            http_status=400,
        )
    return int(digits)


def address_param(raw: str, name: str) -> Address:
    try:
        return to_address(raw)
    except ValueError:
        raise invalid_query(name, f"Expected a 20-byte 0x hex address, got {raw[:60]!r}") from None


def hash_param(raw: str, name: str) -> bytes:
    """A 32-byte ``0x`` hex path or query parameter (a transaction or app-data hash)."""
    body = raw[2:] if raw[:2] in ("0x", "0X") else ""
    if len(body) != 64 or not all(c in "0123456789abcdefABCDEF" for c in body):
        raise invalid_query(name, f"Expected a 32-byte 0x hex hash, got {raw[:80]!r}", 400)
    return bytes.fromhex(body)
