"""An order's app data: the JSON document whose ``keccak256`` the order signs as ``appData``.

CoW's ``OrderCreation`` carries it in one of three forms: the full document in ``appData``
(its hash is computed), the document plus ``appDataHash`` (which must match), or only the
32-byte hash in ``appData`` (legacy; the document is then unknown to us).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import msgspec

from intents.errors import ErrorCode, OrderError
from intents.keccak import keccak256

DEFAULT_MAX_BYTES = 8192  # CoW's default app-data size limit
_HASH = re.compile(r"0x[0-9a-fA-F]{64}")
_json_decoder = msgspec.json.Decoder()


@dataclass(frozen=True, slots=True)
class AppData:
    hash: bytes  # 32 bytes, as signed
    document: str | None  # the full JSON, when it was posted


def resolve_app_data(
    app_data: str, app_data_hash: str | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> AppData:
    """Interpret ``appData``/``appDataHash`` as CoW does. Raises ``OrderError`` with
    ``InvalidAppData`` (not a JSON object, too large) or ``AppDataHashMismatch``."""
    if app_data_hash is None and _HASH.fullmatch(app_data):
        return AppData(bytes.fromhex(app_data[2:]), None)
    raw = app_data.encode()
    if len(raw) > max_bytes:
        raise OrderError(
            ErrorCode.INVALID_APP_DATA, f"app data is {len(raw)} bytes, the limit is {max_bytes}"
        )
    try:
        document = _json_decoder.decode(raw)
    except msgspec.DecodeError as exc:
        raise OrderError(ErrorCode.INVALID_APP_DATA, f"app data is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise OrderError(ErrorCode.INVALID_APP_DATA, "app data must be a JSON object")
    digest = keccak256(raw)
    if app_data_hash is not None and bytes.fromhex(app_data_hash[2:]) != digest:
        raise OrderError(
            ErrorCode.APP_DATA_HASH_MISMATCH,
            f"calculated app data hash 0x{digest.hex()} doesn't match appDataHash "
            f"{app_data_hash.lower()}",
        )
    return AppData(digest, app_data)
