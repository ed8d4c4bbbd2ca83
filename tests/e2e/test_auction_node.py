"""``tributary serve`` on its built-in devnet (seeded pools, funded traders, auctioneer on)
and ``tributary demo`` against it, both as real processes: every demo intent trades."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.e2e.helpers import demo_command
from tests.e2e.serve_node import served_node


def test_serve_and_demo_fill_every_intent(tmp_path: Path) -> None:
    with served_node(tmp_path) as node:
        demo = subprocess.run(
            demo_command(node.url, tmp_path / "devnet.json"),
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
    log = node.log.read_text()
    results = re.findall(r"^(.+?)\s{2,}(\w+)\s+sold (\d+) .*bought (\d+)$", demo.stdout, re.M)
    assert len(results) == 5, demo.stdout
    for label, _status, sold, bought in results:
        assert int(sold) > 0 and int(bought) > 0, (label, demo.stdout, log[-3000:])
    assert "winners" in log
