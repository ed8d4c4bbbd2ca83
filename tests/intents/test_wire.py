"""The JSON wire models: decoding errors (400 vs 422 with the JSON path), bounds, round trips."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given

from intents.errors import DecodeError, ErrorCode, OrderError
from intents.order import (
    Order,
    OrderClass,
    OrderStatus,
    SigningScheme,
    StoredOrder,
)
from intents.types import UINT256_MAX, Address, OrderUid
from intents.wire import (
    ErrorBody,
    OrderCreation,
    OrderResponse,
    decode,
    decode_cancellations,
    decode_order_creation,
    decoder,
    encode,
    parse_uid,
)
from tests.intents.strategies import BUY, SELL, SETTLEMENT, orders, plain_order

OWNER = Address("0x" + "0a" * 20)
ORDER_RESPONSE = decoder(OrderResponse)  # what a client of the API decodes
ERROR_BODY = decoder(ErrorBody)


def _body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sellToken": "0x" + "A1" * 20,
        "buyToken": BUY,
        "receiver": None,
        "sellAmount": "1000000000000000000",
        "buyAmount": "2000000000",
        "validTo": 2_000_000_000,
        "appData": "{}",
        "feeAmount": "0",
        "kind": "sell",
        "partiallyFillable": False,
        "signingScheme": "eip712",
        "signature": "0x" + "11" * 65,
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


def _decode_error(body: bytes) -> DecodeError:
    with pytest.raises(DecodeError) as excinfo:
        decode_order_creation(body)
    return excinfo.value


def test_decodes_a_cow_order_creation() -> None:
    creation = decode_order_creation(
        json.dumps(_body(**{"from": "0x" + OWNER[2:].upper()})).encode()
    )
    assert creation.sell_amount == 10**18
    assert creation.sell_token_balance == "erc20"  # default
    assert creation.owner_claim == OWNER  # normalised to lowercase
    order = creation.to_order(bytes(32))
    assert order.sell_token == SELL  # lowercased
    assert order.receiver == "0x" + "00" * 20


def test_malformed_json_is_400() -> None:
    for body in (b"{", b"", b"not json", b'{"sellToken": }'):
        error = _decode_error(body)
        assert (error.code, error.http_status) == (ErrorCode.MALFORMED_JSON, 400)


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"sellAmount": 5}, "$.sellAmount"),
        ({"sellAmount": "-5"}, "$.sellAmount"),
        ({"sellAmount": "0x10"}, "$.sellAmount"),
        ({"sellAmount": "1.5"}, "$.sellAmount"),
        ({"buyAmount": str(UINT256_MAX + 1)}, "$.buyAmount"),
        ({"feeAmount": "9" * 79}, "$.feeAmount"),
        ({"validTo": 2**32}, "$.validTo"),
        ({"validTo": -1}, "$.validTo"),
        ({"validTo": "5"}, "$.validTo"),
        ({"kind": "sel"}, "$.kind"),
        ({"signingScheme": "eip713"}, "$.signingScheme"),
        ({"sellTokenBalance": "vault"}, "$.sellTokenBalance"),
        ({"sellToken": "0x1234"}, "$.sellToken"),
        ({"buyToken": "0x" + "zz" * 20}, "$.buyToken"),
        ({"receiver": "0x" + "11" * 21}, "$.receiver"),
        ({"from": "nope"}, "$.from"),
        ({"signature": "0x123"}, "$.signature"),
        ({"appDataHash": "0x12"}, "$.appDataHash"),
        ({"partiallyFillable": "false"}, "$.partiallyFillable"),
        ({"kind": ...}, "missing required field `kind`"),
        ({"surprise": 1}, "unknown field `surprise`"),
    ],
)
def test_bad_fields_are_422_naming_the_field(changes: dict[str, Any], path: str) -> None:
    error = _decode_error(json.dumps(_body(**changes)).encode())
    assert (error.code, error.http_status) == (ErrorCode.INVALID_FIELD, 422)
    assert path in error.description


def test_uint256_bounds() -> None:
    top = decode_order_creation(json.dumps(_body(sellAmount=str(UINT256_MAX))).encode())
    assert top.sell_amount == UINT256_MAX
    assert decode_order_creation(json.dumps(_body(sellAmount="007")).encode()).sell_amount == 7


@given(orders)
def test_creation_round_trip(order: Order) -> None:
    creation = OrderCreation.from_order(
        order, signing_scheme=SigningScheme.EIP712, signature=b"\x01" * 65, from_=OWNER
    )
    decoded = decode_order_creation(encode(creation))
    assert decoded == creation
    assert decoded.to_order(order.app_data) == order
    assert json.loads(encode(creation))["sellAmount"] == str(order.sell_amount)


def test_creation_from_order_with_full_app_data() -> None:
    creation = OrderCreation.from_order(
        plain_order(app_data=b"\x22" * 32),
        signing_scheme=SigningScheme.PRESIGN,
        signature=b"",
        app_data='{"appCode":"x"}',
    )
    assert (creation.app_data, creation.app_data_hash) == ('{"appCode":"x"}', "0x" + "22" * 32)


def _stored(**changes: Any) -> StoredOrder:
    fields: dict[str, Any] = {
        "uid": OrderUid(bytes(range(56))),
        "owner": OWNER,
        "order": plain_order(),
        "signing_scheme": SigningScheme.EIP712,
        "signature": b"\x05" * 65,
        "order_class": OrderClass.LIMIT,
        "creation_time": 1_700_000_000.25,
        "app_data_json": "{}",
    }
    fields.update(changes)
    return StoredOrder(**fields)


def test_order_response_follows_cow_order_schema() -> None:
    stored = _stored(
        status=OrderStatus.PARTIALLY_FILLED,
        executed_sell_amount=100,
        executed_fee_amount=7,
        executed_buy_amount=300,
    )
    body = json.loads(
        encode(OrderResponse.from_stored(stored, settlement_contract=SETTLEMENT, now=0))
    )
    assert body["uid"] == "0x" + bytes(range(56)).hex()
    assert body["creationDate"] == "2023-11-14T22:13:20.250000Z"
    assert body["class"] == "limit"
    assert body["status"] == "open"
    assert body["receiver"] is None
    assert body["appData"] == "0x" + "00" * 32
    assert body["fullAppData"] == "{}"
    assert body["sellAmount"] == str(10**18)
    assert body["executedSellAmount"] == "107"
    assert body["executedSellAmountBeforeFees"] == "100"
    assert body["executedBuyAmount"] == "300"
    assert body["executedFeeAmount"] == "7"
    assert body["invalidated"] is False
    assert body["settlementContract"] == SETTLEMENT
    assert body["signature"] == "0x" + "05" * 65
    # and a client decodes it back
    assert decode(ORDER_RESPONSE, json.dumps(body).encode()).executed_sell_amount == 107


@pytest.mark.parametrize(
    ("status", "now", "wire"),
    [
        (OrderStatus.OPEN, 0, "open"),
        (OrderStatus.OPEN, 2_000_000_001, "expired"),
        (OrderStatus.FILLED, 2_000_000_001, "fulfilled"),
        (OrderStatus.CANCELLED, 0, "cancelled"),
        (OrderStatus.EXPIRED, 0, "expired"),
    ],
)
def test_order_response_status(status: OrderStatus, now: float, wire: str) -> None:
    response = OrderResponse.from_stored(
        _stored(status=status), settlement_contract=SETTLEMENT, now=now
    )
    assert response.status == wire
    assert response.invalidated is (status is OrderStatus.CANCELLED)


def test_cancellations_body() -> None:
    uid = "0x" + "ab" * 56
    body = {"orderUids": [uid], "signature": "0x" + "11" * 65, "signingScheme": "ethsign"}
    assert decode_cancellations(json.dumps(body).encode()).uids == [bytes.fromhex("ab" * 56)]
    for bad in (
        {**body, "orderUids": []},
        {**body, "orderUids": [uid] * 129},
        {**body, "orderUids": ["0x12"]},
        {**body, "signingScheme": "presign"},
        {**body, "signature": "0x"},
    ):
        with pytest.raises(DecodeError) as excinfo:
            decode_cancellations(json.dumps(bad).encode())
        assert excinfo.value.http_status == 422


def test_error_body() -> None:
    error = OrderError(ErrorCode.ZERO_AMOUNT, "Buy or sell amount is zero.")
    encoded = encode(ErrorBody.of(error))
    assert json.loads(encoded) == {
        "errorType": "ZeroAmount",
        "description": "Buy or sell amount is zero.",
    }
    assert decode(ERROR_BODY, encoded) == ErrorBody.of(error)


def test_parse_uid() -> None:
    uid = bytes(range(56))
    assert parse_uid("0x" + uid.hex()) == uid
    for bad in ("0x" + uid.hex()[:-2], uid.hex() + "00", "0x" + "zz" * 56):
        with pytest.raises(DecodeError) as excinfo:
            parse_uid(bad)
        assert excinfo.value.http_status == 400


def test_encode_rejects_unknown_types() -> None:
    with pytest.raises(TypeError, match="cannot encode"):
        encode(object())
