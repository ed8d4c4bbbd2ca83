"""Signed cancellations: who may cancel which orders, and which orders can be cancelled.

CoW's ``DELETE /api/v1/orders`` body is an ECDSA signature (``eip712`` or ``ethsign``) over
the EIP-712 message ``OrderCancellations(bytes[] orderUids)``; the deprecated
``DELETE /api/v1/orders/{uid}`` signs ``OrderCancellation(bytes orderUid)``. Every UID
carries its owner (bytes 32..52), so authorisation needs no database: the signer must own
each UID. Whether the orders exist and can still be cancelled is ``refuse_cancellation``'s
business, which the order book applies under its lock.

The answers are CoW's (``crates/orderbook/src/orderbook.rs``, ``OrderCancellationError``):
the orders are looked up first, in order: ``OrderNotFound`` (404), ``OrderFullyExecuted``,
``AlreadyCancelled``, ``OrderExpired``, ``OnChainOrder`` (a ``presign`` or ``eip1271``
order, which only its owner's transaction can cancel) (400); then the signature,
``InvalidSignature`` (400), then the owner, ``WrongOwner`` (401). One refusal cancels none.
"""

from __future__ import annotations

from collections.abc import Sequence

from intents.eip712 import cancellation_digest, cancellations_digest, unpack_uid
from intents.errors import ErrorCode, OrderError, OrderNotFound, SignatureError
from intents.order import OrderStatus, SigningScheme, StoredOrder
from intents.signing import ECDSA_SCHEMES, recover_signer
from intents.types import Address, Digest, OrderUid
from intents.wire import CancellationPayload, OrderCancellations


def refuse_cancellation(uid: OrderUid, stored: StoredOrder | None, now: float) -> None:
    """Raise CoW's refusal if the order ``uid`` (``stored``, or ``None`` if unknown) cannot
    be cancelled at ``now``: unknown, filled, cancelled, expired, or signed on chain."""
    name = f"order 0x{uid.hex()}"
    if stored is None:
        raise OrderNotFound(f"{name} is not in the order book")
    if stored.status is OrderStatus.FILLED:
        raise OrderError(ErrorCode.ORDER_FULLY_EXECUTED, f"{name} is fully executed")
    if stored.status is OrderStatus.CANCELLED:
        raise OrderError(ErrorCode.ALREADY_CANCELLED, f"{name} is already cancelled")
    if stored.status is OrderStatus.EXPIRED or stored.order.valid_to < now:
        raise OrderError(ErrorCode.ORDER_EXPIRED, f"{name} is expired")
    if stored.signing_scheme not in ECDSA_SCHEMES:
        raise OrderError(
            ErrorCode.ON_CHAIN_ORDER,
            f"{name} is signed with {stored.signing_scheme}: on-chain orders must be "
            "cancelled on chain",
        )


def _signer_of(digest: Digest, scheme: str, signature: str, uids: Sequence[OrderUid]) -> Address:
    signer = recover_signer(SigningScheme(scheme), digest, bytes.fromhex(signature[2:]))
    for uid in uids:
        owner = unpack_uid(uid)[1]
        if owner != signer:
            raise SignatureError(
                ErrorCode.WRONG_OWNER,
                f"the cancellation is signed by {signer}, but order 0x{uid.hex()} "
                f"belongs to {owner}",
                http_status=401,
            )
    return signer


def authorize_cancellation(
    domain_separator: bytes, cancellation: OrderCancellations
) -> tuple[Address, list[OrderUid]]:
    """``(signer, uids)`` if the signer owns every UID; raises ``SignatureError`` with
    ``InvalidSignature`` (400) or ``WrongOwner`` (401, as CoW answers)."""
    uids = cancellation.uids
    digest = cancellations_digest(domain_separator, uids)
    signer = _signer_of(digest, cancellation.signing_scheme, cancellation.signature, uids)
    return signer, uids


def authorize_single_cancellation(
    domain_separator: bytes, uid: OrderUid, payload: CancellationPayload
) -> Address:
    """The signer of ``OrderCancellation(uid)`` if it owns ``uid``; raises as
    ``authorize_cancellation``."""
    digest = cancellation_digest(domain_separator, uid)
    return _signer_of(digest, payload.signing_scheme, payload.signature, [uid])
