"""Benchmark dispatcher: ``tributary bench SUITE ...`` and ``python -m bench SUITE ...``.

Each suite is ``module:function(argv) -> exit code``, imported only when it runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

SUITES = {
    "candidates": "bench.candidates:main",
    "chain-outage": "bench.chain_outage:main",
    "conformance": "bench.conformance:main",
    "generate": "bench.generate:main",
    "http-limits": "bench.http_limits:main",
    "intake": "bench.intake:main",
    "kept": "bench.kept:main",
    "joint": "bench.joint:main",
    "routing": "bench.routing:main",
    "settlement-gas": "bench.settlement_gas:main",
    "signatures": "bench.signatures:main",
    "solver": "bench.solver:main",
}


def run_suite(suite: str, argv: Sequence[str]) -> int:
    target = SUITES.get(suite)
    if target is None:
        print(f"unknown benchmark {suite!r}; choose from {', '.join(sorted(SUITES))}")
        return 2
    module, _, name = target.partition(":")
    handler: Callable[[Sequence[str]], int] = getattr(importlib.import_module(module), name)
    return handler(argv)


def bench_command(args: argparse.Namespace) -> int:
    """Entry point of ``tributary bench`` (``args.suite``, ``args.rest``)."""
    return run_suite(args.suite, args.rest)


def main(argv: Sequence[str] | None = None) -> int:
    items = list(sys.argv[1:] if argv is None else argv)
    if not items:
        print(f"usage: python -m bench SUITE [options]; suites: {', '.join(sorted(SUITES))}")
        return 2
    return run_suite(items[0], items[1:])


if __name__ == "__main__":
    sys.exit(main())
