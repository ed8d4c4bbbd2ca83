"""``tributary devnet``: a local chain for development, running until interrupted."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import threading
from pathlib import Path

from devnet.anvil import Devnet
from devnet.gpv2 import deploy_gpv2
from devnet.seed import default_seed_snapshot, load_snapshot, seed
from settlement.deployment import write_private

logger = logging.getLogger(__name__)


def devnet_command(args: argparse.Namespace) -> int:
    """``tributary devnet``: start anvil, deploy, seed liquidity from the snapshot (unless
    ``--seed-snapshot none``), write the deployment JSON (the seeded pools under
    ``liquidity``), run until Ctrl-C or SIGTERM."""
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        logger.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    snapshot_path = getattr(args, "seed_snapshot", None) or default_seed_snapshot()
    try:
        with Devnet(port=args.port) as devnet:
            deployment = deploy_gpv2(devnet)
            document = json.loads(deployment.to_json())
            if snapshot_path != "none":
                seeded = seed(devnet, deployment, load_snapshot(snapshot_path))
                document["liquidity"] = seeded.to_dict()
            out = Path(args.deployment_out)
            write_private(out, json.dumps(document, indent=2) + "\n")
            logger.info("deployment written to %s; RPC at %s", out, devnet.rpc_url)
            while not stop.wait(0.5):
                if not devnet.running:
                    logger.error("anvil exited unexpectedly")
                    return 1
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 0
