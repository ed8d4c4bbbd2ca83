"""``tributary solve`` on the real mainnet auction in both formats (valid solutions before
the time limit), and ``tributary solve-engine`` serving /solve from its own process."""

from __future__ import annotations

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
from solver.cli import main
from solver.model import Trade, executed_amounts, limit_respected, now, signed_fee
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
