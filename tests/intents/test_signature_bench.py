"""The signature benchmark runs end to end and checks every recovered owner."""

from __future__ import annotations

import pytest

from bench.signatures import main


def test_signature_bench_reports_rates(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--batches", "2", "--batch-size", "10", "--baseline-batches", "1"]) == 0
    out = capsys.readouterr().out
    assert out.count("tributary (hash + recover)") == 2  # wall and cpu lines
    assert out.count("eth_account (typed data + recover)") == 2
    assert "speed-up over eth_account" in out
