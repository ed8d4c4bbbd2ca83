"""Handlers of ``/api/v1/conditional_orders``: create, read (with parts, status, history),
list by owner, cancel. See ``intents.conditional_auth`` for who signs what."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from intents.conditional_auth import ConditionalAuthorizer
from intents.conditional_store import StoredConditional, not_found
from intents.conditional_wire import (
    ConditionalOrderResponse,
    OrderState,
    conditional_view,
    decode_conditional_cancellation,
    decode_conditional_creation,
)
from intents.errors import ErrorCode, OrderError
from intents.http.keys import BOOK, SETTINGS
from intents.http.views import address_param, json_response, order_views, query_int
from intents.types import OrderUid
from intents.wire import encode, to_hex

ROUTES = web.RouteTableDef()
AUTHORIZER = web.AppKey("conditional_authorizer", ConditionalAuthorizer)
ID_LENGTH = 52


def _conditional_id(request: web.Request) -> bytes:
    text = request.match_info["id"]
    if len(text) == 2 + 2 * ID_LENGTH and text[:2] == "0x":
        try:
            return bytes.fromhex(text[2:])
        except ValueError:
            pass
    raise OrderError(
        ErrorCode.INVALID_FIELD,
        f"not a conditional order id (52 bytes as 0x hex): {text[:120]!r}",
        http_status=400,
    )


async def _views(
    request: web.Request, stored: list[StoredConditional]
) -> list[ConditionalOrderResponse]:
    book = request.app[BOOK]
    uids = [OrderUid(p.uid) for c in stored for p in c.parts if p.uid is not None]
    found = [o for o in await asyncio.gather(*(book.get(uid) for uid in uids)) if o is not None]
    orders: dict[bytes, OrderState] = {
        bytes.fromhex(view.uid[2:]): (view.status, int(view.executed_buy_amount))
        for view in await order_views(request, found)
    }
    return [conditional_view(c, orders) for c in stored]


async def _stored(request: web.Request, conditional_id: bytes) -> StoredConditional:
    stored = await request.app[BOOK].get_conditional(conditional_id)
    if stored is None:
        raise not_found(conditional_id)
    return stored


@ROUTES.post("/api/v1/conditional_orders")
async def create_conditional(request: web.Request) -> web.Response:
    """Check a signed conditional order and store it; 201 with its id once committed."""
    creation = decode_conditional_creation(await request.read())
    stored = await request.app[AUTHORIZER].authorize(creation)
    await request.app[BOOK].insert_conditional(stored)
    return json_response(encode(to_hex(stored.id)), status=201)


@ROUTES.get("/api/v1/conditional_orders/{id}")
async def get_conditional(request: web.Request) -> web.Response:
    [view] = await _views(request, [await _stored(request, _conditional_id(request))])
    return json_response(encode(view))


@ROUTES.delete("/api/v1/conditional_orders/{id}")
async def cancel_conditional(request: web.Request) -> web.Response:
    """Cancel by the owner's signed ``ConditionalOrderCancellation``: no pending part is
    released any more (released parts are orders of their own: ``DELETE /api/v1/orders``)."""
    conditional_id = _conditional_id(request)
    cancellation = decode_conditional_cancellation(await request.read())
    stored = await _stored(request, conditional_id)
    await request.app[AUTHORIZER].authorize_cancellation(stored, cancellation)
    await request.app[BOOK].cancel_conditional(conditional_id, time.time())
    return json_response(encode("Cancelled"))


@ROUTES.get("/api/v1/account/{owner}/conditional_orders")
async def list_account_conditionals(request: web.Request) -> web.Response:
    """The owner's conditional orders, newest first, ``offset``/``limit`` paged."""
    owner = address_param(request.match_info["owner"], "owner")
    offset = query_int(request, "offset", 0, 0, 2**31)
    limit = query_int(request, "limit", 10, 1, request.app[SETTINGS].max_page)
    stored = await request.app[BOOK].conditionals_by_owner(owner, offset, limit)
    return json_response(encode(await _views(request, stored)))
