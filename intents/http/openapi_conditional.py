"""The OpenAPI paths of ``/api/v1/conditional_orders`` (TWAP, stop-loss, good-after-time)
with the trust model they rest on; ``intents.http.openapi`` merges them into the document."""

from __future__ import annotations

from typing import Any

from intents.conditional_wire import (
    ConditionalOrderCancellation,
    ConditionalOrderCreation,
    ConditionalOrderResponse,
)

SCHEMA_TYPES: tuple[Any, ...] = (
    ConditionalOrderCreation,
    ConditionalOrderCancellation,
    ConditionalOrderResponse,
)
_REF = "#/components/schemas/{name}"
_ERROR = {"$ref": _REF.format(name="ErrorBody")}

TRUST_MODEL = (
    "Trust model. A GPv2 order has no valid-from time: once signed it can be settled at any "
    "time before its validTo. An EOA owner (signingScheme eip712 or ethsign) therefore signs "
    "every part up front (partSignatures: one full GPv2 order signature per part, checked at "
    "creation) and the node withholds each part until it is due: the owner trusts the node "
    "not to release a part early. A smart-contract wallet (eip1271, `from` = the wallet) "
    "signs no part up front: when a part is due the node builds its order and releases it "
    "only if the wallet's isValidSignature(orderDigest, partSignatures[i] or empty bytes) "
    "accepts it then (and the settlement asks the wallet again when it trades), so a wallet "
    "that accepts a part only once it is due cannot have it released early, by "
    "construction. Either way the node never releases a part before its notBefore time, "
    "on its clock: the later of its wall clock and the chain's latest block timestamp."
)
_KINDS = (
    "Kinds (params.kind), with ComposableCoW's parameters: twap (sellToken, buyToken, "
    "receiver, partSellAmount, minPartLimit, t0, n, t, span, appData: part i sells "
    "partSellAmount for at least minPartLimit, due at t0 + i·t, valid until t0 + (i+1)·t - 1, "
    "or t0 + i·t + span - 1 when span > 0; t0 must be given); stopLoss (one order, due once "
    "sellOracle·10^18/buyOracle, both Chainlink-style latestRoundData answers scaled to 18 "
    "decimals and at most maxTimeSinceLastOracleUpdate old, is at most strike; both oracles "
    "null: the node's auction prices, native wei per 10^18 base units of each token); "
    "goodAfterTime (one order, due at startTime). The owner signs the EIP-712 message "
    "ConditionalOrder(string kind, bytes staticInput, bytes32 salt) of the GPv2 domain, "
    "staticInput being the ABI encoding of the parameters in the order listed; the id is "
    "that digest followed by the owner (52 bytes). Each part due is checked as POST "
    "/api/v1/orders checks an order (signature, balance, allowance, validTo, limit-order "
    "cap); a refusal keeps it withheld, its reason shown on the part, and it is retried "
    "until its validTo passes (then it is expired)."
)
_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^0x[0-9a-fA-F]{104}$"},
    "description": "52-byte conditional order id: digest ‖ owner",
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def conditional_paths() -> dict[str, Any]:
    view = {"$ref": _REF.format(name="ConditionalOrderResponse")}
    return {
        "/api/v1/conditional_orders": {
            "post": {
                "summary": "Create a conditional order (TWAP, stop-loss, good-after-time)",
                "description": _KINDS + " " + TRUST_MODEL,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": _REF.format(name="ConditionalOrderCreation")}
                        }
                    },
                },
                "responses": {
                    "201": _json({"type": "string"}, "stored durably: the id"),
                    "400": _json(
                        _ERROR,
                        "InvalidConditionalOrder (a parameter breaks a rule, the sentence "
                        "says which), InvalidSignature, WrongOwner, InvalidEip1271Signature, "
                        "DuplicatedOrder, or an order rule a part breaks (InsufficientValidTo, "
                        "SameBuyAndSellToken, ...)",
                    ),
                    "422": _json(_ERROR, "a field has the wrong type (the description names it)"),
                },
            }
        },
        "/api/v1/conditional_orders/{id}": {
            "get": {
                "summary": "A conditional order: its parts (each released one with its order "
                "UID and status in the book), status (active, finished, cancelled) and history",
                "parameters": [_ID],
                "responses": {
                    "200": _json(view, "the conditional order"),
                    "404": _json(_ERROR, "ConditionalOrderNotFound"),
                },
            },
            "delete": {
                "summary": "Cancel: no pending part is released any more",
                "description": "Signed by the owner: EIP-712 ConditionalOrderCancellation(bytes "
                "id) of the GPv2 domain (eip712, ethsign; eip1271: the wallet's "
                "isValidSignature). Parts already released are orders of their own (cancel "
                "them with DELETE /api/v1/orders).",
                "parameters": [_ID],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": _REF.format(name="ConditionalOrderCancellation")}
                        }
                    },
                },
                "responses": {
                    "200": _json({"const": "Cancelled"}, "cancelled"),
                    "400": _json(
                        _ERROR,
                        "AlreadyCancelled, OrderFullyExecuted (no part left pending), "
                        "InvalidSignature, InvalidEip1271Signature",
                    ),
                    "401": _json(_ERROR, "WrongOwner: signed by someone else"),
                    "404": _json(_ERROR, "ConditionalOrderNotFound"),
                },
            },
        },
        "/api/v1/account/{owner}/conditional_orders": {
            "get": {
                "summary": "The owner's conditional orders, newest first",
                "parameters": [
                    {"name": "owner", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                ],
                "responses": {
                    "200": _json({"type": "array", "items": view}, "the conditional orders"),
                    "400": _json(_ERROR, "InvalidField: a bad owner, offset or limit"),
                },
            }
        },
    }
