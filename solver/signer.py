"""Where the settling account's private key comes from outside the devnet.

``--signer-key-file PATH`` (a file holding the ``0x`` hex key, readable by its owner only,
as ssh wants of its keys) wins over the ``TRIBUTARY_SIGNER_KEY`` environment variable;
without either, the deployment file's solver account signs (the devnet's default). The key
is checked for shape here and never logged: errors name the source, not the value.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path

from solver.errors import SolverError

ENVIRONMENT_VARIABLE = "TRIBUTARY_SIGNER_KEY"
_KEY = re.compile(r"(0x)?[0-9a-fA-F]{64}")


class SignerKeyError(SolverError, ValueError):
    """The signing key given is unreadable, exposed, or not a private key."""

    code = "InvalidSignerKey"


def signer_key(path: str | None, environ: Mapping[str, str] = os.environ) -> str | None:
    """The ``0x`` hex key from ``path`` (else from the environment), ``None`` if neither
    gives one; ``SignerKeyError`` for a file others may read or a value that is no key."""
    if path is not None:
        file = Path(path)
        try:
            mode = file.stat().st_mode
            text = file.read_text()
        except OSError as exc:
            reason = exc.strerror
            raise SignerKeyError(f"cannot read the signer key file {path}: {reason}") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise SignerKeyError(
                f"the signer key file {path} is accessible to others (mode "
                f"{stat.S_IMODE(mode):04o}); make it 0600"
            )
        return _checked(text.strip(), f"the signer key file {path}")
    value = environ.get(ENVIRONMENT_VARIABLE)
    if value is None or not value.strip():
        return None
    return _checked(value.strip(), ENVIRONMENT_VARIABLE)


def _checked(key: str, source: str) -> str:
    if not _KEY.fullmatch(key):
        raise SignerKeyError(f"{source} does not hold a 32-byte hex private key")
    return "0x" + key.removeprefix("0x").lower()
