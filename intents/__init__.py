"""What a user signs: the GPv2 order, its EIP-712 hash and signature, validation, storage."""

from intents.appdata import AppData, resolve_app_data
from intents.book import OrderBook, open_book
from intents.cancellation import authorize_cancellation
from intents.chain import ChainReader, FakeChain, Funds
from intents.conditional import (
    ConditionalKind,
    GoodAfterTime,
    StopLoss,
    Twap,
    conditional_digest,
    parts_of,
)
from intents.conditional_auth import ConditionalAuthorizer
from intents.conditional_store import ConditionalStore, StoredConditional
from intents.eip712 import (
    cancellations_digest,
    domain_separator,
    order_digest,
    order_struct_hash,
    order_uid,
    unpack_uid,
)
from intents.errors import (
    DecodeError,
    DuplicatedOrder,
    ErrorCode,
    OrderError,
    OrderNotFound,
    SignatureError,
    TooManyLimitOrders,
)
from intents.feed import StatusChange, Subscription
from intents.keccak import keccak256
from intents.order import (
    BuyTokenBalance,
    Order,
    OrderClass,
    OrderKind,
    OrderStatus,
    SellTokenBalance,
    SigningScheme,
    StoredOrder,
)
from intents.signing import (
    address_of,
    claimed_owner,
    recover_signer,
    settlement_signature,
    sign,
    verify_on_chain,
)
from intents.types import Address, Digest, OrderUid, TokenAddress, Wei
from intents.validation import LimitOrderCounter, OrderValidator, ValidationPolicy, check_policy
from intents.wire import (
    ErrorBody,
    OrderCancellations,
    OrderCreation,
    OrderResponse,
    decode_cancellations,
    decode_order_creation,
    encode,
)

__all__ = [
    "Address",
    "AppData",
    "BuyTokenBalance",
    "ChainReader",
    "ConditionalAuthorizer",
    "ConditionalKind",
    "ConditionalStore",
    "DecodeError",
    "Digest",
    "DuplicatedOrder",
    "ErrorBody",
    "ErrorCode",
    "FakeChain",
    "Funds",
    "GoodAfterTime",
    "LimitOrderCounter",
    "Order",
    "OrderBook",
    "OrderCancellations",
    "OrderClass",
    "OrderCreation",
    "OrderError",
    "OrderKind",
    "OrderNotFound",
    "OrderResponse",
    "OrderStatus",
    "OrderUid",
    "OrderValidator",
    "SellTokenBalance",
    "SignatureError",
    "SigningScheme",
    "StatusChange",
    "StopLoss",
    "StoredConditional",
    "StoredOrder",
    "Subscription",
    "TokenAddress",
    "TooManyLimitOrders",
    "Twap",
    "ValidationPolicy",
    "Wei",
    "address_of",
    "authorize_cancellation",
    "cancellations_digest",
    "check_policy",
    "claimed_owner",
    "conditional_digest",
    "decode_cancellations",
    "decode_order_creation",
    "domain_separator",
    "encode",
    "keccak256",
    "open_book",
    "order_digest",
    "order_struct_hash",
    "order_uid",
    "parts_of",
    "recover_signer",
    "resolve_app_data",
    "settlement_signature",
    "sign",
    "unpack_uid",
    "verify_on_chain",
]
