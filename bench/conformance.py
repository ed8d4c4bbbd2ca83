"""Conformance with CoW's baseline solver: our answers to the behaviours its reference tests
cover, against the answers it gives (``tests/solver/conformance/``, one case per file, the
schema in that folder's README).

Each case's auction is posted to a solver engine over HTTP (by default Tributary's own,
``solver.solve_api.make_app`` with the engine ``tributary solve-engine`` runs by default,
served on a free local port; ``--url`` for one already running), with its deadline moved to
``--time-limit`` seconds from now. Our answer and the reference are read the way the node
reads a solver's answer (``dto.decode_solver_response`` -> ``dto_convert.solution_from_dto``
-> ``solver.checks.check_solution``) and, per order the reference fills, the user's surplus
is ``solver.scoring.surplus`` of the checked trade, in the surplus token (buy token of a sell
order, sell token of a buy order), exact base units. The case's verdict:

* ``equal`` / ``better`` / ``worse``: our best valid solution filling the order gives the user
  as much as / more than / less than the reference (a case of several orders takes its
  worst order's verdict);
* ``no answer``: no valid solution of ours fills an order the reference fills;
* ``invalid``: a solution we returned fails ``solver.checks`` (the API should never send one).

Also per order: whether the ``internalize`` flags of our interactions equal the reference's
on the interactions both use (same pool id and direction; ``n/a`` when none is shared), and
our gas against the reference's. A case whose reference does not pass our checks, or whose
stored surplus is not what ``solver.scoring`` computes from the reference's prices, is
reported as a broken case (exit code 1)::

    python -m bench conformance [--engine NAMES] [--time-limit 5] [--url URL] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from intents.order import OrderKind
from intents.types import OrderUid
from routing.pool import token_address
from solver import dto
from solver.checks import CheckedTrade, SolutionRejected, check_solution
from solver.dto_convert import auction_from_dto, solution_from_dto
from solver.engines import Engine
from solver.model import Auction
from solver.scoring import surplus

CASES_DIR = Path(__file__).resolve().parent.parent / "tests" / "solver" / "conformance"
VERDICTS = ("invalid", "no answer", "worse", "equal", "better")
"""Worst first: a case takes the worst verdict of its orders."""

Post = Callable[[bytes], Awaitable[tuple[int, bytes]]]
"""Posts a ``/solve`` body; returns (HTTP status, response body)."""


class CaseError(ValueError):
    """A case file is broken (its reference does not check, or its figures disagree)."""

    code = "BrokenCase"


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    description: str
    behaviour: str
    auction: Mapping[str, Any]
    """The ``/solve`` body as a JSON object (its deadline is replaced when posted)."""
    reference: Mapping[str, Any]
    """The reference answer: ``{"solutions": [...]}`` with each trade's ``surplus``."""


def load_case(path: Path) -> Case:
    doc = json.loads(path.read_text())
    return Case(path.stem, doc["description"], doc["behaviour"], doc["auction"], doc["reference"])


def load_cases(directory: Path = CASES_DIR) -> list[Case]:
    return [load_case(path) for path in sorted(directory.glob("*.json"))]


def auction_body(case: Case, deadline: datetime) -> bytes:
    """The case's auction with ``deadline``, as posted to ``/solve``."""
    stamp = deadline.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return json.dumps({**case.auction, "deadline": stamp}).encode()


# -- reading answers the way the node does ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answer:
    """One solution of an answer: its wire form and, when it passed the checks, its trades."""

    wire: dto.Solution
    checked: tuple[CheckedTrade, ...] | None
    rejection: str | None = None
    """``code: sentence`` of the check it failed."""


def read_answer(auction: Auction, body: bytes, solver: str) -> list[Answer]:
    answers = []
    for wire in dto.decode_solver_response(body).solutions:
        try:
            checked = check_solution(auction, solution_from_dto(wire, solver), solver=solver)
        except SolutionRejected as exc:
            answers.append(Answer(wire, None, f"{exc.code}: {exc.message}"))
            continue
        answers.append(Answer(wire, tuple(checked)))
    return answers


def _trade(answer: Answer, uid: OrderUid) -> CheckedTrade | None:
    for t in answer.checked or ():
        if t.order.uid == uid:
            return t
    return None


