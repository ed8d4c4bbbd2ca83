"""The OpenAPI 3.1 document of the orderbook API, generated from the wire Structs."""

from __future__ import annotations

from typing import Any

import msgspec

from intents.http import openapi_conditional, openapi_rounds, openapi_webhooks
from intents.http.events import StatusEvent
from intents.http.openapi_records import SCHEMA_TYPES, record_paths
from intents.http.ops import Health
from intents.http.quote import OrderQuoteRequest, OrderQuoteResponse
from intents.http.status import OrderStatusResponse
from intents.wire import (
    U256,
    CancellationPayload,
    ErrorBody,
    HexAddress,
    HexUid,
    OrderCancellations,
    OrderCreation,
    OrderResponse,
)

_SCHEMA_TYPES: tuple[Any, ...] = (
    OrderCreation,
    OrderResponse,
    OrderCancellations,
    CancellationPayload,
    OrderStatusResponse,
    StatusEvent,
    ErrorBody,
    Health,
    OrderQuoteRequest,
    OrderQuoteResponse,
    *SCHEMA_TYPES,
    *openapi_rounds.SCHEMA_TYPES,
    *openapi_conditional.SCHEMA_TYPES,
    *openapi_webhooks.SCHEMA_TYPES,
)
_REF = "#/components/schemas/{name}"


def _schema_hook(type_: type) -> dict[str, Any]:
    if type_ is U256:
        return {
            "type": "string",
            "pattern": "^[0-9]{1,78}$",
            "description": "uint256 amount in token base units, as a decimal string",
        }
    raise NotImplementedError(type_)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF.format(name=name)}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    meaning = {
        400: "malformed JSON, or the order breaks a rule (see errorType)",
        404: "no such order",
        413: "request body larger than the limit",
        422: "a field has the wrong type, enum value or range (the description names it)",
        408: "RequestTimeout: the request head or body did not arrive in time",
    }
    return {str(s): _json(_ref("ErrorBody"), meaning[s]) for s in statuses}


_UID = {
    "name": "uid",
    "in": "path",
    "required": True,
    "schema": msgspec.json.schema(HexUid),
    "description": "56-byte order UID: digest ‖ owner ‖ validTo",
}
_ADDRESS = msgspec.json.schema(HexAddress)
_CANCEL_ERRORS = {
    "400": _json(
        _ref("ErrorBody"),
        "InvalidSignature (malformed or unrecoverable signature), OrderFullyExecuted, "
        "AlreadyCancelled, OrderExpired, OnChainOrder (a presign or eip1271 order: cancel it "
        "on chain); MalformedJson",
    ),
    "401": _json(_ref("ErrorBody"), "WrongOwner: the signer does not own every order"),
    "404": _json(_ref("ErrorBody"), "OrderNotFound: an order is unknown; none is cancelled"),
    "413": _json(_ref("ErrorBody"), "request body larger than the limit"),
    "422": _json(_ref("ErrorBody"), "InvalidField: the body does not fit the schema"),
}
_CANCEL_ORDER = (
    " The orders are checked first (each must exist and be open or partially filled), then "
    "the signature, then the owner, as CoW's orderbook does; one refusal cancels none."
)


