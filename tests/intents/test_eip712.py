"""EIP-712 hashing of orders: known constants and properties."""

from __future__ import annotations

import os

import msgspec
import pytest
from Crypto.Hash import keccak as pycryptodome_keccak
from hypothesis import given
from hypothesis import strategies as st

from intents.eip712 import (
    CANCELLATIONS_TYPE_HASH,
    ORDER_TYPE_HASH,
    cancellations_digest,
    domain_separator,
    order_digest,
    order_struct_hash,
    order_uid,
    unpack_uid,
)
from intents.keccak import _portable, keccak256
from intents.order import BuyTokenBalance, Order, OrderKind, SellTokenBalance
from tests.intents.strategies import SETTLEMENT, addresses, orders, plain_order

SEPARATOR = domain_separator(1, SETTLEMENT)


def test_mainnet_domain_separator_is_the_published_one() -> None:
    # GPv2Settlement.domainSeparator() on Ethereum mainnet (0x9008...ab41).
    expected = "c078f884a2676e1345748b1feace7b0abee5d00ecadb6e574dcdd109a63e8943"
    assert SEPARATOR.hex() == expected


def test_type_hashes_are_cows() -> None:
    # GPv2Order.TYPE_HASH and the services crate's OrderCancellations::TYPE_HASH.
    assert ORDER_TYPE_HASH.hex() == (
        "d5a25ba2e97094ad7d83dc28a6572da797d6b3e7fc6663bd93efb789fc17e489"
    )
    assert CANCELLATIONS_TYPE_HASH.hex() == (
        "4c89efb91ae246f78d2fe68b47db2fa1444a121a4f2dc3fda7a5a408c2e3588e"
    )


def test_domain_separator_depends_on_chain_and_contract() -> None:
    assert domain_separator(5, SETTLEMENT) != SEPARATOR
    assert domain_separator(1, "0x" + "11" * 20) != SEPARATOR  # type: ignore[arg-type]


@given(orders, addresses)
def test_uid_round_trip(order: Order, owner: str) -> None:
    digest = order_digest(SEPARATOR, order)
    uid = order_uid(digest, owner, order.valid_to)  # type: ignore[arg-type]
    assert len(uid) == 56
    assert unpack_uid(uid) == (digest, owner, order.valid_to)


def _other(address: str) -> str:
    return f"0x{int(address[2:4], 16) ^ 1:02x}{address[4:]}"


def _mutations(order: Order) -> list[Order]:
    """The order with each signed field changed in turn."""
    replace = msgspec.structs.replace
    return [
        replace(order, sell_token=_other(order.sell_token)),
        replace(order, buy_token=_other(order.buy_token)),
        replace(order, receiver=_other(order.receiver)),
        replace(order, sell_amount=order.sell_amount ^ 1),
        replace(order, buy_amount=order.buy_amount ^ 1),
        replace(order, valid_to=order.valid_to ^ 1),
        replace(order, app_data=bytes([order.app_data[0] ^ 1]) + order.app_data[1:]),
        replace(order, fee_amount=order.fee_amount ^ 1),
        replace(order, kind=OrderKind.BUY if order.kind is OrderKind.SELL else OrderKind.SELL),
        replace(order, partially_fillable=not order.partially_fillable),
        replace(
            order,
            sell_token_balance=SellTokenBalance.EXTERNAL
            if order.sell_token_balance is SellTokenBalance.ERC20
            else SellTokenBalance.ERC20,
        ),
        replace(
            order,
            buy_token_balance=BuyTokenBalance.INTERNAL
            if order.buy_token_balance is BuyTokenBalance.ERC20
            else BuyTokenBalance.ERC20,
        ),
    ]


@given(orders)
def test_any_field_change_changes_the_digest(order: Order) -> None:
    digest = order_digest(SEPARATOR, order)
    digests = {order_digest(SEPARATOR, m) for m in _mutations(order)}
    assert digest not in digests
    assert len(digests) == 12


def test_digest_rejects_out_of_range_fields() -> None:
    with pytest.raises(OverflowError):
        order_struct_hash(plain_order(sell_amount=2**256))
    with pytest.raises(OverflowError):
        order_struct_hash(plain_order(valid_to=2**32))
    with pytest.raises(ValueError):
        order_digest(SEPARATOR, plain_order(app_data=bytes(31)))


def test_unpack_uid_rejects_wrong_length() -> None:
    with pytest.raises(ValueError, match="56 bytes"):
        unpack_uid(bytes(55))


@given(st.lists(st.binary(min_size=56, max_size=56), max_size=5))
def test_cancellation_digest_depends_on_uids_and_their_order(uids: list[bytes]) -> None:
    digest = cancellations_digest(SEPARATOR, uids)
    assert cancellations_digest(SEPARATOR, [*uids, bytes(56)]) != digest
    if uids != uids[::-1]:
        assert cancellations_digest(SEPARATOR, uids[::-1]) != digest


@given(st.binary(max_size=600))
def test_fast_keccak_equals_pycryptodome(data: bytes) -> None:
    expected = pycryptodome_keccak.new(digest_bits=256, data=data).digest()
    assert keccak256(data) == expected == _portable(data)


def test_fast_keccak_is_in_use_and_thread_safe() -> None:
    from concurrent.futures import ThreadPoolExecutor

    assert keccak256 is not _portable  # the fast path passed its self-check
    inputs = [os.urandom(n) for n in range(200)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(keccak256, inputs * 4))
    assert results == [_portable(data) for data in inputs * 4]
