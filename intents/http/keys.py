"""The orderbook API application's typed state (``web.AppKey``s) and its settings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from aiohttp import web

from intents.book import OrderBook
from intents.http.events import EventStreams
from intents.http.metrics import ApiMetrics
from intents.http.ratelimit import RateLimits
from intents.types import Address
from intents.validation import OrderValidator

HealthCheck = Callable[[], Awaitable[object]]
"""Raises (or times out) when the dependency it probes is unreachable."""


@dataclass(frozen=True, slots=True)
class ApiSettings:
    settlement: Address
    """The GPv2Settlement contract orders are signed for (shown in every order)."""
    max_body_bytes: int = 16 * 1024
    heartbeat_seconds: float = 15.0
    """Idle event streams get a comment line this often."""
    max_page: int = 1000
    """Largest ``limit`` of a paged listing."""
    health_timeout_seconds: float = 2.0
    body_timeout_seconds: float = 10.0
    """A request body must arrive within this long after its head (else 408)."""
    rate_limits: RateLimits | None = None
    """Per-client request rates (429 beyond); ``None``: unlimited."""
    cors_origins: tuple[str, ...] = ("*",)
    """Origins browsers may call the public endpoints from (``*``: any; none: no CORS)."""


BOOK = web.AppKey("book", OrderBook)
VALIDATOR = web.AppKey("validator", OrderValidator)
SETTINGS = web.AppKey("settings", ApiSettings)
METRICS = web.AppKey("metrics", ApiMetrics)
STREAMS = web.AppKey("streams", EventStreams)
HEALTH_CHECKS = web.AppKey("health_checks", Mapping[str, HealthCheck])
OPENAPI = web.AppKey("openapi", bytes)
