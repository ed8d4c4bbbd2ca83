"""``tributary serve`` on its built-in devnet (seeded pools, funded traders, auctioneer on)
and ``tributary demo`` against it, both as real processes: every demo intent trades."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.e2e.helpers import demo_command, serve_on_builtin_devnet


def test_serve_and_demo_fill_every_intent(tmp_path: Path) -> None:
    with serve_on_builtin_devnet(tmp_path) as (url, deployment, log):
        demo = subprocess.run(
            demo_command(url, deployment), capture_output=True, text=True, timeout=60, check=True
        )
    results = re.findall(r"^(.+?)\s{2,}(\w+)\s+sold (\d+) .*bought (\d+)$", demo.stdout, re.M)
    assert len(results) == 5, demo.stdout
    for label, _status, sold, bought in results:
        assert int(sold) > 0 and int(bought) > 0, (label, demo.stdout, log.read_text()[-3000:])
    assert "winners" in log.read_text()
