"""The solver-engine HTTP API, as CoW's driver calls a solver: ``POST /solve`` (an auction
in, ``{"solutions": [...]}`` out) and ``POST /notify`` (what became of a solution; 204).

Rejections are ``{"errorType", "description"}`` like the orderbook's: malformed JSON 400,
a document that is not an auction (wrong type, enum value or amount; unknown fields are
ignored, see ``solver.dto``) 422 ``InvalidAuction`` with the JSON path, e.g.
``Expected `str`, got `int` - at `$.orders[0].sellAmount```. Only decoding and the
conversion's format errors are the client's fault: an exception of an engine is logged by
``solve_all`` and costs that engine's solutions, never a 422. Engines run one auction at
a time in a worker thread, each until the auction's deadline; their solutions are numbered
uniquely in the response.

Limits (``SolveApiSettings``, the ``tributary solve-engine`` flags): with a token, every
request must carry ``Authorization: Bearer <token>`` (else 401 ``Unauthorized``, compared
in constant time); bodies over ``max_body_bytes`` are 413 ``PayloadTooLarge``; a deadline
further than ``max_time_limit`` seconds out is clamped to it (and logged), so a caller
cannot keep the engines busy for as long as it likes.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import msgspec
from aiohttp import web
from aiohttp.typedefs import Middleware

from intents.http.problems import error_response, from_http_exception
from routing.pool import LiquidityFormatError
from solver import dto, dto_notification
from solver.checks import passing_solutions
from solver.dto_convert import auction_from_dto, solution_to_dto
from solver.engines import Engine, solve_all
from solver.model import now

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SolveApiSettings:
    token: str | None = None
    """The bearer token callers must present; ``None``: no authentication."""
    max_body_bytes: int = 32 * 1024 * 1024
    """Auctions with the tick data of hundreds of pools run to a few megabytes."""
    max_time_limit: float = 20.0
    """Seconds from receipt the engines may run at most, whatever the auction's deadline."""

    def __post_init__(self) -> None:
        if self.token is not None and not self.token:
            raise ValueError("an empty token would admit anyone: give none or a real one")
        if self.max_body_bytes < 1 or not self.max_time_limit > 0:
            raise ValueError("the body limit and the time limit must be positive")


ENGINES = web.AppKey("engines", tuple[Engine, ...])
LOCK = web.AppKey("solve_lock", asyncio.Lock)
SETTINGS = web.AppKey("solve_settings", SolveApiSettings)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _decode_error(exc: msgspec.DecodeError, what: str) -> web.Response:
    if isinstance(exc, msgspec.ValidationError):
        return error_response(422, f"Invalid{what}", str(exc))
    return error_response(400, "MalformedJson", str(exc))


async def solve(request: web.Request) -> web.Response:
    received = now()
    body = await request.read()
    try:
        wire = dto.decode_auction(body)
    except msgspec.DecodeError as exc:
        return _decode_error(exc, "Auction")
    try:
        auction = auction_from_dto(wire)
    except LiquidityFormatError as exc:  # liquidity routing cannot read as a whole
        return error_response(422, "InvalidAuction", str(exc))
    latest = received + timedelta(seconds=request.app[SETTINGS].max_time_limit)
    if auction.deadline > latest:
        logger.info(
            "auction %s: deadline %s is further than the time limit; solving until %s",
            auction.id,
            auction.deadline.isoformat(),
            latest.isoformat(),
        )
        auction = auction.with_deadline(latest)
    engines = request.app[ENGINES]
    async with request.app[LOCK]:
        solutions = await asyncio.to_thread(solve_all, engines, auction)
    # a solver engine answers only what it would settle itself: a rejected one is logged
    solutions = passing_solutions(auction, solutions)
    orders = {order.uid: order for order in auction.orders}
    logger.info(
        "auction %s: %d orders, %d solutions from %s",
        auction.id,
        len(auction.orders),
        len(solutions),
        ", ".join(e.name for e in engines),
    )
    body = dto.encode_solutions([solution_to_dto(s, orders) for s in solutions])
    return web.Response(body=body, content_type="application/json")


async def notify(request: web.Request) -> web.Response:
    body = await request.read()
    try:
        notification = dto_notification.decode_notification(body)
    except msgspec.DecodeError as exc:
        return _decode_error(exc, "Notification")
    logger.info(
        "notification: %s for auction %s solution %s: %s",
        type(notification).__name__,
        notification.auction_id,
        notification.solution_id,
        notification,
    )
    return web.Response(status=204)


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        return from_http_exception(request, exc)


def _bearer(token: str) -> Middleware:
    expected = f"Bearer {token}".encode()

    @web.middleware
    async def authenticated(request: web.Request, handler: Handler) -> web.StreamResponse:
        given = request.headers.get("Authorization", "").encode("utf-8", "surrogateescape")
        if hmac.compare_digest(given, expected):
            return await handler(request)
        response = error_response(
            401,
            "Unauthorized",
            "this solver engine needs `Authorization: Bearer <token>` with its token",
        )
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

    return authenticated


def make_app(
    engines: Sequence[Engine], settings: SolveApiSettings | None = None
) -> web.Application:
    """The solver-engine application serving ``engines`` under ``settings``."""
    settings = settings or SolveApiSettings()
    auth = [_bearer(settings.token)] if settings.token is not None else []
    app = web.Application(middlewares=[_errors, *auth], client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    app[ENGINES] = tuple(engines)
    app[LOCK] = asyncio.Lock()
    app.router.add_post("/solve", solve)
    app.router.add_post("/notify", notify)
    return app
