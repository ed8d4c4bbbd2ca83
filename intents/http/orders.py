"""Handlers of the order endpoints: create, read, cancel, list by owner, events."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from intents.cancellation import (
    authorize_cancellation,
    authorize_single_cancellation,
    refuse_cancellation,
)
from intents.errors import OrderError
from intents.http.keys import BOOK, METRICS, SETTINGS, STREAMS, VALIDATOR
from intents.http.views import (
    address_param,
    json_response,
    order_views,
    query_int,
    stored_order,
)
from intents.types import OrderUid
from intents.wire import (
    decode_cancellation_payload,
    decode_cancellations,
    decode_order_creation,
    encode,
    parse_uid,
    to_hex,
)

ROUTES = web.RouteTableDef()


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
    return json_response(encode(to_hex(stored.uid)), status=201)


@ROUTES.get("/api/v1/orders/{uid}")
async def get_order(request: web.Request) -> web.Response:
    [view] = await order_views(request, [await stored_order(request)])
    return json_response(encode(view))


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
    return json_response(encode("Cancelled"))


@ROUTES.delete("/api/v1/orders/{uid}")
async def cancel_order(request: web.Request) -> web.Response:
    """Cancel one order by a signed ``OrderCancellation`` (CoW's deprecated endpoint)."""
    uid = parse_uid(request.match_info["uid"])
    payload = decode_cancellation_payload(await request.read())
    await _check_cancellable(request, [uid])
    owner = authorize_single_cancellation(request.app[VALIDATOR].domain_separator, uid, payload)
    await request.app[BOOK].cancel([uid], owner)
    return json_response(encode("Cancelled"))


@ROUTES.get("/api/v1/account/{owner}/orders")
async def list_account_orders(request: web.Request) -> web.Response:
    """The owner's orders, newest first, ``offset``/``limit`` paged."""
    owner = address_param(request.match_info["owner"], "owner")
    offset = query_int(request, "offset", 0, 0, 2**31)
    limit = query_int(request, "limit", 10, 1, request.app[SETTINGS].max_page)
    orders = await request.app[BOOK].list_by_owner(owner, offset, limit)
    return json_response(encode(await order_views(request, orders)))


@ROUTES.get("/api/v1/events")
async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events of committed status changes, all or of one ``owner``."""
    raw = request.query.get("owner")
    owner = address_param(raw, "owner") if raw is not None else None
    return await request.app[STREAMS].serve(request, owner)
