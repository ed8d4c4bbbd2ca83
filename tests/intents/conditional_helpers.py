"""Signed conditional-order bodies as an owner's wallet makes them: the client's ``Wallet``
(``intents.client_wallet``) over ``intents.conditional``'s digests."""

from __future__ import annotations

from intents.client_wallet import Wallet
from intents.conditional_wire import ConditionalOrderCreation, WireParams
from intents.wire import encode

SALT = "0x" + "5a" * 32


def eoa_creation(
    separator: bytes, params: WireParams, key: bytes, *, salt: str = SALT
) -> ConditionalOrderCreation:
    """Signed by the key's EOA: the conditional order and every part up front."""
    return Wallet.from_separator(key, separator).sign_conditional(params, bytes.fromhex(salt[2:]))


def wallet_creation(
    params: WireParams, wallet: str, *, signature: str = "0x", salt: str = SALT
) -> ConditionalOrderCreation:
    """Owned by the EIP-1271 ``wallet``: it authorizes the order and each part on chain."""
    return ConditionalOrderCreation(
        params=params, salt=salt, signing_scheme="eip1271", signature=signature, from_=wallet
    )


def cancellation_body(separator: bytes, conditional_id: str, key: bytes) -> bytes:
    return encode(Wallet.from_separator(key, separator).conditional_cancellation(conditional_id))
