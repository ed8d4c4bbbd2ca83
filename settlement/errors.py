"""The settlement package's exception root: every error of the chain side is a
``SettlementError`` with a machine-readable ``code``, and also the builtin it behaves like
(an unreachable node is a ``ConnectionError``, an unencodable settlement a ``ValueError``),
so callers catch either. Edges (the HTTP APIs, the auctioneer's log) report ``code``."""

from __future__ import annotations


class SettlementError(Exception):
    """Root of settlement's errors; ``code`` is machine-readable, the message a sentence."""

    code: str = "SettlementError"


class DeploymentError(SettlementError, ValueError):
    """A deployment file (addresses, accounts, pools) is malformed."""

    code = "InvalidDeployment"
