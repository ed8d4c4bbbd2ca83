"""``bench solver`` on a small generated auction: checks, the gas limit, the judgment, the
measured ``tributary solve``, the rendered report."""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

from bench.generate import Settings, generate
from bench.judgment import judge
from bench.scale import GAS_LIMIT
from bench.solver import evaluate, main, with_fees
from solver.auction_file import load_auction
from solver.engines import make_engine, solve_all
from solver.model import now
from tests.data import MAINNET_AUCTION

pytestmark = pytest.mark.skipif(not MAINNET_AUCTION.exists(), reason="shared auction absent")


def test_solution_over_the_gas_limit_is_counted_and_kept_out() -> None:
    doc = json.loads(MAINNET_AUCTION.read_bytes())
    raw = generate(doc, Settings(orders=40, seed=3, in_the_money=1.0))
    deadline = now() + timedelta(seconds=1)
    auction = load_auction(raw, deadline).with_deadline(deadline)
    solutions = solve_all([make_engine("baseline")], auction)
    assert len(solutions) >= 2
    limit = max(s.gas for s in solutions)
    heavy = dataclasses.replace(solutions[0], gas=limit + 1)
    mixed = [heavy, *solutions[1:]]
    judged = evaluate("baseline", [1.0], auction, mixed, winners=10, gas_limit=limit)
    assert judged.outcome.over_gas_limit == 1
    assert judged.outcome.valid == len(mixed)
    assert heavy not in [b.solution for b in judged.bids]
    assert len(judged.bids) == len(mixed) - 1
    within = evaluate("baseline", [1.0], auction, solutions, winners=10, gas_limit=limit)
    assert within.outcome.over_gas_limit == 0
    # the engine set's own bids pooled with themselves under another name never lose
    pooled = judge({"baseline": within.bids, "again": within.bids})
    assert pooled.pooled.score >= pooled.alone.score > 0


def test_report_renders(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    argv = ["--generate", "40", "--seed", "3", "--snapshot", str(MAINNET_AUCTION)]
    argv += ["--runs", "1", "--cli-runs", "1", "--time-limit", "1"]
    argv += ["--json", str(tmp_path / "f.json"), "--plot", str(tmp_path / "f.png")]
    assert main([*argv, "--engines", "baseline", "batch,optimal"]) == 0
    out = capsys.readouterr().out
    assert "generated: 40 orders" in out and "seed 3, market default" in out
    assert re.search(r"^\| baseline \| [\d.]+ \| \d+ \| \d+ \| 0 \| 1 / 1 \|", out, re.M)
    assert re.search(r"^\| batch,optimal \|", out, re.M)
    ratio = re.search(r"score ratio ([\d.]+|n/a)", out)
    assert ratio is not None and (ratio.group(1) == "n/a" or float(ratio.group(1)) >= 1.0)
    assert "all engine sets' bids" in out and "`baseline`'s bids alone" in out
    run = re.search(r"^\| 1 \| ([\d.]+) \| (\d+) \| (\d+) \| (\d+) \| \d+ \|", out, re.M)
    assert run is not None, out
    assert 0 < float(run.group(1)) < 30 and int(run.group(2)) > 50  # MiB
    (figures,) = json.loads((tmp_path / "f.json").read_text())
    assert figures["name"] == "gen-40-s3-default" and figures["orders"] == 40
    assert [e["engines"] for e in figures["engines"]] == ["baseline", "batch,optimal"]
    assert figures["cli"][0]["wall"] == pytest.approx(float(run.group(1)), abs=0.01)
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"


def test_fee_policies_on_move_surplus_into_fees_and_keep_the_score() -> None:
    """``--fee-policy``: the same solutions charged as the node charges them; CIP-38 scores
    the fees back, so the one-round score barely moves while the winners charge fees."""
    doc = json.loads(MAINNET_AUCTION.read_bytes())
    raw = generate(doc, Settings(orders=40, seed=3, in_the_money=1.0))
    deadline = now() + timedelta(seconds=5)
    auction = load_auction(raw, deadline).with_deadline(deadline)
    solutions = solve_all([make_engine("baseline")], auction)
    off = evaluate("baseline", [1.0], auction, solutions, winners=10)
    assert off.outcome.round_score > 0
    args = argparse.Namespace(fee_policy=["surplus:0.5:0.01"], max_winners=10, gas_limit=GAS_LIMIT)
    on = with_fees(off, auction, solutions, args)
    assert on.round_fees > 0
    assert on.outcome.round_winners == off.outcome.round_winners
    assert abs(on.outcome.round_score - off.outcome.round_score) * 10**6 < off.outcome.round_score
