"""CORS for the public endpoints (``/api/...``), so browser dApps can call the API.

A browser sends a preflight (``OPTIONS`` with ``Origin`` and
``Access-Control-Request-Method``) before any request carrying ``Content-Type:
application/json`` — every cow-sdk call. It is answered 204 with the allowed methods and
headers (CoW's lists, plus ``Authorization``) when the origin is allowed, else 403
``OriginNotAllowed``. Every answer to an allowed origin, refusals included (the page must
be able to read the error), carries ``Access-Control-Allow-Origin``: ``*`` when every
origin is allowed (the default, as CoW), else the request's origin with ``Vary: Origin``.
Operational endpoints (``/healthz``, ``/metrics``, ``/openapi.json``) get no CORS headers;
no origins at all turns CORS off.
"""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from intents.http.problems import error_response

ALLOWED_METHODS = "GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS"
ALLOWED_HEADERS = "Origin, Content-Type, Accept, Authorization, X-Auth-Token, X-AppId"
MAX_AGE_SECONDS = 3600
PUBLIC_PREFIX = "/api/"
ANY = "*"


def install_cors(app: web.Application, origins: Iterable[str]) -> None:
    """Answer preflights for ``origins`` (``*``: any) before anything else runs (rate
    limits included), and add the allow-origin header to every answer of the public
    endpoints, as it is prepared: streamed ones (the event stream) too."""
    allowed = frozenset(o.rstrip("/").lower() for o in origins)
    if not allowed:
        return

    def allow_origin(request: web.BaseRequest) -> str | None:
        origin = request.headers.get(hdrs.ORIGIN)
        if origin is None or not request.path.startswith(PUBLIC_PREFIX):
            return None
        if ANY in allowed:
            return ANY
        return origin if origin.rstrip("/").lower() in allowed else None

    @web.middleware
    async def preflight(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not (
            request.method == hdrs.METH_OPTIONS
            and hdrs.ACCESS_CONTROL_REQUEST_METHOD in request.headers
            and hdrs.ORIGIN in request.headers
            and request.path.startswith(PUBLIC_PREFIX)
        ):
            return await handler(request)
        if allow_origin(request) is None:
            origin = request.headers[hdrs.ORIGIN]
            return error_response(
                403, "OriginNotAllowed", f"origin {origin[:200]} may not call this API"
            )
        response = web.Response(status=204)
        response.headers[hdrs.ACCESS_CONTROL_ALLOW_METHODS] = ALLOWED_METHODS
        response.headers[hdrs.ACCESS_CONTROL_ALLOW_HEADERS] = ALLOWED_HEADERS
        response.headers[hdrs.ACCESS_CONTROL_MAX_AGE] = str(MAX_AGE_SECONDS)
        return response

    async def allow_header(request: web.BaseRequest, response: web.StreamResponse) -> None:
        allow = allow_origin(request)
        if allow is not None:
            response.headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = allow
            if allow != ANY:
                response.headers.add(hdrs.VARY, hdrs.ORIGIN)

    app.middlewares.insert(0, preflight)
    app.on_response_prepare.append(allow_header)
