"""Prometheus metrics of the orderbook API, in a registry of their own per application."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

# Intake answers in about a millisecond; the buckets resolve that and still show stalls.
_LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    float("inf"),
)

CONTENT_TYPE = CONTENT_TYPE_LATEST


class ApiMetrics:
    """Request counts and latencies by route and status, and order outcomes by errorType.

    ``route`` is the route's template (``/api/v1/orders/{uid}``), never the raw path, so
    the number of series stays bounded whatever clients send.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.requests = Counter(
            "tributary_http_requests",
            "HTTP requests answered, by route template, method and status code.",
            ("route", "method", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "tributary_http_request_duration_seconds",
            "Time from request received to response ready, by route template and method.",
            ("route", "method"),
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.orders = Counter(
            "tributary_orders",
            "Orders posted: outcome is 'accepted' or the errorType of the rejection.",
            ("outcome",),
            registry=self.registry,
        )

        # Labelled children, looked up once per label set (``labels()`` is the slow part).
        self._request_series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self._order_series: dict[str, Counter] = {}

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        series = self._request_series.get(key)
        if series is None:
            series = self._request_series[key] = (
                self.requests.labels(route, method, str(status)),
                self.latency.labels(route, method),
            )
        series[0].inc()
        series[1].observe(seconds)

    def observe_order(self, outcome: str) -> None:
        counter = self._order_series.get(outcome)
        if counter is None:
            counter = self._order_series[outcome] = self.orders.labels(outcome)
        counter.inc()

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
