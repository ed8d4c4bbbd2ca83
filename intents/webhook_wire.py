"""The JSON documents of ``/api/v1/webhooks``: what an owner posts to register and to delete a
webhook, and what the API answers. Same conventions as ``intents.wire``; what an owner signs
forbids unknown fields."""

from __future__ import annotations

from typing import Literal

import msgspec

from intents.webhook_store import Delivery, StatusEventBody, StoredWebhook
from intents.wire import Hex32, HexAddress, HexBytes, Uint32, decoder, iso_time

Scheme = Literal["eip712", "ethsign", "eip1271"]


class WebhookRegistration(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename="camel", kw_only=True
):
    """Signed ``WebhookRegistration(address owner,string url,bytes32 nonce,uint256 expiry)``."""

    owner: HexAddress
    url: str
    nonce: Hex32
    expiry: Uint32
    signing_scheme: Scheme
    signature: HexBytes


class WebhookDeletion(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename="camel", kw_only=True
):
    """Signed ``WebhookDeletion(address owner,string id,bytes32 nonce,uint256 expiry)``."""

    owner: HexAddress
    nonce: Hex32
    expiry: Uint32
    signing_scheme: Scheme
    signature: HexBytes


class WebhookCreated(msgspec.Struct, frozen=True, rename="camel", kw_only=True):
    """The new webhook's id and its HMAC secret: shown this once, never again."""

    id: str
    secret: str


class WebhookView(msgspec.Struct, frozen=True, rename="camel", kw_only=True):
    id: str
    owner: str
    url: str
    creation_date: str


class DeliveryView(msgspec.Struct, frozen=True, rename="camel", kw_only=True):
    """One event for one webhook; ``id`` is its ``webhook-id``/``Idempotency-Key``."""

    id: str
    webhook_id: str
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt: str | None
    last_error: str | None
    creation_date: str
    event: StatusEventBody


REGISTRATION = decoder(WebhookRegistration)
DELETION = decoder(WebhookDeletion)
_EVENT = msgspec.json.Decoder(StatusEventBody)


def webhook_view(hook: StoredWebhook) -> WebhookView:
    return WebhookView(
        id=hook.id, owner=hook.owner, url=hook.url, creation_date=iso_time(hook.creation_time)
    )


def delivery_view(delivery: Delivery) -> DeliveryView:
    pending = delivery.state == "pending"
    return DeliveryView(
        id=delivery.id,
        webhook_id=delivery.webhook_id,
        state=delivery.state.value,
        attempts=delivery.attempts,
        next_attempt=iso_time(delivery.next_attempt) if pending else None,
        last_error=delivery.last_error,
        creation_date=iso_time(delivery.created),
        event=_EVENT.decode(delivery.body),
    )
