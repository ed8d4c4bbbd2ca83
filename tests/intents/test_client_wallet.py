"""The client's ``Wallet`` against the node's own checks: what it signs decodes as the API
decodes it and recovers to its address; its cancellations are authorized; ``presign``
calldata is the settlement's ABI; the key never shows in its repr."""

from __future__ import annotations

import pytest

from intents.cancellation import authorize_cancellation
from intents.client_wallet import Wallet, presign_calldata
from intents.conditional import cancellation_digest, conditional_digest
from intents.conditional_wire import GoodAfterTimeParams
from intents.eip712 import order_digest
from intents.keccak import keccak256
from intents.order import Order, OrderKind, SigningScheme
from intents.signing import claimed_owner, recover_signer
from intents.types import Address, TokenAddress
from intents.wire import U256, decode_cancellations, decode_order_creation, encode
from tests.settlement.test_chain_reader import SETTLEMENT as GPV2

KEY = "0x" + "11" * 32
OTHER = "0x" + "22" * 32
SETTLEMENT = "0x" + "9a" * 20
WALLET = Wallet(KEY, chain_id=31337, settlement=SETTLEMENT)


def order(valid_to: int = 2_000_000_000) -> Order:
    return Order(
        sell_token=TokenAddress("0x" + "01" * 20), buy_token=TokenAddress("0x" + "02" * 20),
        receiver=WALLET.address, sell_amount=10**18, buy_amount=9 * 10**17, valid_to=valid_to,
        app_data=bytes(32), fee_amount=0, kind=OrderKind.SELL, partially_fillable=False,
    )  # fmt: skip


@pytest.mark.parametrize("scheme", [SigningScheme.EIP712, SigningScheme.ETHSIGN])
def test_a_signed_order_decodes_and_recovers_to_the_wallet(scheme: SigningScheme) -> None:
    creation = decode_order_creation(encode(WALLET.sign_order(order(), scheme, quote_id=7)))
    assert creation.quote_id == 7 and creation.signing_scheme is scheme
    signed = creation.to_order(bytes(32))
    assert signed == order()
    digest = order_digest(WALLET.separator, signed)
    owner = claimed_owner(scheme, digest, creation.signature_bytes, creation.owner_claim)
    assert owner == WALLET.address
    other = Wallet(OTHER, chain_id=31337, settlement=SETTLEMENT)
    assert other.sign_order(order(), scheme).signature != creation.signature
    assert WALLET.uid(order()).startswith("0x" + digest.hex() + WALLET.address[2:])


def test_eip1271_and_presign_orders_name_their_owner() -> None:
    wallet = "0x" + "ab" * 20
    contract = WALLET.sign_order_for(wallet, order())
    assert (contract.signing_scheme, contract.from_) == (SigningScheme.EIP1271, wallet)
    digest = WALLET.order_digest(order())
    assert recover_signer(SigningScheme.EIP712, digest, contract.signature_bytes) == WALLET.address
    assert WALLET.sign_order_for(wallet, order(), signature=b"").signature == "0x"
    presign = WALLET.presign_order(order())
    assert presign.signature_bytes == bytes.fromhex(WALLET.address[2:])
    uid = bytes.fromhex(WALLET.uid(order())[2:])
    call = presign_calldata(uid)
    assert call[:4] == keccak256(b"setPreSignature(bytes,bool)")[:4]
    assert int.from_bytes(call[36:68], "big") == 1 and call[100:156] == uid
    assert len(call) % 32 == 4 and presign_calldata(uid, False)[36:68] == bytes(32)


def test_cancellations_are_authorized_by_the_nodes_rule() -> None:
    uids = [WALLET.uid(order()), WALLET.uid(order(2_000_000_001))]
    cancellation = decode_cancellations(encode(WALLET.cancellation(uids)))
    signer, raw = authorize_cancellation(WALLET.separator, cancellation)
    assert signer == WALLET.address and [b.hex() for b in raw] == [u[2:] for u in uids]
    with pytest.raises(ValueError):
        WALLET.cancellation(uids, SigningScheme.PRESIGN)


def test_conditional_orders_and_their_cancellation_are_signed_by_the_owner() -> None:
    params = GoodAfterTimeParams(
        sell_token="0x" + "01" * 20, buy_token="0x" + "02" * 20, sell_amount=U256(10**18),
        buy_amount=U256(1), valid_to=2_000_000_000, app_data="0x" + "00" * 32, start_time=1,
    )  # fmt: skip
    salt = bytes(range(32))
    digest = conditional_digest(WALLET.separator, params.to_params(), salt)
    for creation in (
        WALLET.sign_conditional(params, salt),
        WALLET.conditional_for("0x" + "ab" * 20, params, salt),
    ):
        signature = bytes.fromhex(creation.signature[2:])
        assert recover_signer(SigningScheme.EIP712, digest, signature) == WALLET.address
        assert len(creation.part_signatures) == 1
    assert (
        WALLET.conditional_for("0x" + "ab" * 20, params, salt, sign_parts=False).part_signatures
        == []
    )
    cid = "0x" + digest.hex() + WALLET.address[2:]
    cancel = WALLET.conditional_cancellation(cid)
    cancel_digest = cancellation_digest(WALLET.separator, bytes.fromhex(cid[2:]))
    signer = recover_signer(
        SigningScheme.EIP712, cancel_digest, bytes.fromhex(cancel.signature[2:])
    )
    assert signer == WALLET.address
    assert WALLET.conditional_cancellation(cid, SigningScheme.EIP1271).signing_scheme == "eip1271"


def test_the_key_never_shows() -> None:
    assert KEY[2:] not in repr(WALLET) and WALLET.address in repr(WALLET)
    assert Wallet.from_separator(KEY, WALLET.separator).address == WALLET.address
    assert isinstance(WALLET.address, str) and WALLET.address == Address(WALLET.address.lower())


def test_presign_calldata_is_the_settlement_abi() -> None:
    uid = bytes.fromhex(WALLET.uid(order())[2:])
    for signed in (True, False):
        assert presign_calldata(uid, signed) == GPV2.encode_call("setPreSignature", uid, signed)
