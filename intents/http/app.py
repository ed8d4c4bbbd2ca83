"""The orderbook API as an aiohttp application (the factory the node and tests use)."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec
from aiohttp import web

from intents.book import OrderBook
from intents.conditional_auth import ConditionalAuthorizer
from intents.http import (
    app_data,
    competition,
    conditional,
    explorer,
    fees,
    market,
    ops,
    orders,
    rounds,
    status,
    trades,
    webhooks,
)
from intents.http.cors import install_cors
from intents.http.events import EventStreams
from intents.http.keys import (
    BOOK,
    HEALTH_CHECKS,
    METRICS,
    OPENAPI,
    SETTINGS,
    STREAMS,
    VALIDATOR,
    ApiSettings,
    HealthCheck,
)
from intents.http.metrics import ApiMetrics
from intents.http.middleware import body_within, edge
from intents.http.openapi import openapi_document
from intents.http.quote import Quoter, add_quote
from intents.http.ratelimit import rate_limited
from intents.validation import OrderValidator


async def _end_streams(app: web.Application) -> None:
    """On shutdown, end open event streams so their handlers return promptly."""
    app[STREAMS].close_all()


def create_app(
    *,
    book: OrderBook,
    validator: OrderValidator,
    settings: ApiSettings,
    health_checks: Mapping[str, HealthCheck] | None = None,
    quoter: Quoter | None = None,
    native_pricer: market.NativePricer | None = None,
    webhook_settings: webhooks.WebhookSettings | None = None,
) -> web.Application:
    """The API over an open ``book``; the caller owns the book's and the chain's lifetime.

    ``health_checks`` name the dependencies ``/healthz`` probes; by default the order book.
    ``quoter`` prices ``POST /api/v1/quote`` (without one it answers 503), and
    ``native_pricer`` ``GET /api/v1/token/{token}/native_price`` (likewise).
    ``webhook_settings``: whether private webhook addresses are allowed, the per-owner cap.
    """
    limits = [rate_limited(settings.rate_limits)] if settings.rate_limits is not None else []
    app = web.Application(
        middlewares=[edge, *limits, body_within(settings.body_timeout_seconds)],
        client_max_size=settings.max_body_bytes,
    )
    app[BOOK] = book
    app[VALIDATOR] = validator
    app[SETTINGS] = settings
    app[METRICS] = ApiMetrics()
    app[STREAMS] = EventStreams(book.subscribe, book, settings.heartbeat_seconds)
    app[HEALTH_CHECKS] = health_checks if health_checks is not None else {"database": book.count}
    app[ops.HEALTH_LOG] = ops.HealthLog()
    app[OPENAPI] = msgspec.json.encode(openapi_document())
    app[conditional.AUTHORIZER] = ConditionalAuthorizer(
        domain_separator=validator.domain_separator,
        chain=validator.chain,
        policy=validator.policy,
        clock=validator.clock,
    )
    app[webhooks.SETTINGS] = webhook_settings or webhooks.WebhookSettings()
    app.router.add_routes(orders.ROUTES)
    app.router.add_routes(conditional.ROUTES)
    app.router.add_routes(ops.ROUTES)
    for module in (status, trades, app_data, competition, market, rounds, fees, explorer, webhooks):
        app.router.add_routes(module.ROUTES)
    if native_pricer is not None:
        app[market.NATIVE_PRICER] = native_pricer
    install_cors(app, settings.cors_origins)
    add_quote(app, quoter)
    app.on_shutdown.append(_end_streams)
    return app


__all__ = ["ApiSettings", "create_app"]
