"""The exception tree: machine codes, HTTP hints, builtin compatibility."""

from __future__ import annotations

import pytest

from intents.errors import (
    DecodeError,
    DuplicatedOrder,
    ErrorCode,
    OrderError,
    OrderNotFound,
    SignatureError,
)


def test_status_hints() -> None:
    assert OrderError(ErrorCode.ZERO_AMOUNT, "zero").http_status == 400
    assert DecodeError(ErrorCode.INVALID_FIELD, "bad - at `$.kind`").http_status == 422
    assert DecodeError(ErrorCode.MALFORMED_JSON, "truncated").http_status == 400
    assert OrderNotFound("no such order").http_status == 404
    assert OrderError(ErrorCode.NONCE_ALREADY_USED, "replayed").http_status == 409
    assert OrderError(ErrorCode.WEBHOOK_NOT_FOUND, "gone").http_status == 404
    assert OrderError(ErrorCode.UNSAFE_WEBHOOK_URL, "loopback").http_status == 400
    assert DuplicatedOrder().http_status == 400
    wrong = SignatureError(ErrorCode.WRONG_OWNER, "not yours", http_status=401)
    assert wrong.http_status == 401


def test_builtin_compatible() -> None:
    with pytest.raises(ValueError, match="ZeroAmount: zero"):
        raise OrderError(ErrorCode.ZERO_AMOUNT, "zero")
    with pytest.raises(LookupError):
        raise OrderNotFound("gone")
    error = DuplicatedOrder()
    assert (error.code, error.description) == (ErrorCode.DUPLICATED_ORDER, "order already exists")


def test_codes_are_cow_error_types() -> None:
    # CoW's OrderPostError enum spells these exactly so; clients switch on them
    cow = {
        "DuplicatedOrder", "MissingFrom", "WrongOwner", "InvalidEip1271Signature",
        "InsufficientBalance", "InsufficientAllowance", "InvalidSignature",
        "SellAmountOverflow", "ZeroAmount", "TooManyLimitOrders",
        "UnsupportedBuyTokenDestination", "UnsupportedSellTokenSource", "UnsupportedOrderType",
        "InsufficientValidTo", "ExcessiveValidTo", "InvalidNativeSellToken",
        "SameBuyAndSellToken", "UnsupportedToken", "InvalidAppData", "AppDataHashMismatch",
        "TooMuchGas",
    }  # fmt: skip
    # ... and its quote endpoint's PriceEstimationError these
    cow |= {"NoLiquidity", "SellAmountDoesNotCoverFee"}
    # ... and its OrderCancellationError these (crates/orderbook/src/api/cancel_order.rs)
    cow |= {"InvalidSignature", "WrongOwner", "OrderNotFound", "AlreadyCancelled"}
    cow |= {"OrderFullyExecuted", "OrderExpired", "OnChainOrder"}
    # ... and its app-data registry (put_app_data.rs), trades (get_trades_v2.rs) and
    # lookups (get_order_status.rs, the solver competition) these
    cow |= {"AppDataInvalid", "AppDataMismatch", "InvalidTradeFilter", "InvalidLimit"}
    cow |= {"NotFound"}
    ours = {code.value for code in ErrorCode}
    assert cow <= ours
    # ours alone: the body's shape; conditional orders (CoW keeps those on chain, in
    # ComposableCoW, so its orderbook has no codes for them); hooks refused at creation
    # (CoW's orderbook only logs its full-order simulation; it refuses through
    # TransferSimulationFailed)
    beyond = {"MalformedJson", "InvalidField", "PayloadTooLarge"}
    beyond |= {"InvalidConditionalOrder", "ConditionalOrderNotFound"}
    beyond |= {"HookSimulationFailed", "HooksUnsupported"}
    # webhooks (CoW has none): a signed registration's replay and expiry, the URL's safety
    beyond |= {"NonceAlreadyUsed", "SignatureExpired", "ExcessiveExpiry", "InvalidWebhookUrl"}
    beyond |= {"UnsafeWebhookUrl", "TooManyWebhooks", "WebhookNotFound"}
    assert ours - cow == beyond
