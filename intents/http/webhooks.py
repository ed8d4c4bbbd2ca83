"""Handlers of ``/api/v1/webhooks``: an owner's signed registration (answered with the
webhook's id and its secret, shown once), listing, signed deletion, and the deliveries of a
webhook with their state. See ``intents.webhooks`` for what is signed."""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass

from aiohttp import web

from intents.errors import ErrorCode, OrderError
from intents.http.keys import BOOK, VALIDATOR
from intents.http.views import address_param, json_response, query_int
from intents.http.webhook_resolver import SafeResolver
from intents.order import SigningScheme
from intents.signing import verify_owner
from intents.types import Address
from intents.webhook_signing import new_secret
from intents.webhook_store import StoredWebhook, new_webhook_id, webhook_not_found
from intents.webhook_url import parse_webhook_url, refuse_unsafe
from intents.webhook_wire import (
    DELETION,
    REGISTRATION,
    WebhookCreated,
    delivery_view,
    webhook_view,
)
from intents.webhooks import check_expiry, deletion_digest, registration_digest
from intents.wire import decode, encode

ROUTES = web.RouteTableDef()


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    allow_private: bool = False
    """Register (and call) private, loopback and link-local addresses (operator's choice)."""
    max_per_owner: int = 10


SETTINGS = web.AppKey("webhook_settings", WebhookSettings)


async def check_target(url: str, allow_private: bool) -> None:
    """Refuse a URL we do not call: ``InvalidWebhookUrl``, or ``UnsafeWebhookUrl`` when
    its host is (or resolves to) an unsafe address; a host that does not resolve is
    ``InvalidWebhookUrl``."""
    target = parse_webhook_url(url)
    if allow_private:
        return
    try:
        ipaddress.ip_address(target.host)
    except ValueError:
        pass
    else:
        refuse_unsafe(target.host, target.host)
        return
    resolver = SafeResolver()
    try:
        await resolver.resolve(target.host, target.port, 0)  # type: ignore[arg-type]
    except OSError as exc:
        raise OrderError(
            ErrorCode.INVALID_WEBHOOK_URL, f"{target.host} does not resolve: {exc}"
        ) from None
    finally:
        await resolver.close()


async def _authorize(
    request: web.Request, scheme: str, owner: Address, digest: bytes, signature: str, what: str
) -> None:
    validator = request.app[VALIDATOR]
    await verify_owner(
        validator.chain,
        SigningScheme(scheme),
        owner=owner,
        digest=digest,
        signature=bytes.fromhex(signature[2:]),
        gas_cap=validator.policy.eip1271_gas_cap,
        subject=what,
    )


@ROUTES.post("/api/v1/webhooks")
async def register_webhook(request: web.Request) -> web.Response:
    """Register the owner's webhook; 201 with its id and secret once committed."""
    body = decode(REGISTRATION, await request.read())
    settings = request.app[SETTINGS]
    owner = Address(body.owner.lower())
    check_expiry(body.expiry, time.time())
    nonce = bytes.fromhex(body.nonce[2:])
    separator = request.app[VALIDATOR].domain_separator
    digest = registration_digest(separator, owner, body.url, nonce, body.expiry)
    await _authorize(request, body.signing_scheme, owner, digest, body.signature, "the webhook")
    await check_target(body.url, settings.allow_private)
    hook = StoredWebhook(new_webhook_id(), owner, body.url, new_secret(), time.time())
    await request.app[BOOK].register_webhook(hook, nonce, settings.max_per_owner)
    return json_response(encode(WebhookCreated(id=hook.id, secret=hook.secret)), status=201)


@ROUTES.get("/api/v1/webhooks")
async def list_webhooks(request: web.Request) -> web.Response:
    """The owner's webhooks (``?owner=``), oldest first; secrets are never shown again."""
    owner = address_param(request.query.get("owner", ""), "owner")
    hooks = await request.app[BOOK].webhooks_by_owner(owner)
    return json_response(encode([webhook_view(h) for h in hooks]))


@ROUTES.delete("/api/v1/webhooks/{id}")
async def delete_webhook(request: web.Request) -> web.Response:
    """Delete by the owner's signed ``WebhookDeletion``; its pending deliveries go too."""
    webhook_id = request.match_info["id"]
    body = decode(DELETION, await request.read())
    owner = Address(body.owner.lower())
    check_expiry(body.expiry, time.time())
    nonce = bytes.fromhex(body.nonce[2:])
    separator = request.app[VALIDATOR].domain_separator
    digest = deletion_digest(separator, owner, webhook_id, nonce, body.expiry)
    subject = f"the deletion of webhook {webhook_id[:80]!r}"
    await _authorize(request, body.signing_scheme, owner, digest, body.signature, subject)
    await request.app[BOOK].delete_webhook(webhook_id, owner, nonce)
    return json_response(encode("Deleted"))


@ROUTES.get("/api/v1/webhooks/{id}/deliveries")
async def list_deliveries(request: web.Request) -> web.Response:
    """The webhook's deliveries, newest first: state (pending, delivered, failed), attempts,
    the last error, the event."""
    book = request.app[BOOK]
    webhook_id = request.match_info["id"]
    if await book.get_webhook(webhook_id) is None:
        raise webhook_not_found(webhook_id)
    limit = query_int(request, "limit", 100, 1, 1000)
    deliveries = await book.deliveries(webhook_id, limit)
    return json_response(encode([delivery_view(d) for d in deliveries]))
