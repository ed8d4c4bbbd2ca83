"""The OpenAPI paths of ``/api/v1/webhooks`` (owner-signed registration and deletion, the
deliveries); ``intents.http.openapi`` merges them into the document."""

from __future__ import annotations

from typing import Any

from intents.webhook_wire import (
    DeliveryView,
    WebhookCreated,
    WebhookDeletion,
    WebhookRegistration,
    WebhookView,
)

SCHEMA_TYPES: tuple[Any, ...] = (
    WebhookRegistration,
    WebhookDeletion,
    WebhookCreated,
    WebhookView,
    DeliveryView,
)
_REF = "#/components/schemas/{name}"
_ERROR = {"$ref": _REF.format(name="ErrorBody")}
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}

DELIVERY = (
    "Every status change of the owner's orders is POSTed as JSON ({type: order.status, uid, "
    "owner, status, time}) with Standard Webhooks headers: webhook-id (the event's id, stable "
    "across retries; also sent as Idempotency-Key: dedupe by it, delivery is at least once), "
    "webhook-timestamp (unix seconds) and webhook-signature (v1,base64 HMAC-SHA256 keyed "
    "with the secret's base64-decoded bytes after whsec_, over id.timestamp.body). A non-2xx "
    "answer or no answer is retried with doubling delays (--webhook-retry-base) up to "
    "--webhook-max-attempts, then the delivery is failed. Private, loopback, link-local, "
    "multicast and unspecified addresses are refused at registration and at every "
    "connection unless the operator passes --webhook-allow-private."
)


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _body(name: str) -> dict[str, Any]:
    return {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": _REF.format(name=name)}}},
    }


def webhook_paths() -> dict[str, Any]:
    signed = (
        "NonceAlreadyUsed (409: the signed request was used before), SignatureExpired, "
        "ExcessiveExpiry (more than 1 h ahead), InvalidSignature, WrongOwner (401), "
        "InvalidEip1271Signature"
    )
    return {
        "/api/v1/webhooks": {
            "post": {
                "summary": "Register a webhook for the owner's order status changes",
                "description": "Signed by the owner (eip712 or ethsign; eip1271 for a contract "
                "owner) under the GPv2 domain: WebhookRegistration(address owner,string url,"
                "bytes32 nonce,uint256 expiry). " + DELIVERY,
                "requestBody": _body("WebhookRegistration"),
                "responses": {
                    "201": _json(
                        {"$ref": _REF.format(name="WebhookCreated")},
                        "the id and the HMAC secret (shown this once)",
                    ),
                    "400": _json(
                        _ERROR, signed + ", InvalidWebhookUrl, UnsafeWebhookUrl, TooManyWebhooks"
                    ),
                    "401": _json(_ERROR, "WrongOwner"),
                    "409": _json(_ERROR, "NonceAlreadyUsed"),
                },
            },
            "get": {
                "summary": "The owner's webhooks (secrets are never shown again)",
                "parameters": [
                    {"name": "owner", "in": "query", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": _json(
                        {"type": "array", "items": {"$ref": _REF.format(name="WebhookView")}},
                        "oldest first",
                    )
                },
            },
        },
        "/api/v1/webhooks/{id}": {
            "delete": {
                "summary": "Delete a webhook (and its pending deliveries)",
                "description": "Signed by the owner: WebhookDeletion(address owner,string id,"
                "bytes32 nonce,uint256 expiry).",
                "parameters": [_ID],
                "requestBody": _body("WebhookDeletion"),
                "responses": {
                    "200": _json({"type": "string"}, "Deleted"),
                    "400": _json(_ERROR, signed),
                    "404": _json(_ERROR, "WebhookNotFound"),
                    "409": _json(_ERROR, "NonceAlreadyUsed"),
                },
            }
        },
        "/api/v1/webhooks/{id}/deliveries": {
            "get": {
                "summary": "The webhook's deliveries: pending, delivered or failed, attempts, "
                "the last error, the event",
                "parameters": [_ID],
                "responses": {
                    "200": _json(
                        {"type": "array", "items": {"$ref": _REF.format(name="DeliveryView")}},
                        "newest first",
                    ),
                    "404": _json(_ERROR, "WebhookNotFound"),
                },
            }
        },
    }
