"""The chain: where the contracts and pools are (the deployment file), GPv2 settle()
encoding, interactions, simulation and submission, fills and reorg tracking, and the
batched JSON-RPC chain reader intake uses. The local devnet is the ``devnet`` package.

Names are re-exported lazily (PEP 562) so that importing one submodule — the CLI does it
for every command — does not pull in web3 and everything else.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Execution": "build",
    "build_settlement": "build",
    "ChainMismatchError": "chain_identity",
    "RpcChainReader": "chain_reader",
    "verify_chain": "chain_identity",
    "ChainPool": "chain_pools",
    "PoolList": "chain_pools",
    "Account": "deployment",
    "Deployment": "deployment",
    "EncodingError": "encoding",
    "Interaction": "encoding",
    "Settlement": "encoding",
    "Trade": "encoding",
    "TradeFlags": "encoding",
    "trade_for_order": "encoding",
    "Fill": "fills",
    "OracleAnswer": "price_oracle",
    "latest_answers": "price_oracle",
    "FillIndexer": "fills",
    "FillSink": "fills",
    "FillTracker": "fills",
    "PresignatureIndexer": "presignatures",
    "trade_fills": "fills",
    "Leg": "interactions",
    "PoolKind": "interactions",
    "route_interactions": "interactions",
    "BatchingRpcClient": "jsonrpc",
    "ChainReadError": "jsonrpc",
    "decode_revert": "revert",
    "Outcome": "submitter",
    "SettlementReverted": "submitter",
    "Submission": "submitter",
    "SubmissionError": "submitter",
    "Submitter": "submitter",
    "SubmitterConfig": "submitter",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'settlement' has no attribute {name!r}")
    return getattr(importlib.import_module(f"settlement.{module}"), name)
