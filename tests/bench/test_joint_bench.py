"""``bench joint`` on a small generated auction: every way's row, the ``batch`` way one of
the two merges it chooses between, and the end-to-end rows with joint routing on and off."""

from __future__ import annotations

import re

import pytest

from bench.joint import main
from tests.data import MAINNET_AUCTION

pytestmark = pytest.mark.skipif(not MAINNET_AUCTION.exists(), reason="shared auction absent")

ROW = r"^\| {way} \| (\d+) \| (\d+) \| (\d+) \| ([\d,]+) \| (\d+) \| (\d+) \| ([\d,]+) \|"


def test_report_renders_every_way(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--generate", "60", "--seed", "3", "--snapshot", str(MAINNET_AUCTION)]
    argv += ["--candidates", "baseline", "--candidates-time", "2", "--time-limit", "1"]
    assert main([*argv, "--engines", "batch", "--batch-router", "greedy", "joint"]) == 0
    out = capsys.readouterr().out
    assert "generated: 60 orders" in out
    rows = {}
    for way in ("greedy", "joint", "batch", "joint-wide", "joint-offered"):
        found = re.search(ROW.format(way=way), out, re.M)
        assert found is not None, (way, out)
        rows[way] = found
    assert rows["greedy"].group(1) == "0"  # greedy forms no groups
    groups = {rows[w].group(1) for w in ("joint", "batch", "joint-offered")}
    assert len(groups) == 1  # the same groups, whichever way they are merged
    # batch keeps one of the two merges: its round is greedy's or joint's
    score = {w: int(rows[w].group(7).replace(",", "")) for w in rows}
    assert score["batch"] in (score["greedy"], score["joint"])
    assert re.search(r"^\| batch \| greedy \| [\d.]+ \|", out, re.M)
    assert re.search(r"^\| batch \| joint \| [\d.]+ \|", out, re.M)
    assert "kept: " in out