def _user_surplus(t: CheckedTrade) -> int:
    return surplus(t.order, t.paid, t.bought)


def _legs(wire: dto.Solution) -> dict[tuple[str, str, str], bool]:
    """(pool id, input token, output token) -> internalize, of the liquidity interactions."""
    return {
        (i.id, token_address(i.input_token), token_address(i.output_token)): i.internalize
        for i in wire.interactions
        if isinstance(i, dto.LiquidityInteraction)
    }


def internalize_match(ours: dto.Solution, reference: dto.Solution) -> bool | None:
    """Our flags equal the reference's on every interaction both use; ``None``: none shared."""
    mine, theirs = _legs(ours), _legs(reference)
    shared = mine.keys() & theirs.keys()
    if not shared:
        return None
    return all(mine[key] == theirs[key] for key in shared)


# -- comparison --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderResult:
    uid: str
    surplus_token: str
    reference_surplus: int
    our_surplus: int | None
    """``None``: no valid solution of ours fills the order."""
    verdict: str
    internalize_match: bool | None
    reference_gas: int | None
    our_gas: int | None


@dataclass(frozen=True, slots=True)
class CaseResult:
    name: str
    verdict: str
    orders: tuple[OrderResult, ...]
    solutions: int
    """How many solutions we returned."""
    invalid: tuple[str, ...] = field(default=())
    """Why each of our solutions that fails the checks fails."""


CHECKED_AT = datetime(2026, 1, 1, tzinfo=UTC)
"""The deadline of the auction the answers are checked against: the checks do not look at
it (no ``now``), so any fixed instant keeps ``compare`` a function of its inputs."""


def compare(case: Case, body: bytes) -> CaseResult:
    """Classify our answer ``body`` to the case against its reference (pure)."""
    auction = auction_from_dto(dto.decode_auction(auction_body(case, CHECKED_AT)))
    reference = read_answer(auction, json.dumps(case.reference).encode(), "reference")
    ours = read_answer(auction, body, "ours")
    stated = {
        trade["order"].lower(): int(trade["surplus"])
        for solution in case.reference["solutions"]
        for trade in solution["trades"]
    }
    results = []
    for ref in reference:
        if ref.checked is None:
            raise CaseError(f"{case.name}: the reference fails our checks: {ref.rejection}")
        for t in ref.checked:
            uid = "0x" + t.order.uid.hex()
            ref_surplus = _user_surplus(t)
            if stated[uid] != ref_surplus:
                raise CaseError(
                    f"{case.name}: stored surplus {stated[uid]} of {uid} is not {ref_surplus}"
                )
            results.append(_order_result(t, ref, ref_surplus, ours))
    invalid = tuple(a.rejection for a in ours if a.rejection is not None)
    verdict = "invalid" if invalid else min((r.verdict for r in results), key=VERDICTS.index)
    return CaseResult(case.name, verdict, tuple(results), len(ours), invalid)


def _order_result(
    t: CheckedTrade, ref: Answer, ref_surplus: int, ours: Sequence[Answer]
) -> OrderResult:
    token = t.order.buy_token if t.order.kind is OrderKind.SELL else t.order.sell_token
    best: tuple[int, Answer] | None = None
    for answer in ours:
        mine = _trade(answer, t.order.uid)
        if mine is not None and (best is None or _user_surplus(mine) > best[0]):
            best = (_user_surplus(mine), answer)
    if best is None:
        verdict, our_surplus, match, gas = "no answer", None, None, None
    else:
        our_surplus, answer = best
        verdict = (
            "better"
            if our_surplus > ref_surplus
            else "equal"
            if our_surplus == ref_surplus
            else "worse"
        )
        match, gas = internalize_match(answer.wire, ref.wire), answer.wire.gas
    return OrderResult(
        uid="0x" + t.order.uid.hex(),
        surplus_token=token,
        reference_surplus=ref_surplus,
        our_surplus=our_surplus,
        verdict=verdict,
        internalize_match=match,
        reference_gas=ref.wire.gas,
        our_gas=gas,
    )


# -- running -----------------------------------------------------------------------------------


