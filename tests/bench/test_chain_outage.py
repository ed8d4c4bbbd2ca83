"""``bench chain-outage`` runs an outage end to end and reports every figure."""

from __future__ import annotations

import re

import pytest

from bench.chain_outage import main


def test_one_outage_is_measured(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--trials", "1", "--posts", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1 outages")
    for row in ("in flight", "later POSTs", "/healthz -> 503", "SIGCONT"):
        assert re.search(rf"^\| [^|]*{re.escape(row)}[^|]* \| [\d.]+ \| [\d.]+ \|$", out, re.M)
