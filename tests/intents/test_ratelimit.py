"""Per-client rate limits: the token buckets' arithmetic over a fake clock, and the
middleware's 429 answers in a real application."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given
from hypothesis import strategies as st

from intents.http.ratelimit import Rate, RateLimits, TokenBuckets, rate_limited


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_allowed_then_the_wait_is_told() -> None:
    clock = Clock()
    buckets = TokenBuckets(Rate(per_second=2.0, burst=3), clock)
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(0.5)
    assert buckets.take("b") == 0.0  # another client, its own bucket
    clock.now += 0.5
    assert buckets.take("a") == 0.0
    assert buckets.take("a") == pytest.approx(0.5)


def test_idle_clients_are_forgotten() -> None:
    clock = Clock()
    buckets = TokenBuckets(Rate(per_second=10.0, burst=5), clock)
    for i in range(100):
        buckets.take(f"client{i}")
    assert len(buckets) == 100
    clock.now += 0.5  # burst / rate: every bucket is full again
    buckets.take("late")
    assert len(buckets) == 1


@given(
    per_second=st.floats(min_value=0.1, max_value=100),
    burst=st.integers(min_value=1, max_value=20),
    gaps=st.lists(st.floats(min_value=0, max_value=2), min_size=1, max_size=200),
)
def test_no_window_admits_more_than_the_burst_plus_the_refill(
    per_second: float, burst: int, gaps: list[float]
) -> None:
    clock = Clock()
    buckets = TokenBuckets(Rate(per_second=per_second, burst=burst), clock)
    accepted = []
    for gap in gaps:
        clock.now += gap
        if buckets.take("x") == 0.0:
            accepted.append(clock.now)
    for i, start in enumerate(accepted):
        for j in range(i, len(accepted)):
            window = accepted[j] - start
            assert j - i + 1 <= burst + window * per_second + 1e-6


def test_a_refused_request_waits_until_a_token_is_there() -> None:
    clock = Clock()
    buckets = TokenBuckets(Rate(per_second=0.3, burst=1), clock)
    assert buckets.take("x") == 0.0
    wait = buckets.take("x")
    clock.now += wait * 0.99
    assert buckets.take("x") > 0.0
    clock.now += wait * 0.02
    assert buckets.take("x") == 0.0


@pytest.mark.parametrize("rate", [(0.0, 1), (1.0, 0), (-1.0, 5)])
def test_a_rate_must_be_positive(rate: tuple[float, int]) -> None:
    with pytest.raises(ValueError):
        Rate(per_second=rate[0], burst=rate[1])


async def _ok(request: web.Request) -> web.Response:
    return web.json_response("ok")


@pytest.fixture
async def limited(
    request: pytest.FixtureRequest,
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    trust_proxy: bool = getattr(request, "param", False)
    limits = RateLimits(
        writes=Rate(per_second=0.5, burst=2), reads=Rate(per_second=0.5, burst=4),
        trust_proxy=trust_proxy,
    )  # fmt: skip
    app = web.Application(middlewares=[rate_limited(limits)])
    app.router.add_get("/r", _ok)
    app.router.add_post("/w", _ok)
    async with TestClient(TestServer(app)) as client:
        yield client


async def _statuses(
    client: TestClient[web.Request, web.Application], method: str, path: str, n: int, **kw: object
) -> list[int]:
    statuses = []
    for _ in range(n):
        async with client.request(method, path, **kw) as response:  # type: ignore[arg-type]
            statuses.append(response.status)
    return statuses


async def test_writes_and_reads_have_their_own_rates(
    limited: TestClient[web.Request, web.Application],
) -> None:
    assert await _statuses(limited, "POST", "/w", 3) == [200, 200, 429]
    assert await _statuses(limited, "GET", "/r", 5) == [200] * 4 + [429]
    async with limited.post("/w") as response:
        assert response.status == 429
        assert response.headers["Content-Type"].startswith("application/json")
        body = await response.json()
        retry_after = int(response.headers["Retry-After"])
    assert body["errorType"] == "TooManyRequests"
    assert "writes per second" in body["description"]
    assert retry_after == math.ceil(1 / 0.5)


async def test_without_trust_a_forged_forwarded_for_is_ignored(
    limited: TestClient[web.Request, web.Application],
) -> None:
    statuses = []
    for i in range(3):
        headers = {"X-Forwarded-For": f"10.0.0.{i}"}
        statuses += await _statuses(limited, "POST", "/w", 1, headers=headers)
    assert statuses == [200, 200, 429]


@pytest.mark.parametrize("limited", [True], indirect=True)
async def test_behind_a_trusted_proxy_the_last_forwarded_address_is_the_client(
    limited: TestClient[web.Request, web.Application],
) -> None:
    one = {"X-Forwarded-For": "6.6.6.6, 10.0.0.1"}
    assert await _statuses(limited, "POST", "/w", 3, headers=one) == [200, 200, 429]
    # the client forging the first entry does not make it another client
    forged = {"X-Forwarded-For": "7.7.7.7, 10.0.0.1"}
    assert await _statuses(limited, "POST", "/w", 1, headers=forged) == [429]
    other = {"X-Forwarded-For": "6.6.6.6, 10.0.0.2"}
    assert await _statuses(limited, "POST", "/w", 1, headers=other) == [200]
