"""The devnet package's exception root."""

from __future__ import annotations


class DevnetError(RuntimeError):
    """anvil did not start, a contract artifact is unusable, or a devnet transaction
    failed; ``code`` is machine-readable."""

    code: str = "DevnetError"