async def run_cases(cases: Sequence[Case], post: Post, time_limit: float) -> list[CaseResult]:
    """Post each case's auction (deadline ``time_limit`` s from now) and compare."""
    results = []
    for case in cases:
        status, body = await post(
            auction_body(case, datetime.now(UTC) + timedelta(seconds=time_limit))
        )
        if status != 200:
            raise CaseError(f"{case.name}: /solve answered {status}: {body[:300]!r}")
        results.append(compare(case, body))
    return results


def _amount(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _flag(value: bool | None) -> str:
    return "n/a" if value is None else "yes" if value else "NO"


def table(cases: Sequence[Case], results: Sequence[CaseResult]) -> str:
    """The results as a markdown table, one row per order the reference fills."""
    symbols: dict[str, str] = {}
    for case in cases:
        for address, info in case.auction["tokens"].items():
            symbols[address.lower()] = info.get("symbol") or address[:10]
    lines = [
        "| case | order | reference surplus | ours | ours - reference | verdict "
        "| internalize match | gas ours / ref |",
        "|---|---|---:|---:|---:|---|---|---:|",
    ]
    for result in results:
        several = len(result.orders) > 1
        for o in result.orders:
            unit = symbols.get(o.surplus_token, o.surplus_token)
            diff = None if o.our_surplus is None else o.our_surplus - o.reference_surplus
            lines.append(
                f"| {result.name} | {o.uid[:10] if several else ''} "
                f"| {_amount(o.reference_surplus)} {unit} | {_amount(o.our_surplus)} "
                f"| {_amount(diff)} | {o.verdict} | {_flag(o.internalize_match)} "
                f"| {_amount(o.our_gas)} / {_amount(o.reference_gas)} |"
            )
    return "\n".join(lines)


def summary(results: Sequence[CaseResult]) -> str:
    counts = {v: sum(r.verdict == v for r in results) for v in reversed(VERDICTS)}
    mismatched = sum(any(o.internalize_match is False for o in r.orders) for r in results)
    parts = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
    return f"of {len(results)} cases: {parts}; internalize flags differ in {mismatched}"


def solve_engine_set(engines: str | None = None) -> list[Engine]:
    """The engines ``tributary solve-engine --engine ENGINES`` serves, built as it builds
    them (its parser's defaults for ``--engine`` when ``engines`` is None, and for
    ``--max-price-deviation``)."""
    from solver.cli import _build_parser
    from solver.engines import make_engine
    from solver.solve_cli import engine_names

    argv = ["solve-engine"] if engines is None else ["solve-engine", "--engine", engines]
    args = _build_parser().parse_args(argv)
    return [
        make_engine(name, max_price_deviation=args.max_price_deviation)
        for name in engine_names(args.engine)
    ]


async def _serve_and_run(
    cases: Sequence[Case], engines: str | None, time_limit: float, url: str | None
) -> list[CaseResult]:
    from aiohttp import ClientSession, ClientTimeout, web

    from solver.solve_api import make_app

    runner = None
    if url is None:
        app = make_app(solve_engine_set(engines))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        url = f"http://{host}:{port}"
    try:
        async with ClientSession(timeout=ClientTimeout(total=time_limit + 30)) as session:

            async def post(body: bytes) -> tuple[int, bytes]:
                headers = {"Content-Type": "application/json"}
                async with session.post(f"{url}/solve", data=body, headers=headers) as response:
                    return response.status, await response.read()

            return await run_cases(cases, post, time_limit)
    finally:
        if runner is not None:
            await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tributary bench conformance")
    parser.add_argument("--cases", type=Path, default=CASES_DIR, help="folder of case files")
    parser.add_argument(
        "--engine", default=None, help="engine(s) of our solve-engine app (its default if unset)"
    )
    parser.add_argument("--time-limit", type=float, default=5.0, help="seconds per auction")
    parser.add_argument("--url", default=None, help="a running solver engine instead (base URL)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    cases = load_cases(args.cases)
    try:
        results = asyncio.run(_serve_and_run(cases, args.engine, args.time_limit, args.url))
    except CaseError as exc:
        print(f"broken case: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=2))
    else:
        print(table(cases, results))
        print()
        print(summary(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
