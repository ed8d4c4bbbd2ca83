"""Per-client rate limits: a token bucket per client address, one for writes (POST, PUT,
PATCH, DELETE: order placement, cancellation, quotes) and one for reads. A request over
its client's rate is answered 429 ``TooManyRequests`` with ``Retry-After`` (whole seconds).

The client is the connection's peer address; behind a reverse proxy (``trust_proxy``) it
is the last address in ``X-Forwarded-For``, the one the proxy itself appended — earlier
entries are the client's to forge. The buckets are pure arithmetic over a clock
(``TokenBuckets``); the middleware is the I/O edge.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from intents.http.problems import error_response

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True, slots=True)
class Rate:
    per_second: float
    burst: int
    """Requests a client may send at once after being idle."""

    def __post_init__(self) -> None:
        if self.per_second <= 0 or self.burst < 1:
            raise ValueError("a rate needs a positive rate and a burst of at least 1")


@dataclass(frozen=True, slots=True)
class RateLimits:
    writes: Rate = Rate(per_second=10.0, burst=20)
    reads: Rate = Rate(per_second=50.0, burst=100)
    trust_proxy: bool = False
    """Take the client from ``X-Forwarded-For`` (only behind a proxy that sets it)."""


class TokenBuckets:
    """One token bucket per key, refilled at ``rate``; full buckets are forgotten (a key
    that comes back starts full, which is what it would be), so memory follows the clients
    active within the last ``burst / per_second`` seconds."""

    def __init__(self, rate: Rate, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = rate
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._sweep_at = 0.0

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str) -> float:
        """Spend one of ``key``'s tokens: 0.0 if it had one, else the seconds until it
        will (nothing is spent then)."""
        now = self._clock()
        self._sweep(now)
        tokens = self._tokens(key, now)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self._rate.per_second

    def _tokens(self, key: str, now: float) -> float:
        held = self._buckets.get(key)
        if held is None:
            return float(self._rate.burst)
        tokens, at = held
        return min(float(self._rate.burst), tokens + (now - at) * self._rate.per_second)

    def _sweep(self, now: float) -> None:
        refill = self._rate.burst / self._rate.per_second
        if now < self._sweep_at:
            return
        self._sweep_at = now + refill
        full = [key for key, (_, at) in self._buckets.items() if now - at >= refill]
        for key in full:
            del self._buckets[key]


def client_of(request: web.Request, trust_proxy: bool) -> str:
    if trust_proxy:
        forwarded = request.headers.get("X-Forwarded-For", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last
    return request.remote or "unknown"


def rate_limited(limits: RateLimits, clock: Callable[[], float] = time.monotonic) -> Middleware:
    """A middleware answering 429 to a client over its rate."""
    writes, reads = TokenBuckets(limits.writes, clock), TokenBuckets(limits.reads, clock)

    @web.middleware
    async def limit(request: web.Request, handler: Handler) -> web.StreamResponse:
        write = request.method in WRITE_METHODS
        client = client_of(request, limits.trust_proxy)
        wait = (writes if write else reads).take(client)
        if wait == 0.0:
            return await handler(request)
        rate = limits.writes if write else limits.reads
        response = error_response(
            429,
            "TooManyRequests",
            f"more than {rate.per_second:g} {'writes' if write else 'reads'} per second "
            f"(bursts of {rate.burst}) from {client}; retry after {wait:.2f} s",
        )
        response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return response

    return limit
