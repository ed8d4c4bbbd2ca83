"""Units and identifiers of an intent, as distinct types (web3.py's ``types.py`` style).

Addresses are lowercase ``0x``-prefixed hex strings at every boundary of this package;
amounts are integers in token base units; hashes and UIDs are raw ``bytes``.
"""

from __future__ import annotations

from typing import NewType

Address = NewType("Address", str)
"""A 20-byte account or token address, lowercase ``0x`` hex."""

TokenAddress = NewType("TokenAddress", str)
"""An ERC-20 token address, lowercase ``0x`` hex."""

Wei = NewType("Wei", int)
"""An amount in a token's base units (uint256)."""

OrderUid = NewType("OrderUid", bytes)
"""56 bytes: order digest (32) ‖ owner (20) ‖ validTo (4, big-endian)."""

Digest = NewType("Digest", bytes)
"""A 32-byte EIP-712 digest or struct hash."""

UINT256_MAX = 2**256 - 1
UINT32_MAX = 2**32 - 1
ZERO_ADDRESS = Address("0x" + "00" * 20)


def to_address(value: str) -> Address:
    """Normalise a hex address to lowercase; raise ``ValueError`` if it is not 20 bytes."""
    if len(value) != 42 or value[:2] not in ("0x", "0X"):
        raise ValueError(f"not a 20-byte hex address: {value!r}")
    try:
        bytes.fromhex(value[2:])
    except ValueError:
        raise ValueError(f"not a 20-byte hex address: {value!r}") from None
    return Address(value.lower())
