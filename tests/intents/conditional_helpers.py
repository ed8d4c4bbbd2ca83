"""Signed conditional-order bodies as an owner's wallet makes them (EIP-712 signatures by
``intents.signing.sign`` over ``intents.conditional``'s digests)."""

from __future__ import annotations

from intents.conditional import cancellation_digest, conditional_digest, parts_of
from intents.conditional_wire import (
    ConditionalOrderCancellation,
    ConditionalOrderCreation,
    WireParams,
)
from intents.eip712 import order_digest
from intents.order import SigningScheme
from intents.signing import sign
from intents.wire import encode, to_hex

SALT = "0x" + "5a" * 32


def eoa_creation(
    separator: bytes, params: WireParams, key: bytes, *, salt: str = SALT
) -> ConditionalOrderCreation:
    """Signed by the key's EOA: the conditional order and every part up front."""
    domain_params = params.to_params()
    digest = conditional_digest(separator, domain_params, bytes.fromhex(salt[2:]))
    parts = [
        to_hex(sign(SigningScheme.EIP712, order_digest(separator, p.order), key))
        for p in parts_of(domain_params)
    ]
    return ConditionalOrderCreation(
        params=params,
        salt=salt,
        signing_scheme="eip712",
        signature=to_hex(sign(SigningScheme.EIP712, digest, key)),
        part_signatures=parts,
    )


def wallet_creation(
    params: WireParams, wallet: str, *, signature: str = "0x", salt: str = SALT
) -> ConditionalOrderCreation:
    """Owned by the EIP-1271 ``wallet``: it authorizes the order and each part on chain."""
    return ConditionalOrderCreation(
        params=params, salt=salt, signing_scheme="eip1271", signature=signature, from_=wallet
    )


def cancellation_body(separator: bytes, conditional_id: str, key: bytes) -> bytes:
    digest = cancellation_digest(separator, bytes.fromhex(conditional_id[2:]))
    return encode(
        ConditionalOrderCancellation(
            signature=to_hex(sign(SigningScheme.EIP712, digest, key)), signing_scheme="eip712"
        )
    )
