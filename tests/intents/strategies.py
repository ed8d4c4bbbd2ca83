"""Hypothesis strategies and builders for orders and keys, shared by the intent tests."""

from __future__ import annotations

from hypothesis import strategies as st

from intents.order import BuyTokenBalance, Order, OrderKind, SellTokenBalance
from intents.signing import SECP256K1_N
from intents.types import UINT32_MAX, UINT256_MAX, Address, TokenAddress

SETTLEMENT = Address("0x9008d19f58aabd9ed0d60971565aa8510560ab41")
SELL = TokenAddress("0x" + "a1" * 20)
BUY = TokenAddress("0x" + "b2" * 20)
SIGNED_FIELDS = (
    "sellToken",
    "buyToken",
    "receiver",
    "sellAmount",
    "buyAmount",
    "validTo",
    "appData",
    "feeAmount",
    "kind",
    "partiallyFillable",
    "sellTokenBalance",
    "buyTokenBalance",
    "signingScheme",
    "signature",
)
"""The ``OrderCreation`` fields a posted order is returned with unchanged by ``GET``."""

addresses = st.binary(min_size=20, max_size=20).map(lambda b: Address("0x" + b.hex()))
uint256 = st.integers(min_value=0, max_value=UINT256_MAX)
private_keys = st.integers(min_value=1, max_value=SECP256K1_N - 1).map(
    lambda k: k.to_bytes(32, "big")
)

orders = st.builds(
    Order,
    sell_token=addresses,
    buy_token=addresses,
    receiver=addresses,
    sell_amount=uint256,
    buy_amount=uint256,
    valid_to=st.integers(min_value=0, max_value=UINT32_MAX),
    app_data=st.binary(min_size=32, max_size=32),
    fee_amount=uint256,
    kind=st.sampled_from(OrderKind),
    partially_fillable=st.booleans(),
    sell_token_balance=st.sampled_from(SellTokenBalance),
    buy_token_balance=st.sampled_from(BuyTokenBalance),
)


def plain_order(**changes: object) -> Order:
    """A valid-looking fill-or-kill limit sell order; override fields with ``changes``."""
    fields: dict[str, object] = {
        "sell_token": SELL,
        "buy_token": BUY,
        "receiver": Address("0x" + "00" * 20),
        "sell_amount": 10**18,
        "buy_amount": 2000 * 10**6,
        "valid_to": 2_000_000_000,
        "app_data": bytes(32),
        "fee_amount": 0,
        "kind": OrderKind.SELL,
        "partially_fillable": False,
    }
    fields.update(changes)
    return Order(**fields)  # type: ignore[arg-type]
