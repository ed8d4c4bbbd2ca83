"""Webhooks: what an owner signs to register or delete one, and when a delivery is retried.

Registration is signed (``eip712``, ``ethsign``, or ``eip1271`` for a contract owner)
under the node's GPv2 domain as
``WebhookRegistration(address owner,string url,bytes32 nonce,uint256 expiry)``; deletion as
``WebhookDeletion(address owner,string id,bytes32 nonce,uint256 expiry)``. The nonce is
consumed with the write it authorizes (a replay is ``NonceAlreadyUsed``, 409); ``expiry``
(unix seconds) must lie in the future (``SignatureExpired``) and at most
``MAX_EXPIRY_SECONDS`` ahead (``ExcessiveExpiry``), so a signed request is only good
briefly. Pure: no I/O.
"""

from __future__ import annotations

from intents.eip712 import address_bytes, typed_data_digest
from intents.errors import ErrorCode, OrderError
from intents.keccak import keccak256
from intents.types import Address, Digest

MAX_EXPIRY_SECONDS = 3600
REGISTRATION_TYPE_HASH = keccak256(
    b"WebhookRegistration(address owner,string url,bytes32 nonce,uint256 expiry)"
)
DELETION_TYPE_HASH = keccak256(
    b"WebhookDeletion(address owner,string id,bytes32 nonce,uint256 expiry)"
)


def _struct(type_hash: bytes, owner: Address, text: str, nonce: bytes, expiry: int) -> bytes:
    if len(nonce) != 32:
        raise ValueError(f"a nonce is 32 bytes, got {len(nonce)}")
    return keccak256(
        type_hash
        + bytes(12)
        + address_bytes(owner)
        + keccak256(text.encode())
        + nonce
        + expiry.to_bytes(32, "big")
    )


def registration_digest(
    separator: bytes, owner: Address, url: str, nonce: bytes, expiry: int
) -> Digest:
    """The EIP-712 digest the owner signs to register ``url``."""
    return typed_data_digest(separator, _struct(REGISTRATION_TYPE_HASH, owner, url, nonce, expiry))


def deletion_digest(
    separator: bytes, owner: Address, webhook_id: str, nonce: bytes, expiry: int
) -> Digest:
    """The EIP-712 digest the owner signs to delete webhook ``webhook_id``."""
    struct = _struct(DELETION_TYPE_HASH, owner, webhook_id, nonce, expiry)
    return typed_data_digest(separator, struct)


def check_expiry(expiry: int, now: float, max_ahead: int = MAX_EXPIRY_SECONDS) -> None:
    """Raise ``SignatureExpired`` unless ``now < expiry``, ``ExcessiveExpiry`` unless
    ``expiry <= now + max_ahead``."""
    if expiry <= now:
        raise OrderError(
            ErrorCode.SIGNATURE_EXPIRED,
            f"the signed request expired at {expiry} (now {int(now)}): sign a fresh one",
        )
    if expiry > now + max_ahead:
        raise OrderError(
            ErrorCode.EXCESSIVE_EXPIRY,
            f"expiry {expiry} lies more than {max_ahead} s ahead (now {int(now)}): a signed "
            "request is good for at most an hour",
        )


def retry_delay(attempts: int, base: float, cap: float = 3600.0) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt (1, 2, ...): ``base``,
    doubling each time, at most ``cap``."""
    if attempts < 1:
        raise ValueError(f"attempts counts failures from 1, got {attempts}")
    return min(cap, base * float(2 ** min(attempts - 1, 64)))


def is_exhausted(attempts: int, max_attempts: int) -> bool:
    """A delivery that failed ``attempts`` times is given up (``failed``)."""
    return attempts >= max_attempts
