"""Rejections as the API answers them: an HTTP status and ``{"errorType", "description"}``."""

from __future__ import annotations

from aiohttp import web

from intents.errors import ErrorCode, OrderError
from intents.wire import ErrorBody, encode


def error_response(status: int, error_type: str, description: str) -> web.Response:
    return web.Response(
        status=status,
        body=encode(ErrorBody(error_type=error_type, description=description)),
        content_type="application/json",
    )


def from_order_error(exc: OrderError) -> web.Response:
    return error_response(exc.http_status, exc.code.value, exc.description)


def from_http_exception(request: web.Request, exc: web.HTTPException) -> web.Response:
    """Re-express one of aiohttp's own refusals (no such route, wrong method, body too
    large, ...) in our error body shape, keeping its status and ``Allow`` header."""
    if exc.status == 413:
        error_type, description = ErrorCode.PAYLOAD_TOO_LARGE.value, exc.text or exc.reason
    elif exc.status == 404:
        error_type, description = "NotFound", f"no endpoint at {request.path}"
    elif exc.status == 405:
        error_type = "MethodNotAllowed"
        description = f"{request.method} is not allowed on {request.path}"
    else:
        error_type, description = exc.reason.replace(" ", ""), exc.text or exc.reason
    response = error_response(exc.status, error_type, description)
    if "Allow" in exc.headers:
        response.headers["Allow"] = exc.headers["Allow"]
    return response
