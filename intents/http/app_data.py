"""The app-data registry: ``PUT /api/v1/app_data/{app_data_hash}``, ``PUT /api/v1/app_data`` and
``GET /api/v1/app_data/{app_data_hash}`` (CoW's ``AppDataObject``: ``{"fullAppData": "<JSON>"}``).

A document is stored under the ``keccak256`` of its exact bytes, durably in the order book,
once it is a JSON object within the size limit (else 400 ``AppDataInvalid``); given a hash
that is not that, 400 ``AppDataHashMismatch``. A new document answers 201, one already
stored 200, both with the hash. ``GET`` finds documents uploaded here and those posted in
full with an order; none is 404 ``NotFound`` (CoW answers a bare text line; here it is the
API's error body like every other refusal).
"""

from __future__ import annotations

import msgspec
from aiohttp import web

from intents.appdata import resolve_app_data
from intents.errors import ErrorCode, OrderError
from intents.http.keys import BOOK
from intents.http.views import hash_param, json_response
from intents.wire import decode, decoder, encode, to_hex

ROUTES = web.RouteTableDef()


class AppDataObject(msgspec.Struct, frozen=True, rename="camel"):
    full_app_data: str


_decoder = decoder(AppDataObject)


async def _register(request: web.Request, claimed: bytes | None) -> web.Response:
    document = decode(_decoder, await request.read()).full_app_data
    try:
        resolved = resolve_app_data(document, None if claimed is None else to_hex(claimed))
    except OrderError as exc:
        if exc.code is ErrorCode.INVALID_APP_DATA:
            raise OrderError(ErrorCode.APP_DATA_INVALID, exc.description) from None
        raise
    if resolved.document is None:  # the document was itself a hash, not a JSON object
        raise OrderError(ErrorCode.APP_DATA_INVALID, "app data must be a JSON object")
    created = await request.app[BOOK].put_app_data(resolved.hash, resolved.document)
    return json_response(encode(to_hex(resolved.hash)), status=201 if created else 200)


@ROUTES.put("/api/v1/app_data/{app_data_hash}")
async def put_app_data(request: web.Request) -> web.Response:
    claimed = hash_param(request.match_info["app_data_hash"], "app_data_hash")
    return await _register(request, claimed)


@ROUTES.put("/api/v1/app_data")
async def put_app_data_without_hash(request: web.Request) -> web.Response:
    return await _register(request, None)


@ROUTES.get("/api/v1/app_data/{app_data_hash}")
async def get_app_data(request: web.Request) -> web.Response:
    app_data_hash = hash_param(request.match_info["app_data_hash"], "app_data_hash")
    document = await request.app[BOOK].app_data(app_data_hash)
    if document is None:
        raise OrderError(ErrorCode.NOT_FOUND, "full app data not found")
    return json_response(encode(AppDataObject(document)))
