"""Why a call reverted, in words: ``Error(string)``, ``Panic(uint256)`` and custom errors.

A node returns the revert data of a failed ``eth_call``/``eth_estimateGas`` in the JSON-RPC
error's ``data`` (EIP-1474 code 3). The settlement contract reverts with strings ("GPv2:
limit price not respected"); tokens and AMMs add panics (checked arithmetic) and custom
errors, which are named when their ABI is known.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from eth_abi.abi import decode
from eth_abi.exceptions import DecodingError
from eth_typing import ABIError
from eth_utils.abi import get_abi_input_types
from eth_utils.crypto import keccak

ERROR_STRING = bytes.fromhex("08c379a0")  # Error(string)
PANIC = bytes.fromhex("4e487b71")  # Panic(uint256)

# Solidity's panic codes (docs: "Panic via assert and error codes").
PANIC_REASONS = {
    0x00: "generic compiler panic",
    0x01: "assertion failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division or modulo by zero",
    0x21: "invalid enum value",
    0x22: "invalid storage byte array encoding",
    0x31: "pop() on an empty array",
    0x32: "array index out of bounds",
    0x41: "out of memory",
    0x51: "call to an uninitialised function pointer",
}


def custom_errors(
    abis: Iterable[Iterable[Mapping[str, Any]]],
) -> dict[bytes, tuple[str, tuple[str, ...]]]:
    """``selector -> (name, argument types)`` for every ``error`` entry of the given ABIs."""
    table: dict[bytes, tuple[str, tuple[str, ...]]] = {}
    for abi in abis:
        for entry in abi:
            if entry.get("type") == "error":
                types = tuple(get_abi_input_types(cast(ABIError, entry)))
                signature = f"{entry['name']}({','.join(types)})"
                table[keccak(text=signature)[:4]] = (str(entry["name"]), types)
    return table


def revert_data(error_data: object) -> bytes | None:
    """The revert bytes inside a JSON-RPC error's ``data`` member, if it carries any
    (a hex string, or an object with a ``data`` hex string as some nodes nest it)."""
    if isinstance(error_data, dict):
        error_data = error_data.get("data")
    if isinstance(error_data, str) and error_data.startswith("0x"):
        try:
            return bytes.fromhex(error_data[2:])
        except ValueError:
            return None
    return None


def decode_revert(
    data: bytes, errors: Mapping[bytes, tuple[str, tuple[str, ...]]] | None = None
) -> str:
    """A human sentence for revert ``data``; never raises."""
    if not data:
        return "reverted without a reason"
    selector, body = data[:4], data[4:]
    try:
        if selector == ERROR_STRING:
            (message,) = decode(["string"], body)
            return str(message)
        if selector == PANIC:
            (code,) = decode(["uint256"], body)
            return f"panic 0x{code:02x}: {PANIC_REASONS.get(code, 'unknown panic code')}"
        if errors and selector in errors:
            name, types = errors[selector]
            values = decode(list(types), body)
            return f"{name}({', '.join(_show(v) for v in values)})"
    except (DecodingError, OverflowError, ValueError):
        pass
    return f"custom error 0x{selector.hex()} (data 0x{data.hex()})"


def _show(value: object) -> str:
    return "0x" + value.hex() if isinstance(value, bytes) else str(value)
