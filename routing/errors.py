"""The routing package's exception root: every error routing raises is a ``RoutingError``
with a machine-readable ``code``, and also the builtin it behaves like (``NoRoute`` is a
``LookupError``, pool-math failures ``ArithmeticError``, unreadable liquidity ``ValueError``),
so callers catch either. Edges (the HTTP APIs, the CLI) translate ``code`` for users."""

from __future__ import annotations


class RoutingError(Exception):
    """Root of routing's errors; ``code`` is machine-readable, the message a sentence."""

    code: str = "RoutingError"
