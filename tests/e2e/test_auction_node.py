"""``tributary serve`` on its built-in devnet (seeded pools, funded traders, auctioneer on)
and ``tributary demo`` against it, both as real processes: every demo intent trades."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.request
from contextlib import suppress
from pathlib import Path

from bench.intake import free_port


def test_serve_and_demo_fill_every_intent(tmp_path: Path) -> None:
    port = free_port()
    deployment = tmp_path / "devnet.json"
    log = tmp_path / "serve.log"
    serve = [
        sys.executable, "-m", "solver.cli", "serve", "--port", str(port),
        "--database", f"sqlite:///{tmp_path / 'book.sqlite3'}",
        "--deployment", str(deployment), "--seed-tokens", "2", "--auction-interval", "1",
    ]  # fmt: skip
    with log.open("wb") as out:
        node = subprocess.Popen(serve, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 45
        while True:
            assert node.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "node not healthy"
            with suppress(OSError), urllib.request.urlopen(url + "/healthz", timeout=1) as r:
                if r.status == 200:
                    break
            time.sleep(0.2)
        demo = subprocess.run(
            [sys.executable, "-m", "solver.cli", "demo", "--url", url,
             "--deployment", str(deployment), "--timeout", "30"],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
    finally:
        node.terminate()
        node.wait(20)
    results = re.findall(r"^(.+?)\s{2,}(\w+)\s+sold (\d+) .*bought (\d+)$", demo.stdout, re.M)
    assert len(results) == 5, demo.stdout
    for label, _status, sold, bought in results:
        assert int(sold) > 0 and int(bought) > 0, (label, demo.stdout, log.read_text()[-3000:])
    assert "winners" in log.read_text()
