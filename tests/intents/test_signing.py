"""Signature recovery and the on-chain signing schemes."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from hypothesis import given, settings
from hypothesis import strategies as st

from intents.chain import FakeChain
from intents.eip712 import domain_separator, order_digest
from intents.errors import ErrorCode, SignatureError
from intents.order import Order, SigningScheme
from intents.signing import (
    SECP256K1_N,
    address_of,
    claimed_owner,
    recover_signer,
    settlement_signature,
    sign,
    verify_on_chain,
)
from intents.types import Address
from tests.intents.strategies import SETTLEMENT, orders, plain_order, private_keys

SEPARATOR = domain_separator(1, SETTLEMENT)
KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
OWNER = address_of(KEY)
DIGEST = order_digest(SEPARATOR, plain_order())
ECDSA = (SigningScheme.EIP712, SigningScheme.ETHSIGN)


def _code(excinfo: pytest.ExceptionInfo[SignatureError]) -> ErrorCode:
    return excinfo.value.code


def test_address_of_matches_eth_account() -> None:
    assert Account.from_key(KEY).address.lower() == OWNER


@settings(max_examples=50)
@given(private_keys, orders, st.sampled_from(ECDSA))
def test_recovers_the_signer_of_eth_account_signatures(
    key: bytes, order: Order, scheme: SigningScheme
) -> None:
    digest = order_digest(SEPARATOR, order)
    account = Account.from_key(key)
    if scheme is SigningScheme.EIP712:
        signature = account.unsafe_sign_hash(digest).signature
    else:
        signature = account.sign_message(encode_defunct(primitive=digest)).signature
    assert recover_signer(scheme, digest, bytes(signature)) == account.address.lower()


@settings(max_examples=50)
@given(private_keys, st.binary(min_size=32, max_size=32), st.sampled_from(ECDSA))
def test_sign_then_recover(key: bytes, digest: bytes, scheme: SigningScheme) -> None:
    signature = sign(scheme, digest, key)
    assert signature[64] in (27, 28)
    assert int.from_bytes(signature[32:64], "big") <= SECP256K1_N // 2
    assert recover_signer(scheme, digest, signature) == address_of(key)
    other = SigningScheme.ETHSIGN if scheme is SigningScheme.EIP712 else SigningScheme.EIP712
    assert recover_signer(other, digest, signature) != address_of(key)


@settings(max_examples=30)
@given(private_keys, st.binary(min_size=32, max_size=32))
def test_high_s_twin_is_rejected(key: bytes, digest: bytes) -> None:
    signature = sign(SigningScheme.EIP712, digest, key)
    s = int.from_bytes(signature[32:64], "big")
    # (r, n - s, flipped v) is the same signature to ecrecover: the malleable twin
    twin = signature[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes((55 - signature[64],))
    with pytest.raises(SignatureError) as excinfo:
        recover_signer(SigningScheme.EIP712, digest, twin)
    assert _code(excinfo) is ErrorCode.INVALID_SIGNATURE


def test_v_as_recovery_id_is_accepted_like_cow() -> None:
    signature = sign(SigningScheme.EIP712, DIGEST, KEY)
    raw = signature[:64] + bytes((signature[64] - 27,))
    assert recover_signer(SigningScheme.EIP712, DIGEST, raw) == OWNER


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: s[:64] + b"\x1d",  # v = 29
        lambda s: s[:64] + b"\x02",
        lambda s: s[:64],  # 64 bytes
        lambda s: s + b"\x00",  # 66 bytes
        lambda s: bytes(32) + s[32:],  # r = 0
        lambda s: s[:32] + bytes(32) + s[64:],  # s = 0
        lambda s: SECP256K1_N.to_bytes(32, "big") + s[32:],  # r = n
        lambda s: b"",
    ],
)
def test_malformed_signatures_are_invalid(mangle: object) -> None:
    signature = mangle(sign(SigningScheme.EIP712, DIGEST, KEY))  # type: ignore[operator]
    with pytest.raises(SignatureError) as excinfo:
        recover_signer(SigningScheme.EIP712, DIGEST, signature)
    assert _code(excinfo) is ErrorCode.INVALID_SIGNATURE


def test_digest_must_be_32_bytes() -> None:
    signature = sign(SigningScheme.EIP712, DIGEST, KEY)
    with pytest.raises(ValueError, match="32 bytes"):
        recover_signer(SigningScheme.EIP712, DIGEST[:31], signature)


def test_r_not_on_curve_is_invalid() -> None:
    # x = 5 is not the x coordinate of a secp256k1 point (5^3 + 7 = 132 is no square mod p)
    signature = (5).to_bytes(32, "big") + (1).to_bytes(32, "big") + b"\x1b"
    with pytest.raises(SignatureError):
        recover_signer(SigningScheme.EIP712, DIGEST, signature)


def test_claimed_owner_ecdsa_checks_from() -> None:
    signature = sign(SigningScheme.EIP712, DIGEST, KEY)
    assert claimed_owner(SigningScheme.EIP712, DIGEST, signature, None) == OWNER
    assert claimed_owner(SigningScheme.EIP712, DIGEST, signature, OWNER) == OWNER
    with pytest.raises(SignatureError) as excinfo:
        claimed_owner(SigningScheme.EIP712, DIGEST, signature, Address("0x" + "12" * 20))
    assert _code(excinfo) is ErrorCode.WRONG_OWNER
    other_digest = bytes(32)
    with pytest.raises(SignatureError) as excinfo:
        claimed_owner(SigningScheme.EIP712, other_digest, signature, OWNER)
    assert _code(excinfo) is ErrorCode.WRONG_OWNER  # recovers someone else


def test_claimed_owner_presign() -> None:
    owner_bytes = bytes.fromhex(OWNER[2:])
    assert claimed_owner(SigningScheme.PRESIGN, DIGEST, owner_bytes, None) == OWNER
    assert claimed_owner(SigningScheme.PRESIGN, DIGEST, b"", OWNER) == OWNER
    with pytest.raises(SignatureError) as excinfo:
        claimed_owner(SigningScheme.PRESIGN, DIGEST, b"", None)
    assert _code(excinfo) is ErrorCode.MISSING_FROM
    with pytest.raises(SignatureError) as excinfo:
        claimed_owner(SigningScheme.PRESIGN, DIGEST, owner_bytes, Address("0x" + "12" * 20))
    assert _code(excinfo) is ErrorCode.WRONG_OWNER
    with pytest.raises(SignatureError) as excinfo:
        claimed_owner(SigningScheme.PRESIGN, DIGEST, bytes(19), None)
    assert _code(excinfo) is ErrorCode.INVALID_SIGNATURE


def test_claimed_owner_eip1271_needs_from() -> None:
    assert claimed_owner(SigningScheme.EIP1271, DIGEST, b"\x01\x02", OWNER) == OWNER
    with pytest.raises(SignatureError) as excinfo:
        claimed_owner(SigningScheme.EIP1271, DIGEST, b"\x01\x02", None)
    assert _code(excinfo) is ErrorCode.MISSING_FROM


async def test_verify_on_chain_eip1271() -> None:
    chain = FakeChain()
    contract_signature = b"\xaa" * 70
    kwargs = {
        "owner": OWNER,
        "digest": DIGEST,
        "signature": contract_signature,
        "gas_cap": 10**6,
    }
    with pytest.raises(SignatureError) as excinfo:
        await verify_on_chain(chain, SigningScheme.EIP1271, **kwargs)  # type: ignore[arg-type]
    assert _code(excinfo) is ErrorCode.INVALID_EIP1271_SIGNATURE
    chain.eip1271_valid.add((OWNER, DIGEST, contract_signature))
    await verify_on_chain(chain, SigningScheme.EIP1271, **kwargs)  # type: ignore[arg-type]


async def test_verify_on_chain_is_free_for_ecdsa_and_presign() -> None:
    chain = FakeChain()  # a presign order's pre-signature decides its status, not validity
    for scheme in (*ECDSA, SigningScheme.PRESIGN):
        await verify_on_chain(
            chain,
            scheme,
            owner=OWNER,
            digest=DIGEST,
            signature=b"",
            gas_cap=0,
        )
    assert chain.calls == 0


def test_settlement_signature_encoding() -> None:
    owner_bytes = bytes.fromhex(OWNER[2:])
    ecdsa = sign(SigningScheme.EIP712, DIGEST, KEY)
    assert settlement_signature(SigningScheme.EIP712, OWNER, ecdsa) == ecdsa
    assert settlement_signature(SigningScheme.ETHSIGN, OWNER, ecdsa) == ecdsa
    assert settlement_signature(SigningScheme.PRESIGN, OWNER, b"") == owner_bytes
    assert settlement_signature(SigningScheme.EIP1271, OWNER, b"\x01") == owner_bytes + b"\x01"
