"""Why an intent (or a cancellation) is refused: one exception root with a machine code.

Codes are CoW Protocol's ``errorType`` names, so CoW clients understand our rejections. Each
error carries the HTTP status the API should answer with; the API translates an ``OrderError``
to ``{"errorType": code, "description": description}`` at the edge.
"""

from __future__ import annotations

import enum


class ErrorCode(enum.StrEnum):
    # request body (HTTP layer)
    MALFORMED_JSON = "MalformedJson"
    INVALID_FIELD = "InvalidField"
    PAYLOAD_TOO_LARGE = "PayloadTooLarge"
    # signature and ownership
    INVALID_SIGNATURE = "InvalidSignature"
    WRONG_OWNER = "WrongOwner"
    MISSING_FROM = "MissingFrom"
    INVALID_EIP1271_SIGNATURE = "InvalidEip1271Signature"
    # order content and policy
    ZERO_AMOUNT = "ZeroAmount"
    SELL_AMOUNT_OVERFLOW = "SellAmountOverflow"
    SAME_BUY_AND_SELL_TOKEN = "SameBuyAndSellToken"
    INVALID_NATIVE_SELL_TOKEN = "InvalidNativeSellToken"
    INSUFFICIENT_VALID_TO = "InsufficientValidTo"
    EXCESSIVE_VALID_TO = "ExcessiveValidTo"
    UNSUPPORTED_TOKEN = "UnsupportedToken"
    UNSUPPORTED_ORDER_TYPE = "UnsupportedOrderType"
    UNSUPPORTED_SELL_TOKEN_SOURCE = "UnsupportedSellTokenSource"
    UNSUPPORTED_BUY_TOKEN_DESTINATION = "UnsupportedBuyTokenDestination"
    INVALID_APP_DATA = "InvalidAppData"
    APP_DATA_HASH_MISMATCH = "AppDataHashMismatch"
    TOO_MUCH_GAS = "TooMuchGas"
    HOOKS_UNSUPPORTED = "HooksUnsupported"
    HOOK_SIMULATION_FAILED = "HookSimulationFailed"
    # app-data registry (``PUT /api/v1/app_data``: CoW's names differ from the order's)
    APP_DATA_INVALID = "AppDataInvalid"
    APP_DATA_MISMATCH = "AppDataMismatch"
    # chain state and order book state
    INSUFFICIENT_BALANCE = "InsufficientBalance"
    INSUFFICIENT_ALLOWANCE = "InsufficientAllowance"
    DUPLICATED_ORDER = "DuplicatedOrder"
    TOO_MANY_LIMIT_ORDERS = "TooManyLimitOrders"
    # cancellations (CoW's ``OrderCancellationError``)
    ALREADY_CANCELLED = "AlreadyCancelled"
    ORDER_FULLY_EXECUTED = "OrderFullyExecuted"
    ORDER_EXPIRED = "OrderExpired"
    ON_CHAIN_ORDER = "OnChainOrder"
    # lookups
    ORDER_NOT_FOUND = "OrderNotFound"
    NOT_FOUND = "NotFound"
    INVALID_TRADE_FILTER = "InvalidTradeFilter"
    INVALID_LIMIT = "InvalidLimit"
    # conditional orders (``/api/v1/conditional_orders``)
    INVALID_CONDITIONAL_ORDER = "InvalidConditionalOrder"
    CONDITIONAL_ORDER_NOT_FOUND = "ConditionalOrderNotFound"
    # webhooks (``/api/v1/webhooks``)
    NONCE_ALREADY_USED = "NonceAlreadyUsed"
    SIGNATURE_EXPIRED = "SignatureExpired"
    EXCESSIVE_EXPIRY = "ExcessiveExpiry"
    INVALID_WEBHOOK_URL = "InvalidWebhookUrl"
    UNSAFE_WEBHOOK_URL = "UnsafeWebhookUrl"
    TOO_MANY_WEBHOOKS = "TooManyWebhooks"
    WEBHOOK_NOT_FOUND = "WebhookNotFound"
    # quotes
    NO_LIQUIDITY = "NoLiquidity"
    SELL_AMOUNT_DOES_NOT_COVER_FEE = "SellAmountDoesNotCoverFee"


_STATUS: dict[ErrorCode, int] = {
    ErrorCode.INVALID_FIELD: 422,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.ORDER_NOT_FOUND: 404,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.CONDITIONAL_ORDER_NOT_FOUND: 404,
    ErrorCode.NONCE_ALREADY_USED: 409,
    ErrorCode.WEBHOOK_NOT_FOUND: 404,
    ErrorCode.NO_LIQUIDITY: 404,
}


class OrderError(ValueError):
    """An intent or cancellation was refused; ``code`` says why for machines,
    ``description`` for people, ``http_status`` is what the API answers."""

    def __init__(self, code: ErrorCode, description: str, *, http_status: int | None = None):
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.http_status = http_status if http_status is not None else _STATUS.get(code, 400)


class DecodeError(OrderError):
    """The request body is not valid JSON (400) or not a valid document of its type (422,
    the description names the JSON path of the offending field)."""


class SignatureError(OrderError):
    """The signature does not prove the claimed owner signed this exact order."""


class OrderNotFound(OrderError, LookupError):
    """No order with this UID is in the book."""

    def __init__(self, description: str):
        super().__init__(ErrorCode.ORDER_NOT_FOUND, description)


class DuplicatedOrder(OrderError):
    """An order with the same UID is already in the book."""

    def __init__(self, description: str = "order already exists"):
        super().__init__(ErrorCode.DUPLICATED_ORDER, description)


class TooManyLimitOrders(OrderError):
    """The owner already has ``count`` open limit orders, and at most ``limit`` are allowed."""

    def __init__(self, owner: str, count: int, limit: int):
        super().__init__(
            ErrorCode.TOO_MANY_LIMIT_ORDERS,
            f"Too many limit orders: {owner} has {count} open, the limit is {limit}",
        )
