"""``/healthz`` logs a change of health once, not every time it is polled."""

from __future__ import annotations

import logging

import pytest

from intents.http.ops import HealthLog


def test_an_outage_is_logged_when_it_starts_and_when_it_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "intents.http.ops")
    health = HealthLog()
    health.report({"database": "ok", "chain": "ok"})
    for _ in range(5):
        health.report({"database": "ok", "chain": "ChainDownError: not answering"})
    health.report({"database": "TimeoutError", "chain": "ChainDownError: not answering"})
    for _ in range(3):
        health.report({"database": "ok", "chain": "ok"})
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 3, messages
    assert "failed" in messages[0] and "chain" in messages[0] and "database" not in messages[0]
    assert "database" in messages[1]  # another dependency failing is news
    assert messages[2].startswith("healthy again")
