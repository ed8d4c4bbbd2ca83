"""``tributary solve`` (solve an auction file offline and print the solutions JSON that pass
``solver.checks``; the rejected ones are logged with their reason) and
``tributary solve-engine`` (serve only the solver-engine API, to enter a CoW-style
competition or to be called by another node's auctioneer)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from routing.sanity import DEFAULT_MAX_DEVIATION
from solver import dto
from solver.auction_file import AuctionFormatError, load_auction
from solver.checks import passing_solutions
from solver.dto_convert import solution_to_dto
from solver.engines import UnknownEngine, make_engine, solve_all
from solver.engines.workers import set_workers, warm_up, worker_count
from solver.model import Auction, Solution, now

if TYPE_CHECKING:
    from solver.solve_api import SolveApiSettings

logger = logging.getLogger(__name__)


TOKEN_VARIABLE = "TRIBUTARY_SOLVE_TOKEN"
"""The environment variable holding ``solve-engine``'s bearer token (when no ``--token``)."""


def engine_names(value: str) -> list[str]:
    """``baseline`` or ``batch,optimal``: engines run one after the other."""
    return [name.strip() for name in value.split(",") if name.strip()]


ANSWER_RESERVE_SHARE = 0.08
"""Of ``--time-limit``, what the engines leave for checking and writing the answer: 0.4 to
1 ms per solution (the checks re-simulate every leg) and the process's exit; at 10,000
orders and 300 solutions on a loaded 2-core machine, 5% (0.4 s of 8) ended 7.7 s after
the start, too close to the limit."""
ANSWER_RESERVE_MIN_S = 0.05


def _bound(args: argparse.Namespace) -> Fraction | None:
    """``--max-price-deviation`` (the default when the namespace has none)."""
    return getattr(args, "max_price_deviation", DEFAULT_MAX_DEVIATION)


def traded_only(auction: Auction, solutions: Sequence[Solution]) -> Auction:
    """``auction`` with only the orders ``solutions`` trade, in its order: what the checks
    look orders up in (each solution's check would otherwise index all of the auction's
    orders again, a cost of solutions x orders paid after the deadline)."""
    uids = {trade.order for solution in solutions for trade in solution.trades}
    return replace(auction, orders=tuple(o for o in auction.orders if o.uid in uids))


def solve_command(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    # the imports since ``tributary`` parsed its command line count against the limit
    since = time.monotonic() - getattr(args, "started_monotonic", time.monotonic())
    deadline = now() + timedelta(seconds=args.time_limit - since)
    try:
        set_workers(getattr(args, "workers", None))
        engines = [
            make_engine(name, max_price_deviation=_bound(args))
            for name in engine_names(args.engine)
        ]
        raw = Path(args.auction).read_bytes()
        auction = load_auction(raw, deadline)
    except (UnknownEngine, AuctionFormatError, OSError, ValueError) as exc:
        print(f"tributary solve: {exc}", file=sys.stderr)
        return 2
    # an auction file's own deadline has long passed: solve against the time limit, less
    # what checking and writing the answer take
    reserve = max(ANSWER_RESERVE_MIN_S, ANSWER_RESERVE_SHARE * args.time_limit)
    auction = auction.with_deadline(deadline)
    found = solve_all(engines, auction.with_deadline(deadline - timedelta(seconds=reserve)))
    # the orders' validity is not checked: an auction file's orders have long expired too;
    # the checks end by the time half the reserve is left for writing the answer and exiting
    checks_end = deadline - timedelta(seconds=reserve / 2)
    solutions = passing_solutions(
        traded_only(auction, found), found, stop=lambda: now() >= checks_end
    )
    orders = {order.uid: order for order in auction.orders}
    body = dto.encode_solutions([solution_to_dto(s, orders) for s in solutions])
    sys.stdout.buffer.write(body + b"\n")
    sys.stdout.flush()
    logger.info(
        "%d solutions (%d rejected by the checks) for %d orders in %.2f s (wall, loading included)",
        len(solutions),
        len(found) - len(solutions),
        len(auction.orders),
        time.perf_counter() - started,
    )
    return 0


def solve_api_settings(args: argparse.Namespace, environ: Mapping[str, str]) -> SolveApiSettings:
    """The API's limits from the flags; the token from ``--token``, else the environment."""
    from solver.solve_api import SolveApiSettings

    token = args.token if args.token is not None else environ.get(TOKEN_VARIABLE)
    return SolveApiSettings(
        token=token, max_body_bytes=args.max_body_bytes, max_time_limit=args.max_time_limit
    )


def solve_engine_command(args: argparse.Namespace) -> int:
    from aiohttp import web  # the offline ``solve`` does without the HTTP stack

    from solver.solve_api import make_app

    try:
        set_workers(getattr(args, "workers", None))
        engines = [
            make_engine(name, max_price_deviation=_bound(args))
            for name in engine_names(args.engine)
        ]
        settings = solve_api_settings(args, os.environ)
    except (UnknownEngine, ValueError) as exc:
        print(f"tributary solve-engine: {exc}", file=sys.stderr)
        return 2
    if worker_count() > 1:
        warm_up()  # solves run in a thread: the workers start from a fork server
    logger.info(
        "solver engine (%s) on http://%s:%d%s",
        ", ".join(e.name for e in engines),
        args.host,
        args.port,
        " (bearer token required)" if settings.token is not None else "",
    )
    web.run_app(make_app(engines, settings), host=args.host, port=args.port, print=None)
    return 0
