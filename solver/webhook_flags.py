"""The webhook dispatcher's settings and their flags (``tributary serve``); no aiohttp at
load, so ``tributary --help`` stays instant."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from solver.http_flags import _count, _positive


@dataclass(frozen=True, slots=True)
class DispatchSettings:
    allow_private: bool = False
    retry_base: float = 5.0
    """Seconds before the first retry; doubles each further failure."""
    max_attempts: int = 8
    timeout: float = 10.0
    """Seconds one POST may take (connect to response)."""
    poll: float = 0.5
    """Seconds between looks for due deliveries when none are due."""
    batch: int = 32
    retry_cap: float = 3600.0


def add_webhook_flags(parser: argparse.ArgumentParser) -> None:
    defaults = DispatchSettings()
    group = parser.add_argument_group("webhooks")
    group.add_argument(
        "--webhook-allow-private",
        action="store_true",
        help="allow webhooks to private, loopback and link-local addresses (refused by "
        "default: SSRF); for a devnet or a receiver inside the operator's network",
    )
    group.add_argument(
        "--webhook-retry-base", type=_positive, default=defaults.retry_base, metavar="S",
        help=f"seconds before a failed delivery's first retry, doubling after each further "
        f"failure (default {defaults.retry_base:g})",
    )  # fmt: skip
    group.add_argument(
        "--webhook-max-attempts", type=_count, default=defaults.max_attempts, metavar="N",
        help=f"attempts before a delivery is failed for good (default {defaults.max_attempts})",
    )  # fmt: skip
    group.add_argument(
        "--webhook-timeout", type=_positive, default=defaults.timeout, metavar="S",
        help=f"seconds one delivery POST may take (default {defaults.timeout:g})",
    )  # fmt: skip


def dispatch_from_args(args: argparse.Namespace) -> DispatchSettings:
    """``DispatchSettings`` from the flags (the defaults where absent)."""
    defaults = DispatchSettings()
    return DispatchSettings(
        allow_private=getattr(args, "webhook_allow_private", defaults.allow_private),
        retry_base=getattr(args, "webhook_retry_base", defaults.retry_base),
        max_attempts=getattr(args, "webhook_max_attempts", defaults.max_attempts),
        timeout=getattr(args, "webhook_timeout", defaults.timeout),
    )
