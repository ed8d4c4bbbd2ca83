"""Where the tests find the shared mainnet auction: ``shared/`` beside the checkout (as CI
lays it out), or the folder named by ``TRIBUTARY_SHARED``."""

from __future__ import annotations

import os
from pathlib import Path

_REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("TRIBUTARY_SHARED", _REPO.parent / "shared"))
MAINNET_AUCTION = SHARED / "data/auctions/mainnet-7400681.json"
