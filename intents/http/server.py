"""The HTTP server's own limits, below the application: how long a client may take to send
its request head, how long an idle keep-alive connection is kept, how many connections are
held at once, how long a request line or header may be — and the server's own refusals
(a malformed request line, an over-long one, a bad header) in the API's JSON error shape.

aiohttp's protocol (``web_protocol.RequestHandler``) already bounds lines and fields and
closes idle connections after ``keepalive_timeout``, but it has no header timeout (a client
trickling its headers a byte at a time is kept as long as it keeps trickling), no cap on
connections, and answers a parse error in plain text with a traceback in the log. The
subclass here adds those; ``LimitedAppRunner`` is an ``AppRunner`` whose connections use it.
The body timeout is the application's (``intents.http.middleware``): the body is read by
the handler, after the head.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest
from aiohttp.web_server import Server

from intents.wire import ErrorBody, encode

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HttpLimits:
    """Connection-level limits of the API server (``tributary serve`` flags)."""

    header_timeout: float = 10.0
    """Seconds from a connection's start, or from the first byte of a later request on it,
    until its request line and headers must be complete; then it is answered 408 and
    closed."""
    keepalive_timeout: float = 75.0
    """Seconds an idle keep-alive connection is kept between requests."""
    max_connections: int = 1000
    """Connections held at once; one beyond is answered 503 and closed."""
    max_line_size: int = 8190
    """Bytes of the request line and of each header line (longer: 400 ``LineTooLong``)."""
    max_field_size: int = 8190
    """Bytes of one header field."""

    def __post_init__(self) -> None:
        if min(self.header_timeout, self.keepalive_timeout) <= 0:
            raise ValueError("header and keep-alive timeouts must be positive")
        if min(self.max_connections, self.max_line_size, self.max_field_size) < 1:
            raise ValueError("connection, line and field limits must be at least 1")


LINGER_SECONDS = 2.0
"""After answering a request whose body was not read (408, 413), how long the rest is
drained before closing, so the client reads the answer instead of a reset (aiohttp: 10)."""


def raw_error(status: int, reason: str, error_type: str, description: str) -> bytes:
    """A complete HTTP/1.1 response with our error body that closes the connection, for
    the moments no request object exists (before the head is read)."""
    body = encode(ErrorBody(error_type=error_type, description=description))
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


_TOO_MANY = raw_error(
    503, "Service Unavailable", "TooManyConnections", "the server holds its maximum of connections"
)


def _parse_refusal(exc: BaseException | None) -> tuple[str, str]:
    if isinstance(exc, LineTooLong):
        return "LineTooLong", f"the request line or a header is too long: {exc.message}"
    detail = exc.message if isinstance(exc, HttpProcessingError) else "unreadable request"
    return "MalformedRequest", f"the request cannot be parsed: {detail}"


class LimitedRequestHandler(RequestHandler):
    """aiohttp's protocol plus a header timeout, a connection cap and JSON parse errors."""

    __slots__ = ("_head_count", "_head_timer", "_limits")

    def __init__(self, manager: Server, *, limits: HttpLimits, **kwargs: Any) -> None:
        super().__init__(
            manager,
            keepalive_timeout=limits.keepalive_timeout,
            max_line_size=limits.max_line_size,
            max_field_size=limits.max_field_size,
            lingering_time=LINGER_SECONDS,
            **kwargs,
        )
        self._limits = limits
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_count = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        assert self._manager is not None
        if len(self._manager.connections) > self._limits.max_connections:
            log.debug("connection refused: %d held", self._limits.max_connections)
            self._refuse(_TOO_MANY)
            return
        self._arm_head_timer()  # the first request's head is due within the timeout

    def data_received(self, data: bytes) -> None:
        idle = self._waiter is not None  # between requests: these bytes start a new head
        heads = self._request_count
        super().data_received(data)
        if self._request_count != heads:
            self._cancel_head_timer()  # a complete head (or a parse error) came in
        elif idle and data and self._head_timer is None:
            self._arm_head_timer()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _arm_head_timer(self) -> None:
        self._head_count = self._request_count
        self._head_timer = self._loop.call_later(self._limits.header_timeout, self._head_late)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_late(self) -> None:
        self._head_timer = None
        if self._request_count != self._head_count or self._force_close:
            return
        log.debug("closing %s: request head not complete in time", self.peername)
        self._refuse(
            raw_error(
                408,
                "Request Timeout",
                "RequestTimeout",
                f"the request line and headers did not arrive within "
                f"{self._limits.header_timeout:g} s",
            )
        )

    def _refuse(self, response: bytes) -> None:
        if self.transport is not None:
            self.transport.write(response)
        self.force_close()  # closes after the buffered answer is written

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """A request aiohttp could not parse: 400 in the JSON shape, one debug line (no
        traceback: every scanner on the internet sends these). Other statuses keep aiohttp's
        handling (our middleware answers the application's errors before this)."""
        if status != 400:
            return super().handle_error(request, status, exc, message)
        error_type, description = _parse_refusal(exc)
        log.debug("refused an unparsable request from %s: %s", request.remote, description)
        response = web.Response(
            status=400,
            body=encode(ErrorBody(error_type=error_type, description=description)),
            content_type="application/json",
        )
        response.force_close()
        return response


class LimitedServer(Server):
    """aiohttp's low-level server making ``LimitedRequestHandler`` connections."""

    def __init__(self, *args: Any, limits: HttpLimits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits

    def __call__(self) -> RequestHandler:
        return LimitedRequestHandler(self, loop=self._loop, limits=self.limits, **self._kwargs)


class LimitedAppRunner(web.AppRunner):
    """An ``AppRunner`` serving ``app`` under ``limits``."""

    def __init__(self, app: web.Application, limits: HttpLimits, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._limits = limits

    async def _make_server(self) -> Server:
        plain = await super()._make_server()  # starts the application, as AppRunner does
        return LimitedServer(
            plain.request_handler,
            request_factory=plain.request_factory,
            handler_cancellation=plain.handler_cancellation,
            loop=plain._loop,
            limits=self._limits,
            **plain._kwargs,
        )
