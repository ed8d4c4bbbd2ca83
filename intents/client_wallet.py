"""The signing half of the Python client: a private key that signs what the node takes.

``Wallet`` wraps ``intents.eip712`` and ``intents.signing`` (the same code the node verifies
with) and builds the wire documents of ``intents.wire`` and ``intents.conditional_wire``:
orders (``eip712``, ``ethsign``, ``presign``, and ``eip1271`` for a smart-contract wallet
this key controls), cancellations, conditional orders and their cancellations.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from intents.conditional import cancellation_digest as conditional_cancellation_digest
from intents.conditional import conditional_digest, parts_of
from intents.conditional_wire import (
    ConditionalOrderCancellation,
    ConditionalOrderCreation,
    WireParams,
)
from intents.eip712 import (
    address_bytes,
    cancellations_digest,
    domain_separator,
    order_digest,
    order_uid,
)
from intents.keccak import keccak256
from intents.order import Order, SigningScheme
from intents.signing import address_of, sign
from intents.types import Address, Digest, OrderUid
from intents.wire import OrderCancellations, OrderCreation, to_hex

__all__ = ["Wallet", "order_digest", "presign_calldata", "sign_order"]

_EcdsaName = Literal["eip712", "ethsign"]
SET_PRE_SIGNATURE = keccak256(b"setPreSignature(bytes,bool)")[:4]


def sign_order(separator: bytes, order: Order, private_key: bytes, scheme: SigningScheme) -> bytes:
    """The 65-byte ECDSA signature (``eip712`` or ``ethsign``) of ``order``."""
    return sign(scheme, order_digest(separator, order), private_key)


def presign_calldata(uid: bytes, signed: bool = True) -> bytes:
    """Calldata of ``GPv2Settlement.setPreSignature(uid, signed)`` (the owner sends it)."""
    padding = bytes(-len(uid) % 32)
    return (
        SET_PRE_SIGNATURE
        + (64).to_bytes(32, "big")
        + int(signed).to_bytes(32, "big")
        + len(uid).to_bytes(32, "big")
        + uid
        + padding
    )


class Wallet:
    """A secp256k1 key for one GPv2 domain (chain id + settlement contract)."""

    def __init__(self, private_key: bytes | str, *, chain_id: int, settlement: str) -> None:
        self._set_key(private_key)
        self.separator: Digest = domain_separator(chain_id, Address(settlement.lower()))

    @classmethod
    def from_separator(cls, private_key: bytes | str, separator: bytes) -> Wallet:
        """A wallet for the domain whose EIP-712 separator is ``separator``."""
        wallet = cls.__new__(cls)
        wallet._set_key(private_key)
        wallet.separator = Digest(separator)
        return wallet

    def _set_key(self, private_key: bytes | str) -> None:
        if isinstance(private_key, str):
            private_key = bytes.fromhex(private_key.removeprefix("0x"))
        self._key = private_key
        self.address = address_of(private_key)

    def __repr__(self) -> str:  # never the key
        return f"Wallet({self.address})"

    def sign_digest(self, digest: bytes, scheme: SigningScheme = SigningScheme.EIP712) -> bytes:
        return sign(scheme, digest, self._key)

    def order_digest(self, order: Order) -> Digest:
        return order_digest(self.separator, order)

    def uid(self, order: Order, owner: str | None = None) -> str:
        """The order's UID as the node computes it (``owner``: a contract wallet's)."""
        owner_address = Address((owner or self.address).lower())
        return to_hex(order_uid(self.order_digest(order), owner_address, order.valid_to))

    def sign_order(
        self,
        order: Order,
        scheme: SigningScheme = SigningScheme.EIP712,
        *,
        app_data: str | None = None,
        quote_id: int | None = None,
    ) -> OrderCreation:
        """The ``OrderCreation`` of ``order`` signed by this key (``eip712``/``ethsign``);
        ``app_data``: the full document whose hash ``order.app_data`` is."""
        signature = sign_order(self.separator, order, self._key, scheme)
        return self._creation(order, scheme, signature, self.address, app_data, quote_id)

    def eip1271_signature(self, digest: bytes) -> bytes:
        """The bytes a contract wallet owned by this key accepts for ``digest`` in
        ``isValidSignature`` — the owner's ECDSA signature of the digest itself, as the
        devnet's ``DigestWallet`` (and owner-keyed wallets like it) check it."""
        return sign(SigningScheme.EIP712, digest, self._key)

    def sign_order_for(
        self,
        wallet: str,
        order: Order,
        *,
        signature: bytes | None = None,
        app_data: str | None = None,
        quote_id: int | None = None,
    ) -> OrderCreation:
        """An ``eip1271`` order owned by the contract ``wallet``: ``signature`` is what its
        ``isValidSignature`` takes (default: ``eip1271_signature`` of the order digest;
        ``b""`` for a wallet that approved the digest on chain)."""
        if signature is None:
            signature = self.eip1271_signature(self.order_digest(order))
        owner = Address(wallet.lower())
        return self._creation(order, SigningScheme.EIP1271, signature, owner, app_data, quote_id)

    def presign_order(
        self, order: Order, *, app_data: str | None = None, quote_id: int | None = None
    ) -> OrderCreation:
        """A ``presign`` order of this key's address; it opens once the owner sends
        ``presign_calldata(uid)`` to the settlement contract."""
        signature = address_bytes(self.address)
        return self._creation(
            order, SigningScheme.PRESIGN, signature, self.address, app_data, quote_id
        )

    def cancellation(
        self, uids: list[str], scheme: SigningScheme = SigningScheme.EIP712
    ) -> OrderCancellations:
        """CoW's signed ``OrderCancellations`` of ``uids`` (the body of ``DELETE
        /api/v1/orders``)."""
        raw = [OrderUid(bytes.fromhex(u[2:])) for u in uids]
        signature = self.sign_digest(cancellations_digest(self.separator, raw), scheme)
        return OrderCancellations(
            order_uids=list(uids),
            signature=to_hex(signature),
            signing_scheme=_ecdsa(scheme),
        )

    def sign_conditional(
        self, params: WireParams, salt: bytes, scheme: SigningScheme = SigningScheme.EIP712
    ) -> ConditionalOrderCreation:
        """A conditional order of this key's address: the order and every part signed up
        front (the node withholds each part until it is due)."""
        domain = params.to_params()
        digest = conditional_digest(self.separator, domain, salt)
        parts = [
            to_hex(sign_order(self.separator, p.order, self._key, scheme)) for p in parts_of(domain)
        ]
        return ConditionalOrderCreation(
            params=params,
            salt=to_hex(salt),
            signing_scheme=_ecdsa(scheme),
            signature=to_hex(self.sign_digest(digest, scheme)),
            part_signatures=parts,
        )

    def conditional_for(
        self, wallet: str, params: WireParams, salt: bytes, *, sign_parts: bool = True
    ) -> ConditionalOrderCreation:
        """A conditional order owned by the contract ``wallet`` (``eip1271``): the parent
        signed with ``eip1271_signature``; with ``sign_parts`` each part too, else the wallet
        must approve each part's digest on chain when it is due (checked with empty bytes)."""
        domain = params.to_params()
        digest = conditional_digest(self.separator, domain, salt)
        parts = [
            to_hex(self.eip1271_signature(order_digest(self.separator, p.order)))
            for p in parts_of(domain)
            if sign_parts
        ]
        return ConditionalOrderCreation(
            params=params,
            salt=to_hex(salt),
            signing_scheme="eip1271",
            signature=to_hex(self.eip1271_signature(digest)),
            from_=Address(wallet.lower()),
            part_signatures=parts,
        )

    def conditional_cancellation(
        self, conditional_id: str, scheme: SigningScheme = SigningScheme.EIP712
    ) -> ConditionalOrderCancellation:
        """The owner's signed cancellation of a conditional order (``eip1271``: for a
        contract wallet this key controls)."""
        digest = conditional_cancellation_digest(self.separator, bytes.fromhex(conditional_id[2:]))
        if scheme is SigningScheme.EIP1271:
            return ConditionalOrderCancellation(
                signature=to_hex(self.eip1271_signature(digest)), signing_scheme="eip1271"
            )
        return ConditionalOrderCancellation(
            signature=to_hex(self.sign_digest(digest, scheme)), signing_scheme=_ecdsa(scheme)
        )

    @staticmethod
    def _creation(
        order: Order,
        scheme: SigningScheme,
        signature: bytes,
        owner: Address,
        app_data: str | None,
        quote_id: int | None,
    ) -> OrderCreation:
        creation = OrderCreation.from_order(
            order, signing_scheme=scheme, signature=signature, from_=owner, app_data=app_data
        )
        if quote_id is None:
            return creation
        return msgspec.structs.replace(creation, quote_id=quote_id)


def _ecdsa(scheme: SigningScheme) -> _EcdsaName:
    if scheme is SigningScheme.EIP712:
        return "eip712"
    if scheme is SigningScheme.ETHSIGN:
        return "ethsign"
    raise ValueError(f"an ECDSA scheme (eip712 or ethsign) is needed, not {scheme}")
