"""The one middleware of the API: error translation at the edge plus request metrics.

Every refusal leaves as ``{"errorType", "description"}`` with its status; an unreachable
dependency (a ``ConnectionError``: chain node down) is 503; an unexpected exception is
logged with its traceback and answered 500 without internals. Each request is
counted and timed under its route template.
"""

from __future__ import annotations

import logging
import time

from aiohttp import web
from aiohttp.typedefs import Handler

from intents.errors import OrderError
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
