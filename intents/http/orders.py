"""Handlers of the order endpoints: create, read, status, cancel, list by owner, events."""

from __future__ import annotations

import asyncio
import time

import msgspec
from aiohttp import web

from intents.cancellation import (
    authorize_cancellation,
    authorize_single_cancellation,
    refuse_cancellation,
)
from intents.errors import ErrorCode, OrderError, OrderNotFound
from intents.http.keys import BOOK, METRICS, SETTINGS, STREAMS, VALIDATOR
from intents.order import OrderStatus, StoredOrder
from intents.types import Address, OrderUid, to_address
from intents.wire import (
    OrderResponse,
    decode_cancellation_payload,
    decode_cancellations,
    decode_order_creation,
    encode,
    parse_uid,
    to_hex,
)

ROUTES = web.RouteTableDef()


class OrderStatusResponse(msgspec.Struct, frozen=True, rename="camel"):
    """CoW's ``CompetitionOrderStatus`` subset: ``type`` is ``open`` (waiting for or in an
    auction), ``traded`` (filled or partially filled), ``cancelled`` or ``expired``."""

    type: str


_STATUS_TYPE = {
    OrderStatus.PRESIGNATURE_PENDING: "open",  # CoW's competition status has no pending
    OrderStatus.OPEN: "open",
    OrderStatus.PARTIALLY_FILLED: "traded",
    OrderStatus.FILLED: "traded",
    OrderStatus.CANCELLED: "cancelled",
    OrderStatus.EXPIRED: "expired",
}


def _json(body: bytes, status: int = 200) -> web.Response:
    return web.Response(status=status, body=body, content_type="application/json")


async def _stored(request: web.Request) -> StoredOrder:
    uid = parse_uid(request.match_info["uid"])
    stored = await request.app[BOOK].get(uid)
    if stored is None:
        raise OrderNotFound(f"no order with UID {to_hex(uid)}")
    return stored


def _view(request: web.Request, stored: StoredOrder) -> OrderResponse:
    return OrderResponse.from_stored(
        stored, settlement_contract=request.app[SETTINGS].settlement, now=time.time()
    )


def _invalid_query(name: str, why: str, http_status: int | None = None) -> OrderError:
    return OrderError(ErrorCode.INVALID_FIELD, f"{why} - at `{name}`", http_status=http_status)


def _query_int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    """A decimal query parameter in ``[low, high]``, else 400 ``InvalidField`` (as CoW
    answers a bad ``limit``); digits are counted before ``int()``, which refuses strings
    of over 4,300 digits with a ``ValueError``."""
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
        raise _invalid_query(
            name, f"Expected an integer in [{low}, {high}], got {raw[:40]!r}", http_status=400
        )
    return int(digits)


def _address(raw: str, name: str) -> Address:
    try:
        return to_address(raw)
    except ValueError:
        raise _invalid_query(name, f"Expected a 20-byte 0x hex address, got {raw[:60]!r}") from None


@ROUTES.post("/api/v1/orders")
async def create_order(request: web.Request) -> web.Response:
    """Validate a signed order and store it; 201 with its UID once it is committed."""
    metrics = request.app[METRICS]
    try:
        creation = decode_order_creation(await request.read())
        validator = request.app[VALIDATOR]
        stored = await validator.validate(creation)
        cap = validator.policy.max_limit_orders_per_owner
        await request.app[BOOK].insert(stored, limit_cap=cap)
    except OrderError as exc:
        metrics.observe_order(exc.code.value)
        raise
    metrics.observe_order("accepted")
    return _json(encode(to_hex(stored.uid)), status=201)


@ROUTES.get("/api/v1/orders/{uid}")
async def get_order(request: web.Request) -> web.Response:
    return _json(encode(_view(request, await _stored(request))))


@ROUTES.get("/api/v1/orders/{uid}/status")
async def get_order_status(request: web.Request) -> web.Response:
    stored = await _stored(request)
    kind = _STATUS_TYPE[stored.status]
    if kind == "open" and stored.order.valid_to < time.time():
        kind = "expired"
    return _json(encode(OrderStatusResponse(kind)))


async def _check_cancellable(request: web.Request, uids: list[OrderUid]) -> None:
    """CoW's order of answers: the orders' state before the signature (the book checks it
    again, under its lock, when it cancels)."""
    book, now = request.app[BOOK], time.time()
    found = await asyncio.gather(*(book.get(uid) for uid in uids))
    for uid, stored in zip(uids, found, strict=True):
        refuse_cancellation(uid, stored, now)


@ROUTES.delete("/api/v1/orders")
async def cancel_orders(request: web.Request) -> web.Response:
    """Cancel orders by a signed ``OrderCancellations``; only their owner may."""
    cancellation = decode_cancellations(await request.read())
    await _check_cancellable(request, cancellation.uids)
    owner, uids = authorize_cancellation(request.app[VALIDATOR].domain_separator, cancellation)
    await request.app[BOOK].cancel(uids, owner)
    return _json(encode("Cancelled"))


@ROUTES.delete("/api/v1/orders/{uid}")
async def cancel_order(request: web.Request) -> web.Response:
    """Cancel one order by a signed ``OrderCancellation`` (CoW's deprecated endpoint)."""
    uid = parse_uid(request.match_info["uid"])
    payload = decode_cancellation_payload(await request.read())
    await _check_cancellable(request, [uid])
    owner = authorize_single_cancellation(request.app[VALIDATOR].domain_separator, uid, payload)
    await request.app[BOOK].cancel([uid], owner)
    return _json(encode("Cancelled"))


@ROUTES.get("/api/v1/account/{owner}/orders")
async def list_account_orders(request: web.Request) -> web.Response:
    """The owner's orders, newest first, ``offset``/``limit`` paged."""
    owner = _address(request.match_info["owner"], "owner")
    offset = _query_int(request, "offset", 0, 0, 2**31)
    limit = _query_int(request, "limit", 10, 1, request.app[SETTINGS].max_page)
    orders = await request.app[BOOK].list_by_owner(owner, offset, limit)
    return _json(encode([_view(request, stored) for stored in orders]))


@ROUTES.get("/api/v1/events")
async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events of committed status changes, all or of one ``owner``."""
    raw = request.query.get("owner")
    owner = _address(raw, "owner") if raw is not None else None
    return await request.app[STREAMS].serve(request, owner)
