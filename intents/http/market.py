"""``GET /api/v1/token/{token}/native_price`` and ``GET /api/v1/version``.

The native price is CoW's ``NativePriceResponse``: ``{"price": <float>}``, the native-token
atoms one atom of the token is worth. This package does not price: an injected async
``NativePricer`` answers a token's price in native wei per ``10**18`` base units (CoW's
reference-price unit; the node's prices over the auctioneer's liquidity), or None when no
route prices it (404 ``NoLiquidity``, CoW's answer). Without a pricer: 503.

The version is plain text, as CoW's (its git version): the package's name and version.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib import metadata

import msgspec
from aiohttp import web

from intents.errors import ErrorCode, OrderError
from intents.http.problems import error_response
from intents.http.views import address_param, json_response
from intents.types import TokenAddress
from intents.wire import encode

NativePricer = Callable[[TokenAddress], Awaitable[int | None]]
NATIVE_PRICER: web.AppKey[NativePricer] = web.AppKey("native_pricer")
PRICE_BASE = 10**18
ROUTES = web.RouteTableDef()


class NativePriceResponse(msgspec.Struct, frozen=True):
    price: float


def version() -> str:
    try:
        return f"tributary {metadata.version('tributary')}"
    except metadata.PackageNotFoundError:  # run from a source tree that was not installed
        return "tributary (unreleased)"


@ROUTES.get("/api/v1/version")
async def get_version(_: web.Request) -> web.Response:
    return web.Response(text=version(), content_type="text/plain")


@ROUTES.get("/api/v1/token/{token}/native_price")
async def get_native_price(request: web.Request) -> web.Response:
    token = TokenAddress(address_param(request.match_info["token"], "token"))
    pricer = request.app.get(NATIVE_PRICER)
    if pricer is None:
        return error_response(503, "NativePriceUnavailable", "this node prices no tokens")
    price = await pricer(token)
    if price is None:
        raise OrderError(ErrorCode.NO_LIQUIDITY, "no route found")
    return json_response(encode(NativePriceResponse(price / PRICE_BASE)))
