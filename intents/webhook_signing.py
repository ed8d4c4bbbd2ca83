"""Signed webhook deliveries, as the Standard Webhooks specification defines them.

Each delivery carries ``webhook-id`` (the event's id: stable across retries, so it is also
the idempotency key, repeated as ``Idempotency-Key``), ``webhook-timestamp`` (unix seconds
of this attempt) and ``webhook-signature``: ``v1,`` + base64 HMAC-SHA256 over
``"{id}.{timestamp}.{body}"`` keyed with the webhook's secret. A secret is ``whsec_`` +
base64 of its key bytes. ``verify_webhook`` is what a receiver calls; it is pure (the
clock is a parameter); its error is a ``ValueError`` (``OrderError``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping

from intents.errors import ErrorCode, OrderError

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 24
TOLERANCE_SECONDS = 300
"""How far a delivery's timestamp may lie from the receiver's clock (replay window)."""


class WebhookVerificationError(OrderError):
    """The delivery is not signed by this secret, or its timestamp is out of tolerance."""

    def __init__(self, description: str) -> None:
        super().__init__(ErrorCode.INVALID_SIGNATURE, description, http_status=401)


def new_secret() -> str:
    """A fresh webhook secret (``whsec_`` + base64 of 24 random bytes)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except ValueError as exc:
        raise WebhookVerificationError("the secret is not whsec_ + base64") from exc


def sign_payload(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: ``v1,`` + base64 HMAC-SHA256 of id.timestamp.body."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def delivery_headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The headers of one delivery attempt."""
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign_payload(secret, message_id, timestamp, body),
        "idempotency-key": message_id,
    }


def verify_webhook(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float | None = None,
    tolerance: float = TOLERANCE_SECONDS,
) -> str:
    """The delivery's ``webhook-id`` if ``headers`` prove ``secret`` signed ``body`` within
    ``tolerance`` seconds of ``now`` (default: the clock); raises
    ``WebhookVerificationError`` otherwise. Header names are matched case-insensitively."""
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        message_id = lower["webhook-id"]
        stamp = lower["webhook-timestamp"]
        signatures = lower["webhook-signature"]
    except KeyError as exc:
        raise WebhookVerificationError(f"missing header {exc.args[0]}") from None
    if not stamp.isdigit():
        raise WebhookVerificationError(f"webhook-timestamp is not unix seconds: {stamp!r}")
    timestamp = int(stamp)
    clock = time.time() if now is None else now
    if abs(clock - timestamp) > tolerance:
        raise WebhookVerificationError(
            f"webhook-timestamp {timestamp} is more than {tolerance:g} s from now ({clock:.0f})"
        )
    expected = sign_payload(secret, message_id, timestamp, body)
    # several space-separated signatures may be sent (key rotation): one must match
    if any(hmac.compare_digest(expected, given) for given in signatures.split()):
        return message_id
    raise WebhookVerificationError("no webhook-signature matches the body")
