"""App data: the three forms CoW accepts and its checks."""

from __future__ import annotations

import pytest
from Crypto.Hash import keccak

from intents.appdata import resolve_app_data
from intents.errors import ErrorCode, OrderError

EMPTY_HASH = "0xb48d38f93eaa084033fc5970bf96e559c33c4cdc07d889ab00b4d63f9590739d"  # CoW's docs


def test_full_document_is_hashed() -> None:
    app_data = resolve_app_data("{}")
    assert "0x" + app_data.hash.hex() == EMPTY_HASH
    assert app_data.document == "{}"
    document = '{"version":"1.1.0","appCode":"Tributary ✓","metadata":{}}'
    expected = keccak.new(digest_bits=256, data=document.encode()).digest()
    assert resolve_app_data(document).hash == expected


def test_hash_only_form() -> None:
    app_data = resolve_app_data("0x" + "AB" * 32)
    assert (app_data.hash, app_data.document) == (bytes.fromhex("ab" * 32), None)


def test_document_with_matching_hash() -> None:
    assert resolve_app_data("{}", EMPTY_HASH).document == "{}"
    assert resolve_app_data("{}", EMPTY_HASH.upper().replace("0X", "0x")).document == "{}"


def _code(app_data: str, app_data_hash: str | None = None, **kwargs: int) -> ErrorCode:
    with pytest.raises(OrderError) as excinfo:
        resolve_app_data(app_data, app_data_hash, **kwargs)
    assert excinfo.value.http_status == 400
    return excinfo.value.code


def test_mismatch() -> None:
    assert _code("{}", "0x" + "00" * 32) is ErrorCode.APP_DATA_HASH_MISMATCH
    assert _code('{"a":1}', EMPTY_HASH) is ErrorCode.APP_DATA_HASH_MISMATCH


def test_invalid_documents() -> None:
    assert _code("{") is ErrorCode.INVALID_APP_DATA
    assert _code("[]") is ErrorCode.INVALID_APP_DATA
    assert _code('"text"') is ErrorCode.INVALID_APP_DATA
    assert _code("0x1234") is ErrorCode.INVALID_APP_DATA  # neither a hash nor JSON
    # with appDataHash given, appData must be the document even if it looks like a hash
    assert _code("0x" + "ab" * 32, EMPTY_HASH) is ErrorCode.INVALID_APP_DATA


def test_size_limit() -> None:
    document = '{"x":"' + "a" * 100 + '"}'
    assert resolve_app_data(document, max_bytes=len(document)).document == document
    assert _code(document, max_bytes=len(document) - 1) is ErrorCode.INVALID_APP_DATA
