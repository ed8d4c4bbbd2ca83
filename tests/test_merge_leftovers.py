"""No tracked file keeps a merge's conflict markers (one once shipped in README.md)."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKERS = ("<" * 7 + " ", ">" * 7 + " ")


def test_no_conflict_markers_in_tracked_files() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True
    ).stdout.split(b"\0")
    found = []
    for name in filter(None, tracked):
        path = ROOT / name.decode()
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        for number, line in enumerate(path.read_bytes().splitlines(), 1):
            if line.decode("utf-8", "replace").startswith(MARKERS):
                found.append(f"{name.decode()}:{number}")
    assert found == []
