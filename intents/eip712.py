"""EIP-712 hashing of GPv2 orders and cancellations, bit for bit as the settlement contract.

``GPv2Order.hash`` hashes the enum-like fields (``kind``, ``sellTokenBalance``,
``buyTokenBalance``) as ``keccak256`` of their string name, and the order UID packs
``digest ‖ owner ‖ validTo``. Constant parts (type hashes, hashed enum names) are computed
once at import; hashing an order is one ``keccak256`` over a 416-byte buffer.
"""

from __future__ import annotations

from collections.abc import Iterable

from intents.keccak import keccak256
from intents.order import BuyTokenBalance, Order, OrderKind, SellTokenBalance
from intents.types import Address, Digest, OrderUid

UID_LENGTH = 56


DOMAIN_TYPE_HASH = keccak256(
    b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
ORDER_TYPE_HASH = keccak256(
    b"Order(address sellToken,address buyToken,address receiver,uint256 sellAmount,"
    b"uint256 buyAmount,uint32 validTo,bytes32 appData,uint256 feeAmount,string kind,"
    b"bool partiallyFillable,string sellTokenBalance,string buyTokenBalance)"
)
CANCELLATIONS_TYPE_HASH = keccak256(b"OrderCancellations(bytes[] orderUids)")
CANCELLATION_TYPE_HASH = keccak256(b"OrderCancellation(bytes orderUid)")

_NAME_HASH = keccak256(b"Gnosis Protocol")
_VERSION_HASH = keccak256(b"v2")
_KIND_HASH = {kind: keccak256(kind.value.encode()) for kind in OrderKind}
_SELL_BALANCE_HASH = {b: keccak256(b.value.encode()) for b in SellTokenBalance}
_BUY_BALANCE_HASH = {b: keccak256(b.value.encode()) for b in BuyTokenBalance}
_PAD_ADDRESS = bytes(12)
_PAD_UINT32 = bytes(28)
_FALSE = bytes(32)
_TRUE = bytes(31) + b"\x01"


def address_bytes(address: str) -> bytes:
    """The 20 raw bytes of a ``0x``-prefixed hex address."""
    raw = bytes.fromhex(address[2:])
    if len(raw) != 20:
        raise ValueError(f"not a 20-byte address: {address!r}")
    return raw


def domain_separator(chain_id: int, verifying_contract: Address) -> Digest:
    """The GPv2 domain separator: name "Gnosis Protocol", version "v2"."""
    return Digest(
        keccak256(
            DOMAIN_TYPE_HASH
            + _NAME_HASH
            + _VERSION_HASH
            + chain_id.to_bytes(32, "big")
            + _PAD_ADDRESS
            + address_bytes(verifying_contract)
        )
    )


def order_struct_hash(order: Order) -> Digest:
    """``hashStruct(order)``; raises ``OverflowError`` for amounts outside uint256/uint32."""
    return Digest(
        keccak256(
            b"".join(
                (
                    ORDER_TYPE_HASH,
                    _PAD_ADDRESS,
                    address_bytes(order.sell_token),
                    _PAD_ADDRESS,
                    address_bytes(order.buy_token),
                    _PAD_ADDRESS,
                    address_bytes(order.receiver),
                    order.sell_amount.to_bytes(32, "big"),
                    order.buy_amount.to_bytes(32, "big"),
                    _PAD_UINT32,
                    order.valid_to.to_bytes(4, "big"),
                    order.app_data,
                    order.fee_amount.to_bytes(32, "big"),
                    _KIND_HASH[order.kind],
                    _TRUE if order.partially_fillable else _FALSE,
                    _SELL_BALANCE_HASH[order.sell_token_balance],
                    _BUY_BALANCE_HASH[order.buy_token_balance],
                )
            )
        )
    )


def typed_data_digest(separator: bytes, struct_hash: bytes) -> Digest:
    """The EIP-712 signing digest ``keccak256(0x1901 ‖ domainSeparator ‖ structHash)``."""
    return Digest(keccak256(b"\x19\x01" + separator + struct_hash))


def order_digest(separator: bytes, order: Order) -> Digest:
    """The digest an owner signs for ``order`` (the first 32 bytes of its UID)."""
    if len(order.app_data) != 32:
        raise ValueError("appData must be 32 bytes")
    return typed_data_digest(separator, order_struct_hash(order))


def order_uid(digest: bytes, owner: Address, valid_to: int) -> OrderUid:
    """Pack the 56-byte UID: ``digest (32) ‖ owner (20) ‖ validTo (4, big-endian)``."""
    return OrderUid(digest + address_bytes(owner) + valid_to.to_bytes(4, "big"))


def unpack_uid(uid: bytes) -> tuple[Digest, Address, int]:
    """Split a UID into ``(digest, owner, validTo)``."""
    if len(uid) != UID_LENGTH:
        raise ValueError(f"an order UID is {UID_LENGTH} bytes, got {len(uid)}")
    return (
        Digest(uid[:32]),
        Address("0x" + uid[32:52].hex()),
        int.from_bytes(uid[52:], "big"),
    )


def cancellations_digest(separator: bytes, uids: Iterable[bytes]) -> Digest:
    """The digest of CoW's ``OrderCancellations(bytes[] orderUids)`` message."""
    array_hash = keccak256(b"".join(keccak256(uid) for uid in uids))
    return typed_data_digest(separator, keccak256(CANCELLATIONS_TYPE_HASH + array_hash))


def cancellation_digest(separator: bytes, uid: bytes) -> Digest:
    """The digest of CoW's ``OrderCancellation(bytes orderUid)`` message (the deprecated
    single-order cancellation)."""
    return typed_data_digest(separator, keccak256(CANCELLATION_TYPE_HASH + keccak256(uid)))