def _paths() -> dict[str, Any]:
    return {
        "/api/v1/orders": {
            "post": {
                "summary": "Submit a signed order",
                "description": "Validates the order (signature, amounts, validity, tokens, "
                "balance and allowance on chain) and answers 201 once it is durably stored. "
                "A presign order whose pre-signature is not set on chain yet is stored with "
                "status presignaturePending; the settlement's PreSignature(owner, orderUid, "
                "signed) events open it and send it back when revoked. Every order is linked "
                "to a quote (its quoteId in the answers): the one `quoteId` names if it is "
                "stored, unexpired and matches the order's tokens, kind and amounts, else a "
                "fresh quote of the order's amounts; `quoteId` is an int64 (InvalidField "
                "beyond). Hooks in the app data document (`metadata.hooks.pre`/`post`: "
                "target, callData, gasLimit) are simulated through the node's hooks "
                "trampoline as the settlement calls it: HookSimulationFailed if one reverts, "
                "TooMuchGas if together they ask for more than 8,000,000 gas, "
                "InvalidAppData if one is malformed, HooksUnsupported on a node without a "
                "trampoline; with a pre-hook (a permit) only the balance is checked, not the "
                "allowance.",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("OrderCreation")}},
                },
                "responses": {
                    "201": _json({"type": "string"}, "the new order's UID"),
                    **_errors(400, 413, 422),
                },
            },
            "delete": {
                "summary": "Cancel orders by a signed OrderCancellations message",
                "description": "An EIP-712 signature of `OrderCancellations(bytes[] orderUids)`"
                " by the orders' owner." + _CANCEL_ORDER,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("OrderCancellations")}},
                },
                "responses": {
                    "200": _json({"type": "string"}, "the orders are cancelled"),
                    **_CANCEL_ERRORS,
                },
            },
        },
        "/api/v1/orders/{uid}": {
            "get": {
                "summary": "One order, with its status and executed amounts",
                "description": "`failedHooks` (beyond CoW) lists the order's hooks that "
                "reverted in its recorded settlements (the batch settled regardless).",
                "parameters": [_UID],
                "responses": {
                    "200": _json(_ref("OrderResponse"), "the order"),
                    **_errors(400, 404),
                },
            },
            "delete": {
                "summary": "Cancel one order by a signed OrderCancellation message",
                "deprecated": True,
                "description": "An EIP-712 signature of `OrderCancellation(bytes orderUid)` by "
                "the order's owner (CoW's deprecated single cancellation; prefer "
                "DELETE /api/v1/orders)." + _CANCEL_ORDER,
                "parameters": [_UID],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("CancellationPayload")}},
                },
                "responses": {
                    "200": _json({"type": "string"}, "the order is cancelled"),
                    **_CANCEL_ERRORS,
                },
            },
        },
        "/api/v1/orders/{uid}/status": {
            "get": {
                "summary": "An order's competition status",
                "description": "type is one of CoW's: open, scheduled, active, solved, "
                "executing, traded (with value: the solvers of the competition that first "
                "traded it, the winner last), cancelled. An expired order that never traded "
                "is open, as CoW answers it.",
                "parameters": [_UID],
                "responses": {
                    "200": _json(_ref("OrderStatusResponse"), "the status"),
                    **_errors(400, 404),
                },
            }
        },
        "/api/v1/account/{owner}/orders": {
            "get": {
                "summary": "An owner's orders, newest first",
                "parameters": [
                    {"name": "owner", "in": "path", "required": True, "schema": _ADDRESS},
                    {
                        "name": "offset",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 0, "default": 0},
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "default": 10},
                    },
                ],
                "responses": {
                    "200": _json({"type": "array", "items": _ref("OrderResponse")}, "a page"),
                    **_errors(400, 422),
                },
            }
        },
        "/api/v1/events": {
            "get": {
                "summary": "Server-sent events of order status changes",
                "description": "Each committed status change is an event `status` whose data "
                "is a StatusEvent and whose `id` is the change's position in the status "
                "outbox (increasing, in commit order, the same on every replica); comment "
                "lines are heartbeats. Reconnect with `Last-Event-ID` (as EventSource does) "
                "to get every change after that id once, then the live ones. A client that "
                "falls behind, or resumes from an id older than the outbox keeps (about an "
                "hour) or not this book's, gets an event `lagged` and is disconnected: "
                "re-read the state.",
                "parameters": [
                    {"name": "owner", "in": "query", "required": False, "schema": _ADDRESS},
                    {
                        "name": "Last-Event-ID",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "pattern": "^[0-9]{1,19}$"},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "the event stream",
                        "content": {"text/event-stream": {"schema": _ref("StatusEvent")}},
                    },
                    **_errors(422),
                },
            }
        },
        "/api/v1/quote": {
            "post": {
                "summary": "Price a prospective order with the routing engine",
                "description": "Exactly one amount: sellAmountBeforeFee or sellAmountAfterFee "
                "(kind sell) or buyAmountAfterFee (kind buy). feeAmount is the fee the solver "
                "charges (the trade's gas) in the sell token. Every quote is stored: `id` is "
                "the quoteId an order names, offered until `expiration` (60 s). `verified` "
                "when the quoted order, owned by `from` with its funds, was auctioned alone "
                "to the node's engines and its settlement simulated on the chain (eth_call "
                "with a preSignature state override); the amounts are then the simulated "
                "ones. Refusals: ZeroAmount, SameBuyAndSellToken, UnsupportedToken, "
                "SellAmountDoesNotCoverFee (400), NoLiquidity (404).",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("OrderQuoteRequest")}},
                },
                "responses": {
                    "200": _json(_ref("OrderQuoteResponse"), "the quoted order"),
                    "404": _json(_ref("ErrorBody"), "NoLiquidity: no route fills the order"),
                    **_errors(400, 413, 422),
                },
            }
        },
        "/healthz": {
            "get": {
                "summary": "Whether the order book and the chain answer",
                "description": "Answers at once from the node's own watch of the chain: "
                "`checks.chain` says why it is unhealthy (the chain node does not answer, or "
                "its chain id, genesis block, settlement code or domain separator is not the "
                "one recorded at start).",
                "responses": {
                    "200": _json(_ref("Health"), "healthy"),
                    "503": _json(_ref("Health"), "a dependency is unreachable or mismatched"),
                },
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics (text exposition format)",
                "responses": {"200": {"description": "metrics", "content": {"text/plain": {}}}},
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "responses": {"200": {"description": "the OpenAPI document"}},
            }
        },
    }


_TOO_MANY_REQUESTS = {
    **_json(
        _ref("ErrorBody"),
        "TooManyRequests: the client is over its request rate (per client address, "
        "writes and reads apart; when the server runs with rate limits)",
    ),
    "headers": {
        "Retry-After": {
            "description": "whole seconds until the next request is accepted",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}


def _with_server_refusals(paths: dict[str, Any]) -> dict[str, Any]:
    """Every operation may also be refused by the server itself, whatever its route: a
    request too slow (408) or a client over its rate (429)."""
    for operations in paths.values():
        for operation in operations.values():
            responses = operation["responses"]
            responses.update(_errors(408))
            responses["429"] = _TOO_MANY_REQUESTS
    return paths


def openapi_document() -> dict[str, Any]:
    _, components = msgspec.json.schema_components(
        _SCHEMA_TYPES, schema_hook=_schema_hook, ref_template=_REF
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Tributary orderbook API",
            "version": "1",
            "description": "CoW Protocol compatible order intake: signed GPv2 orders "
            "(EIP-712), validation with CoW's errorType names, a durable order book. "
            "CORS: the /api endpoints answer browsers of the allowed origins (flag "
            "--cors-origins, default any: Access-Control-Allow-Origin *); a preflight "
            "(OPTIONS with Origin and Access-Control-Request-Method) is answered 204 with the "
            "allowed methods and headers, or 403 OriginNotAllowed. Conditional orders "
            "(TWAP, stop-loss, good-after-time) under /api/v1/conditional_orders: "
            + openapi_conditional.TRUST_MODEL,
        },
        "paths": _with_server_refusals(
            _paths()
            | record_paths()
            | openapi_rounds.round_paths()
            | openapi_conditional.conditional_paths()
            | openapi_webhooks.webhook_paths()
        ),
        "components": {"schemas": components},
    }
