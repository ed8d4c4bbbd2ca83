"""The API server's HTTP limits as command-line flags (``tributary serve``) and what they
configure. The module imports no aiohttp at load, so ``tributary --help`` stays instant."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from intents.http.ratelimit import RateLimits
    from intents.http.server import HttpLimits


@dataclass(frozen=True, slots=True)
class HttpServing:
    """What the flags say: the server's connection limits, the body deadline, the rates."""

    limits: HttpLimits
    body_timeout: float
    rate_limits: RateLimits | None
    cors_origins: tuple[str, ...] = ("*",)


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {text}")
    return value


def _count(text: str) -> int:
    value = int(_positive(text))
    if value != float(text):
        raise argparse.ArgumentTypeError(f"a whole number, not {text}")
    return value


_FLAGS: tuple[tuple[str, Any, object, str, str], ...] = (
    # (flag, type, default, metavar, help)
    ("--header-timeout", _positive, 10.0, "S",
     "seconds a client has to send a request's line and headers (from connecting, or from "
     "a later request's first byte); then 408 and closed (default 10)"),
    ("--body-timeout", _positive, 10.0, "S",
     "seconds a request body may take to arrive after its headers (default 10)"),
    ("--keepalive-timeout", _positive, 75.0, "S",
     "seconds an idle keep-alive connection is kept (default 75)"),
    ("--max-connections", _count, 1000, "N",
     "connections held at once; more are answered 503 and closed (default 1000)"),
    ("--max-line-size", _count, 8190, "BYTES",
     "longest request line or header line; longer is 400 LineTooLong (default 8190)"),
    ("--write-rate", _positive, 10.0, "R",
     "per client: POST/DELETE requests per second before 429 (default 10)"),
    ("--write-burst", _count, 20, "N",
     "per client: writes allowed at once after idling (default 20)"),
    ("--read-rate", _positive, 50.0, "R",
     "per client: GET requests per second before 429 (default 50)"),
    ("--read-burst", _count, 100, "N",
     "per client: reads allowed at once after idling (default 100)"),
)  # fmt: skip


def add_http_flags(parser: argparse.ArgumentParser) -> None:
    """The flags of the API's HTTP limits (defaults as ``HttpLimits``/``RateLimits``)."""
    group = parser.add_argument_group("HTTP limits")
    for flag, kind, default, metavar, text in _FLAGS:
        group.add_argument(flag, type=kind, default=default, metavar=metavar, help=text)
    group.add_argument(
        "--no-rate-limit",
        action="store_true",
        help="no per-client rate limits (benchmarks; or a proxy in front limits)",
    )
    group.add_argument(
        "--cors-origins",
        default="*",
        metavar="ORIGINS",
        help="comma-separated origins browsers may call the /api endpoints from, e.g. "
        "https://app.example.org; '*' any (default), 'none' no CORS headers",
    )
    group.add_argument(
        "--trust-proxy",
        action="store_true",
        help="the client is the last X-Forwarded-For address (only behind a proxy that "
        "sets it; otherwise clients could pick their own)",
    )


def serving_from_args(args: argparse.Namespace) -> HttpServing:
    """``HttpServing`` from flags added by ``add_http_flags`` (defaults where absent)."""
    from intents.http.ratelimit import Rate, RateLimits
    from intents.http.server import HttpLimits

    defaults = argparse.ArgumentParser()
    add_http_flags(defaults)
    flags = vars(defaults.parse_args([])) | vars(args)
    rates = None
    if not flags["no_rate_limit"]:
        rates = RateLimits(
            writes=Rate(flags["write_rate"], flags["write_burst"]),
            reads=Rate(flags["read_rate"], flags["read_burst"]),
            trust_proxy=flags["trust_proxy"],
        )
    return HttpServing(
        limits=HttpLimits(
            header_timeout=flags["header_timeout"],
            keepalive_timeout=flags["keepalive_timeout"],
            max_connections=flags["max_connections"],
            max_line_size=flags["max_line_size"],
            max_field_size=flags["max_line_size"],
        ),
        body_timeout=flags["body_timeout"],
        rate_limits=rates,
        cors_origins=cors_origins(flags["cors_origins"]),
    )


def cors_origins(text: str) -> tuple[str, ...]:
    """``--cors-origins``: comma-separated origins, ``*``, or ``none``."""
    if text.strip().lower() == "none":
        return ()
    return tuple(o.strip() for o in text.split(",") if o.strip())
