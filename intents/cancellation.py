"""Signed cancellations: who may cancel which orders.

CoW's ``DELETE /api/v1/orders`` body is an ECDSA signature (``eip712`` or ``ethsign``) over
the EIP-712 message ``OrderCancellations(bytes[] orderUids)``. Every UID carries its owner
(bytes 32..52), so authorisation needs no database: the signer must own each UID. Whether
the orders exist and can still be cancelled is the order book's business.
"""

from __future__ import annotations

from intents.eip712 import cancellations_digest, unpack_uid
from intents.errors import ErrorCode, SignatureError
from intents.order import SigningScheme
from intents.signing import recover_signer
from intents.types import Address, OrderUid
from intents.wire import OrderCancellations


def authorize_cancellation(
    domain_separator: bytes, cancellation: OrderCancellations
) -> tuple[Address, list[OrderUid]]:
    """``(signer, uids)`` if the signer owns every UID; raises ``SignatureError`` with
    ``InvalidSignature`` (400) or ``WrongOwner`` (401, as CoW answers)."""
    uids = cancellation.uids
    digest = cancellations_digest(domain_separator, uids)
    scheme = SigningScheme(cancellation.signing_scheme)
    signer = recover_signer(scheme, digest, bytes.fromhex(cancellation.signature[2:]))
    for uid in uids:
        owner = unpack_uid(uid)[1]
        if owner != signer:
            raise SignatureError(
                ErrorCode.WRONG_OWNER,
                f"the cancellation is signed by {signer}, but order 0x{uid.hex()} "
                f"belongs to {owner}",
                http_status=401,
            )
    return signer, uids
