"""Signed cancellations: only the owner of every UID may cancel."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intents.cancellation import authorize_cancellation
from intents.eip712 import cancellations_digest, domain_separator, order_uid
from intents.errors import ErrorCode, SignatureError
from intents.order import SigningScheme
from intents.signing import address_of, sign
from intents.types import Address, OrderUid
from intents.wire import OrderCancellations
from tests.intents.strategies import SETTLEMENT, private_keys

SEPARATOR = domain_separator(1, SETTLEMENT)


def _uid(owner: Address, n: int) -> OrderUid:
    return order_uid(bytes([n]) * 32, owner, 2_000_000_000 + n)


def _signed(uids: list[OrderUid], key: bytes, scheme: SigningScheme) -> OrderCancellations:
    signature = sign(scheme, cancellations_digest(SEPARATOR, uids), key)
    return OrderCancellations(
        order_uids=["0x" + uid.hex() for uid in uids],
        signature="0x" + signature.hex(),
        signing_scheme=scheme.value,  # type: ignore[arg-type]
    )


@settings(max_examples=25)
@given(
    private_keys,
    st.integers(min_value=1, max_value=5),
    st.sampled_from([SigningScheme.EIP712, SigningScheme.ETHSIGN]),
)
def test_owner_may_cancel_own_orders(key: bytes, n: int, scheme: SigningScheme) -> None:
    owner = address_of(key)
    uids = [_uid(owner, i) for i in range(n)]
    assert authorize_cancellation(SEPARATOR, _signed(uids, key, scheme)) == (owner, uids)


def test_someone_elses_order_is_wrong_owner_401() -> None:
    key = b"\x01" * 32
    owner = address_of(key)
    uids = [_uid(owner, 1), _uid(Address("0x" + "99" * 20), 2)]
    with pytest.raises(SignatureError) as excinfo:
        authorize_cancellation(SEPARATOR, _signed(uids, key, SigningScheme.EIP712))
    assert (excinfo.value.code, excinfo.value.http_status) == (ErrorCode.WRONG_OWNER, 401)


def test_signature_over_other_uids_or_domain_fails() -> None:
    key = b"\x02" * 32
    owner = address_of(key)
    signed = _signed([_uid(owner, 1)], key, SigningScheme.EIP712)
    swapped = OrderCancellations(
        order_uids=["0x" + _uid(owner, 2).hex()],
        signature=signed.signature,
        signing_scheme=signed.signing_scheme,
    )
    with pytest.raises(SignatureError) as excinfo:
        authorize_cancellation(SEPARATOR, swapped)  # recovers some other address
    assert excinfo.value.code is ErrorCode.WRONG_OWNER
    with pytest.raises(SignatureError):
        authorize_cancellation(domain_separator(5, SETTLEMENT), signed)


def test_malformed_signature_is_invalid() -> None:
    owner = address_of(b"\x03" * 32)
    cancellation = OrderCancellations(
        order_uids=["0x" + _uid(owner, 1).hex()],
        signature="0x" + "00" * 64 + "1b",
        signing_scheme="eip712",
    )
    with pytest.raises(SignatureError) as excinfo:
        authorize_cancellation(SEPARATOR, cancellation)
    assert (excinfo.value.code, excinfo.value.http_status) == (ErrorCode.INVALID_SIGNATURE, 400)
