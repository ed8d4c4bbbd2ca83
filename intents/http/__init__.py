"""The orderbook HTTP API (aiohttp): CoW-compatible order endpoints, status events,
health, metrics and the OpenAPI document."""

from intents.http.app import create_app
from intents.http.keys import ApiSettings, HealthCheck

__all__ = ["ApiSettings", "HealthCheck", "create_app"]
