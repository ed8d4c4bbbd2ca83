"""The API's middlewares: error translation at the edge plus request metrics, and the
request body read within a deadline.

Every refusal leaves as ``{"errorType", "description"}`` with its status; an unreachable
dependency (a ``ConnectionError``: chain node down) is 503; an unexpected exception is
logged with its traceback and answered 500 without internals. Each request is
counted and timed under its route template.
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from aiohttp.web_protocol import RequestPayloadError

from intents.errors import ErrorCode, OrderError
from intents.http.keys import METRICS
from intents.http.problems import error_response, from_http_exception, from_order_error

log = logging.getLogger(__name__)


def _route(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def edge(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    response: web.StreamResponse
    try:
        response = await handler(request)
    except OrderError as exc:
        response = from_order_error(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise  # redirects and the like pass through untouched
        response = from_http_exception(request, exc)
    except ConnectionError as exc:  # a dependency (the chain node, the database) is down
        # an outage the client already logged once (the chain breaker) is not logged per request
        level = logging.DEBUG if getattr(exc, "already_reported", False) else logging.WARNING
        log.log(level, "%s %s: dependency unavailable: %s", request.method, request.path, exc)
        response = error_response(
            503, getattr(exc, "code", "ServiceUnavailable"), f"a dependency is unavailable: {exc}"
        )
    except Exception:
        log.exception("unhandled error answering %s %s", request.method, request.path)
        response = error_response(
            500, "InternalServerError", "the server failed to answer; this is a bug"
        )
    request.app[METRICS].observe_request(
        _route(request), request.method, response.status, time.perf_counter() - started
    )
    return response


def _unread(request: web.Request, status: int, error_type: str, description: str) -> web.Response:
    """A refusal of a body that was not (or cannot be) read to its end: the connection is
    closed after it, and what the body stream holds is not drained (aiohttp would re-raise
    a broken stream's error there, with a traceback)."""
    request.content.feed_eof()
    response = error_response(status, error_type, description)
    response.force_close()
    return response


def body_within(seconds: float) -> Middleware:
    """A middleware reading a request's whole body before its handler runs (which then
    gets it from ``request.read()`` at once): a body still incomplete after ``seconds`` is
    answered 408 and its connection closed; one over the application's size limit is
    ``PayloadTooLarge`` (413); one that cannot be decoded (broken chunked framing or
    ``Content-Encoding``) or is cut off by the client is 400 ``MalformedRequest``."""

    @web.middleware
    async def read_body(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.body_exists:
            try:
                async with asyncio.timeout(seconds):
                    await request.read()
            except TimeoutError:
                return _unread(
                    request,
                    408,
                    "RequestTimeout",
                    f"the request body did not arrive within {seconds:g} s",
                )
            except web.HTTPRequestEntityTooLarge:
                raise OrderError(
                    ErrorCode.PAYLOAD_TOO_LARGE,
                    f"request body exceeds the limit of {request.client_max_size} bytes",
                    http_status=413,
                ) from None
            except (RequestPayloadError, ConnectionError) as exc:
                log.debug("%s %s: unreadable body: %s", request.method, request.path, exc)
                return _unread(
                    request, 400, "MalformedRequest", f"the request body cannot be read: {exc}"
                )
        return await handler(request)

    return read_body
