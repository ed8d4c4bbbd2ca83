"""Revert reasons in words: Error(string), Panic(uint256), custom errors, and garbage."""

from __future__ import annotations

from eth_abi.abi import encode
from eth_utils.crypto import keccak
from hypothesis import given
from hypothesis import strategies as st

from settlement.revert import ERROR_STRING, PANIC, custom_errors, decode_revert, revert_data

ABI = [
    {
        "type": "error",
        "name": "TooLittleReceived",
        "inputs": [
            {"name": "token", "type": "address"},
            {"name": "amounts", "type": "tuple", "components": [
                {"name": "min", "type": "uint256"}, {"name": "got", "type": "uint256"}
            ]},
        ],
    },
    {"type": "function", "name": "ignored", "inputs": []},
]  # fmt: skip


@given(st.text())
def test_error_string_round_trips(message: str) -> None:
    assert decode_revert(ERROR_STRING + encode(["string"], [message])) == message


def test_panic_codes_are_named() -> None:
    assert decode_revert(PANIC + encode(["uint256"], [0x11])) == (
        "panic 0x11: arithmetic overflow or underflow"
    )
    assert decode_revert(PANIC + encode(["uint256"], [0x99])) == "panic 0x99: unknown panic code"


def test_custom_error_from_abi() -> None:
    table = custom_errors([ABI])
    selector = keccak(text="TooLittleReceived(address,(uint256,uint256))")[:4]
    assert list(table) == [selector]
    data = selector + encode(["address", "(uint256,uint256)"], ["0x" + "ab" * 20, (5, 3)])
    assert decode_revert(data, table) == f"TooLittleReceived(0x{'ab' * 20}, (5, 3))"
    assert decode_revert(data) == f"custom error 0x{selector.hex()} (data 0x{data.hex()})"


@given(st.binary(max_size=100))
def test_any_bytes_decode_to_a_sentence_without_raising(data: bytes) -> None:
    assert decode_revert(data, custom_errors([ABI]))


def test_empty_and_truncated_data() -> None:
    assert decode_revert(b"") == "reverted without a reason"
    assert decode_revert(ERROR_STRING + b"\x00" * 5).startswith("custom error 0x08c379a0")


def test_revert_data_from_rpc_error_member() -> None:
    assert revert_data("0x08c379a0") == ERROR_STRING
    assert revert_data({"data": "0x4e487b71"}) == PANIC
    assert revert_data("execution reverted") is None
    assert revert_data(None) is None
    assert revert_data("0xzz") is None
