"""Which webhook URLs the node may call (SSRF): pure classification, no I/O.

Only ``http``/``https`` URLs with a host are webhooks (``InvalidWebhookUrl``). An address
is unsafe when it is private, loopback, link-local, multicast, unspecified, reserved or
otherwise not globally routable — IPv4 and IPv6, an IPv4-mapped or -translated IPv6
address judged as the IPv4 address it carries (``UnsafeWebhookUrl``). The node checks the
resolved addresses at registration and again at every connection (so a DNS answer that
changes after registration cannot point it inward), unless the operator allows private
addresses (``--webhook-allow-private``).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from intents.errors import ErrorCode, OrderError

MAX_URL_LENGTH = 2048
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    scheme: str
    host: str
    port: int


def parse_webhook_url(url: str) -> WebhookTarget:
    """The URL's scheme, host and port; ``InvalidWebhookUrl`` if it is not one we call."""
    if len(url) > MAX_URL_LENGTH:
        raise _invalid(f"the URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _invalid(f"not a URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise _invalid(f"only http and https URLs are called, not {parts.scheme or 'none'!r}")
    if not parts.hostname:
        raise _invalid("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise _invalid("the URL must not carry credentials")
    default = 443 if parts.scheme == "https" else 80
    return WebhookTarget(parts.scheme, parts.hostname, port if port is not None else default)


def _invalid(description: str) -> OrderError:
    return OrderError(ErrorCode.INVALID_WEBHOOK_URL, description)


def unsafe_reason(address: IpAddress) -> str | None:
    """Why the node must not connect to ``address`` (None: a public address)."""
    if isinstance(address, ipaddress.IPv6Address):
        carried = address.ipv4_mapped or (
            ipaddress.IPv4Address(int(address) & 0xFFFFFFFF) if address in _NAT64 else None
        )
        if carried is not None:
            return unsafe_reason(carried)
    for reason, flag in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
    ):
        if flag:
            return reason
    if not address.is_global:
        return "not globally routable"
    return None


def refuse_unsafe(host: str, address: str) -> None:
    """Raise ``UnsafeWebhookUrl`` if ``address`` (what ``host`` resolved to) is unsafe."""
    reason = unsafe_reason(ipaddress.ip_address(address.split("%", 1)[0]))
    if reason is not None:
        raise OrderError(
            ErrorCode.UNSAFE_WEBHOOK_URL,
            f"{host} resolves to {address}, a {reason} address: webhooks are only sent to "
            "public addresses (the operator may allow private ones)",
        )
