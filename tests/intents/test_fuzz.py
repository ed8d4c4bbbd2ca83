"""Whatever arrives, intake answers with an ``OrderError`` (a 4xx), never a crash."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intents.chain import FakeChain
from intents.eip712 import domain_separator
from intents.errors import DecodeError, OrderError
from intents.order import Order, OrderClass, SigningScheme
from intents.validation import OrderValidator, ValidationPolicy, check_policy
from intents.wire import OrderCreation, decode_order_creation, encode
from tests.intents.strategies import SETTLEMENT, addresses, orders

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
FIELDS = [
    "sellToken", "buyToken", "receiver", "sellAmount", "buyAmount", "validTo", "appData",
    "appDataHash", "feeAmount", "kind", "partiallyFillable", "sellTokenBalance",
    "buyTokenBalance", "signingScheme", "signature", "from", "quoteId", "fullBalanceCheck",
]  # fmt: skip


@given(st.binary(max_size=300))
def test_arbitrary_bytes_decode_or_fail_cleanly(body: bytes) -> None:
    try:
        decode_order_creation(body)
    except DecodeError as exc:
        assert exc.http_status in (400, 422)


@settings(max_examples=50)
@given(st.dictionaries(st.sampled_from(FIELDS), json_values))
def test_arbitrary_documents_decode_or_fail_cleanly(document: dict[str, Any]) -> None:
    try:
        decode_order_creation(json.dumps(document).encode())
    except DecodeError as exc:
        assert exc.http_status == 422


@given(orders, st.sampled_from(SigningScheme), st.integers(min_value=0, max_value=2**33))
def test_policy_never_crashes(order: Order, scheme: SigningScheme, now: int) -> None:
    try:
        assert check_policy(order, scheme, now, ValidationPolicy()) in set(OrderClass)
    except OrderError as exc:
        assert exc.http_status == 400


class _NoLimitOrders:
    async def count_open_limit_orders(self, owner: str, now: float) -> int:
        return 0


@settings(max_examples=60)
@given(
    orders,
    st.sampled_from(SigningScheme),
    st.binary(max_size=80),
    st.none() | addresses,
    st.sampled_from(["{}", '{"a":[1,2]}', "0x" + "00" * 32, "[]", "{"]),
)
async def test_validator_rejects_garbage_with_order_errors(
    order: Order, scheme: SigningScheme, signature: bytes, from_: str | None, app_data: str
) -> None:
    creation = OrderCreation.from_order(
        order,
        signing_scheme=scheme,
        signature=signature,
        from_=from_,  # type: ignore[arg-type]
    )
    validator = OrderValidator(
        domain_separator=domain_separator(1, SETTLEMENT),
        chain=FakeChain(),
        book=_NoLimitOrders(),
        clock=lambda: 1_900_000_000.0,
    )
    creation = msgspec.structs.replace(creation, app_data=app_data, app_data_hash=None)
    # nothing on the (empty) fake chain can make these pass: no funds, presignature or 1271
    with pytest.raises(OrderError) as excinfo:
        await validator.validate(decode_order_creation(encode(creation)))
    assert excinfo.value.http_status == 400
