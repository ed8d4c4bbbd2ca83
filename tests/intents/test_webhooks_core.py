"""The webhooks' pure core: Standard Webhooks signatures, the URL classifier (SSRF), the
registration's digest and expiry rules, and the retry schedule."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intents.errors import ErrorCode, OrderError
from intents.order import SigningScheme
from intents.signing import address_of, recover_signer, sign
from intents.types import Address
from intents.webhook_signing import (
    WebhookVerificationError,
    delivery_headers,
    new_secret,
    sign_payload,
    verify_webhook,
)
from intents.webhook_url import parse_webhook_url, refuse_unsafe, unsafe_reason
from intents.webhooks import (
    MAX_EXPIRY_SECONDS,
    check_expiry,
    deletion_digest,
    is_exhausted,
    registration_digest,
    retry_delay,
)

NOW = 1_800_000_000
SECRET = new_secret()
ids = st.text(st.characters(codec="ascii", categories=("L", "N")), min_size=1, max_size=40)
bodies = st.binary(max_size=300)


@given(ids, bodies)
def test_a_signed_delivery_verifies_and_names_its_id(message_id: str, body: bytes) -> None:
    headers = delivery_headers(SECRET, message_id, NOW, body)
    assert headers["idempotency-key"] == headers["webhook-id"] == message_id
    upper = {k.upper(): v for k, v in headers.items()}  # header names are case-insensitive
    assert verify_webhook(SECRET, upper, body, now=NOW + 10) == message_id


@given(ids, bodies, st.binary(min_size=1, max_size=8), st.integers(1, 10**6), ids)
def test_a_tampered_body_timestamp_or_id_fails(
    message_id: str, body: bytes, extra: bytes, shift: int, other_id: str
) -> None:
    headers = delivery_headers(SECRET, message_id, NOW, body)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(SECRET, headers, body + extra, now=NOW)
    moved = headers | {"webhook-timestamp": str(NOW + shift)}
    with pytest.raises(WebhookVerificationError):  # re-stamped: the signature does not match
        verify_webhook(SECRET, moved, body, now=NOW + shift)
    if other_id != message_id:
        with pytest.raises(WebhookVerificationError):
            verify_webhook(SECRET, headers | {"webhook-id": other_id}, body, now=NOW)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(new_secret(), headers, body, now=NOW)


def test_old_deliveries_and_missing_headers_are_refused() -> None:
    headers = delivery_headers(SECRET, "msg_1", NOW, b"{}")
    with pytest.raises(WebhookVerificationError, match="more than 300 s"):
        verify_webhook(SECRET, headers, b"{}", now=NOW + 301)
    assert verify_webhook(SECRET, headers, b"{}", now=NOW + 300) == "msg_1"
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        partial = {k: v for k, v in headers.items() if k != name}
        with pytest.raises(WebhookVerificationError, match=name):
            verify_webhook(SECRET, partial, b"{}", now=NOW)


def test_one_of_several_signatures_suffices() -> None:
    good = sign_payload(SECRET, "msg_2", NOW, b"x")
    headers = {"webhook-id": "msg_2", "webhook-timestamp": str(NOW)}
    rotated = headers | {"webhook-signature": f"v1,AAAA {good}"}
    assert verify_webhook(SECRET, rotated, b"x", now=NOW) == "msg_2"
    assert good.startswith("v1,") and len(good) == 3 + 44  # base64 of 32 bytes


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),  # the cloud metadata service
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("100.64.0.1", "not globally routable"),  # carrier-grade NAT
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:10.0.0.1", "private"),
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
        ("8.8.8.8", None),
        ("1.1.1.1", None),
        ("2606:4700:4700::1111", None),
        ("::ffff:8.8.8.8", None),
    ],
)
def test_url_classifier(address: str, reason: str | None) -> None:
    assert unsafe_reason(ipaddress.ip_address(address)) == reason


@given(st.ip_addresses(v=4))
def test_a_mapped_ipv4_address_is_judged_as_itself(address: ipaddress.IPv4Address) -> None:
    mapped = ipaddress.IPv6Address(f"::ffff:{address}")
    assert (unsafe_reason(mapped) is None) == (unsafe_reason(address) is None)


def test_refuse_unsafe_names_the_host_and_reason() -> None:
    with pytest.raises(OrderError, match=r"localhost resolves to 127\.0\.0\.1, a loopback") as info:
        refuse_unsafe("localhost", "127.0.0.1")
    assert info.value.code is ErrorCode.UNSAFE_WEBHOOK_URL
    refuse_unsafe("dns.google", "8.8.8.8")  # public: no exception


@pytest.mark.parametrize(
    "url",
    ["ftp://example.org/x", "file:///etc/passwd", "example.org/hook", "http://", "https://u:p@x.org/",
     "http://x.org:99999/", "http://" + "a" * 2050 + ".org/"],
)  # fmt: skip
def test_invalid_urls(url: str) -> None:
    with pytest.raises(OrderError) as info:
        parse_webhook_url(url)
    assert info.value.code is ErrorCode.INVALID_WEBHOOK_URL


def test_url_targets() -> None:
    assert parse_webhook_url("https://Hooks.Example.org/x?y=1").port == 443
    target = parse_webhook_url("http://[::1]:8081/hook")
    assert (target.scheme, target.host, target.port) == ("http", "::1", 8081)


def test_registration_digest_binds_every_field_and_recovers_the_owner() -> None:
    key = bytes.fromhex("11" * 32)
    owner = address_of(key)
    separator, nonce = b"\x01" * 32, b"\x02" * 32
    digest = registration_digest(separator, owner, "https://x.org/h", nonce, NOW)
    variants = {
        registration_digest(b"\x03" * 32, owner, "https://x.org/h", nonce, NOW),
        registration_digest(separator, Address("0x" + "00" * 20), "https://x.org/h", nonce, NOW),
        registration_digest(separator, owner, "https://x.org/i", nonce, NOW),
        registration_digest(separator, owner, "https://x.org/h", b"\x04" * 32, NOW),
        registration_digest(separator, owner, "https://x.org/h", nonce, NOW + 1),
        deletion_digest(separator, owner, "https://x.org/h", nonce, NOW),
    }
    assert digest not in variants and len(variants) == 6
    eip712 = sign(SigningScheme.EIP712, digest, key)
    assert recover_signer(SigningScheme.EIP712, digest, eip712) == owner
    assert (
        recover_signer(SigningScheme.ETHSIGN, digest, sign(SigningScheme.ETHSIGN, digest, key))
        == owner
    )


def test_expiry_in_the_future_and_at_most_an_hour_ahead() -> None:
    check_expiry(NOW + 1, NOW)
    check_expiry(NOW + MAX_EXPIRY_SECONDS, NOW)
    for expiry, code in ((NOW, ErrorCode.SIGNATURE_EXPIRED), (NOW - 5, ErrorCode.SIGNATURE_EXPIRED),
                         (NOW + MAX_EXPIRY_SECONDS + 1, ErrorCode.EXCESSIVE_EXPIRY)):  # fmt: skip
        with pytest.raises(OrderError) as info:
            check_expiry(expiry, NOW)
        assert info.value.code is code


@given(st.integers(1, 200), st.floats(0.01, 100))
def test_backoff_doubles_up_to_the_cap(attempts: int, base: float) -> None:
    delay = retry_delay(attempts, base, cap=1000.0)
    assert delay == min(1000.0, base * 2 ** (attempts - 1))
    assert retry_delay(attempts + 1, base, cap=1000.0) >= delay


def test_backoff_schedule_and_exhaustion() -> None:
    assert [retry_delay(n, 0.5) for n in range(1, 6)] == [0.5, 1.0, 2.0, 4.0, 8.0]
    assert [is_exhausted(n, 3) for n in range(1, 5)] == [False, False, True, True]
    with pytest.raises(ValueError):
        retry_delay(0, 1.0)
