"""Operations endpoints: ``/healthz``, ``/metrics``, ``/openapi.json``."""

from __future__ import annotations

import asyncio
import logging

import msgspec
from aiohttp import web

from intents.http.keys import HEALTH_CHECKS, METRICS, OPENAPI, SETTINGS, HealthCheck
from intents.http.metrics import CONTENT_TYPE

log = logging.getLogger(__name__)
ROUTES = web.RouteTableDef()


class Health(msgspec.Struct, frozen=True):
    """``status`` is ``ok`` or ``unhealthy``; ``checks`` maps each dependency to ``ok`` or
    what went wrong."""

    status: str
    checks: dict[str, str]


_encode = msgspec.json.Encoder().encode


class HealthLog:
    """What ``/healthz`` last reported as failing: a change is logged once, not every probe
    of a load balancer polling through an outage."""

    def __init__(self) -> None:
        self.failing: dict[str, str] = {}

    def report(self, checks: dict[str, str]) -> None:
        failing = {name: result for name, result in checks.items() if result != "ok"}
        if failing.keys() != self.failing.keys():
            if failing:
                log.warning("health check failed: %s", failing)
            else:
                log.warning("healthy again (was: %s)", self.failing)
        self.failing = failing


HEALTH_LOG = web.AppKey("health_log", HealthLog)


async def _probe(check: HealthCheck, seconds: float) -> str:
    try:
        async with asyncio.timeout(seconds):
            await check()
    except TimeoutError:
        return f"no answer within {seconds} s"
    except Exception as exc:  # a health probe reports every failure, whatever it is
        return f"{type(exc).__name__}: {exc}"
    return "ok"


@ROUTES.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    """200 when every dependency (order book, chain) answers, else 503 naming the failure."""
    checks = request.app[HEALTH_CHECKS]
    timeout = request.app[SETTINGS].health_timeout_seconds
    results = await asyncio.gather(*(_probe(check, timeout) for check in checks.values()))
    report = dict(zip(checks, results, strict=True))
    healthy = all(result == "ok" for result in results)
    request.app[HEALTH_LOG].report(report)
    return web.Response(
        status=200 if healthy else 503,
        body=_encode(Health("ok" if healthy else "unhealthy", report)),
        content_type="application/json",
    )


@ROUTES.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    response = web.Response(body=request.app[METRICS].render())
    response.headers["Content-Type"] = CONTENT_TYPE
    return response


@ROUTES.get("/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    return web.Response(body=request.app[OPENAPI], content_type="application/json")
