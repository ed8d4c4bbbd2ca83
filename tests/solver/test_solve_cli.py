"""``tributary solve`` on the real mainnet auction in both formats (valid solutions before
the time limit), and ``tributary solve-engine`` serving /solve from its own process."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from routing.pool import PoolId, TokenAddress
from solver import dto
from solver.auction_file import load_auction
from solver.checks import Rejection, check_solution
from solver.cli import main
from solver.dto_convert import solution_from_dto
from solver.engines import make_engine
from solver.model import (
    Auction,
    Solution,
    Trade,
    executed_amounts,
    limit_respected,
    now,
    signed_fee,
)
from tests.solver.mainnet import MAINNET, legacy_bytes, solver_bytes
from tests.solver.test_solve_api import _auction

TIME_LIMIT = 3.0


def _check_solutions(body: bytes, auction_bytes: bytes) -> int:
    """Every solution's trades are auction orders filled within their limit price."""
    response = dto.decode_solver_response(body)
    auction = load_auction(auction_bytes, now())
    orders = {"0x" + o.uid.hex(): o for o in auction.orders}
    pools = {p.id: p for p in auction.liquidity.pools}
    for solution in response.solutions:
        prices = {TokenAddress(t): int(price) for t, price in solution.prices.items()}
        for swap in solution.interactions:
            # every swap is exactly what the pool pays for its input
            assert isinstance(swap, dto.LiquidityInteraction)
            token_in, token_out = TokenAddress(swap.input_token), TokenAddress(swap.output_token)
            paid = pools[PoolId(swap.id)].amount_out(token_in, token_out, int(swap.input_amount))
            assert paid == swap.output_amount
        for wire in solution.trades:
            assert isinstance(wire, dto.Fulfillment)
            order = orders[wire.order]
            trade = Trade(order.uid, int(wire.executed_amount), int(wire.fee or 0))
            sold, bought = executed_amounts(order, trade, prices)
            assert limit_respected(order, sold - signed_fee(order, trade), bought)
            assert trade.executed <= order.remaining
    return len(response.solutions)


@pytest.mark.parametrize("fmt", ["legacy", "solver"])
def test_solve_mainnet_auction_within_the_time_limit(
    fmt: str, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    raw = legacy_bytes() if fmt == "legacy" else solver_bytes()
    path = MAINNET if fmt == "legacy" else tmp_path / "auction.json"
    if fmt == "solver":
        path.write_bytes(raw)
    started = time.perf_counter()
    code = main(["solve", "--auction", str(path), "--engine", "baseline"])
    elapsed = time.perf_counter() - started
    assert code == 0
    out = capsysbinary.readouterr().out
    assert json.loads(out).keys() == {"solutions"}
    _check_solutions(out, raw)
    # the deadline is the time limit (less a margin); loading and encoding add a little
    assert elapsed < TIME_LIMIT + 1.0


def test_solve_rejects_a_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", "--auction", "/nonexistent.json"]) == 2
    assert "nonexistent" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_solve_engine_serves_solve() -> None:
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "solver.cli", "solve-engine", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--engine", "baseline"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        body = json.dumps(_auction()).encode()
        deadline = time.monotonic() + 60
        while True:
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/solve", data=body, method="POST"
                )
                with urllib.request.urlopen(request, timeout=30) as response:
                    answer = response.read()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
        (solution,) = dto.decode_solver_response(answer).solutions
        assert solution.trades[0].order == _auction()["orders"][0]["uid"]
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_mainnet_auction_with_time_to_spare_has_valid_fills(
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    # the auction's market order (signed fee, in the money) is always fillable
    code = main(["solve", "--auction", str(MAINNET), "--engine", "optimal", "--time-limit", "60"])
    assert code == 0
    assert _check_solutions(capsysbinary.readouterr().out, legacy_bytes()) >= 1


class HalfFills:
    """The baseline's solutions with their first trade executed half: every one fails the
    checks (a fill-or-kill order filled in part, or a settlement short of what its AMM
    legs take). Registered as an engine by the subprocess below."""

    name = "half-fills"

    def solve(self, auction: Auction) -> list[Solution]:
        return [
            dataclasses.replace(
                s,
                trades=(
                    dataclasses.replace(s.trades[0], executed=s.trades[0].executed // 2),
                    *s.trades[1:],
                ),
                engine=self.name,
            )
            for s in make_engine("baseline").solve(auction)
        ]


def half_fills() -> HalfFills:
    return HalfFills()


_WITH_HALF_FILLS = (
    "import sys, solver.engines as engines; "
    "engines.ENGINES['half-fills'] = 'tests.solver.test_solve_cli:half_fills'; "
    "from solver.cli import main; sys.exit(main(sys.argv[1:]))"
)


def test_solve_prints_only_solutions_that_pass_the_checks() -> None:
    command = [sys.executable, "-c", _WITH_HALF_FILLS, "solve", "--auction", str(MAINNET)]
    run = subprocess.run(
        [*command, "--engine", "baseline,half-fills", "--time-limit", "20"],
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr.decode()
    printed = dto.decode_solver_response(run.stdout).solutions
    auction = load_auction(legacy_bytes(), now())
    for wire in printed:
        check_solution(auction, solution_from_dto(wire), solver="printed")
    # the half fills are not printed: each is on stderr with its machine-readable reason
    stderr = run.stderr.decode()
    rejected = [line for line in stderr.splitlines() if "half-fills" in line and "rejected" in line]
    assert printed, "the baseline fills some order of the shared auction"
    assert len(rejected) == len(printed), stderr
    codes = {code.value for code in Rejection}
    assert all(any(f": {code}: " in line for code in codes) for line in rejected)


def test_solve_engine_takes_its_token_from_the_flag_else_the_environment() -> None:
    from solver.cli import _build_parser
    from solver.solve_cli import TOKEN_VARIABLE, solve_api_settings

    parse = _build_parser().parse_args
    environ = {TOKEN_VARIABLE: "from-env"}
    assert solve_api_settings(parse(["solve-engine"]), environ).token == "from-env"
    assert solve_api_settings(parse(["solve-engine"]), {}).token is None
    flagged = parse(["solve-engine", "--token", "t", "--max-time-limit", "5"])
    settings = solve_api_settings(flagged, environ)
    assert (settings.token, settings.max_time_limit) == ("t", 5.0)
    assert settings.max_body_bytes == 32 * 1024 * 1024
