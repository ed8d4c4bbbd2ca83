"""The OpenAPI paths of the endpoints over the book's records (trades, orders of a
transaction, total surplus, app data, solver competitions) and of version and native price;
``intents.http.openapi`` merges them into the document."""

from __future__ import annotations

from typing import Any

import msgspec

from intents.http.app_data import AppDataObject
from intents.http.competition import SolverCompetitionResponse, SolverCompetitionResponseV1
from intents.http.market import NativePriceResponse
from intents.http.trades import TotalSurplus, Trade
from intents.wire import Hex32, HexAddress, HexUid

SCHEMA_TYPES: tuple[Any, ...] = (
    Trade,
    TotalSurplus,
    AppDataObject,
    NativePriceResponse,
    SolverCompetitionResponse,
    SolverCompetitionResponseV1,
)
_REF = "#/components/schemas/{name}"
_ERROR = {"$ref": _REF.format(name="ErrorBody")}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF.format(name=name)}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ERROR, description)


def _param(name: str, where: str, schema: Any, description: str = "") -> dict[str, Any]:
    required = where == "path"
    return {"name": name, "in": where, "required": required, "schema": schema} | (
        {"description": description} if description else {}
    )


_HASH = msgspec.json.schema(Hex32)
_ADDRESS = msgspec.json.schema(HexAddress)
_TRADE_FILTER = [
    _param("owner", "query", _ADDRESS, "the trades of this owner's orders"),
    _param("orderUid", "query", msgspec.json.schema(HexUid), "the trades of this order"),
]
_TRADES = _json({"type": "array", "items": _ref("Trade")}, "the trades, newest first")
_TRADE_REFUSALS = {
    "400": _error("InvalidTradeFilter: not exactly one of owner and orderUid; InvalidLimit"),
    "422": _error("InvalidField: owner or orderUid malformed"),
}
_APP_DATA_BODY = {
    "required": True,
    "content": {"application/json": {"schema": _ref("AppDataObject")}},
}
_APP_DATA_PUT = {
    "201": _json(_HASH, "stored: the document's keccak256"),
    "200": _json(_HASH, "already stored: the document's keccak256"),
    "400": _error(
        "AppDataInvalid (not a JSON object, or over the size limit), AppDataHashMismatch "
        "(the path's hash is not the document's keccak256), AppDataMismatch; MalformedJson"
    ),
    "422": _error("InvalidField: the body is not an AppDataObject"),
}


def _competition(summary: str, shape: str, parameters: list[Any]) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "parameters": parameters,
            "responses": {
                "200": _json(_ref(shape), "the competition"),
                "400": _error("InvalidField: a malformed auction id or transaction hash"),
                "404": _error("NotFound: no competition is recorded for it"),
            },
        }
    }


def _competitions(version: str, shape: str, note: str) -> dict[str, Any]:
    base = f"/api/{version}/solver_competition"
    return {
        f"{base}/latest": _competition(f"The latest auction's competition{note}", shape, []),
        f"{base}/by_tx_hash/{{tx_hash}}": _competition(
            f"The competition of the auction a settlement transaction settled{note}",
            shape,
            [_param("tx_hash", "path", _HASH)],
        ),
        f"{base}/{{auction_id}}": _competition(
            f"One auction's competition{note}",
            shape,
            [_param("auction_id", "path", {"type": "integer", "minimum": 0})],
        ),
    }


def record_paths() -> dict[str, Any]:
    return {
        "/api/v1/trades": {
            "get": {
                "summary": "Every trade of one order or one owner (unpaged; prefer v2)",
                "deprecated": True,
                "parameters": _TRADE_FILTER,
                "responses": {"200": _TRADES, **_TRADE_REFUSALS},
            }
        },
        "/api/v2/trades": {
            "get": {
                "summary": "Trades of one order or one owner, paged",
                "description": "Each trade is one Trade event of the settlement contract; "
                "txHash is the settlement transaction that emitted it.",
                "parameters": [
                    *_TRADE_FILTER,
                    _param("offset", "query", {"type": "integer", "minimum": 0, "default": 0}),
                    _param(
                        "limit",
                        "query",
                        {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10},
                    ),
                ],
                "responses": {"200": _TRADES, **_TRADE_REFUSALS},
            }
        },
        "/api/v1/transactions/{txHash}/orders": {
            "get": {
                "summary": "The orders a settlement transaction traded",
                "parameters": [_param("txHash", "path", _HASH)],
                "responses": {
                    "200": _json({"type": "array", "items": _ref("OrderResponse")}, "orders"),
                    "400": _error("InvalidField: not a 32-byte hash"),
                },
            }
        },
        "/api/v1/users/{address}/total_surplus": {
            "get": {
                "summary": "The user's surplus over its limit prices, in native wei",
                "description": "Each trade's surplus at the reference price of the auction "
                "that settled it.",
                "parameters": [_param("address", "path", _ADDRESS)],
                "responses": {
                    "200": _json(_ref("TotalSurplus"), "the total"),
                    "422": _error("InvalidField: not an address"),
                },
            }
        },
        "/api/v1/app_data": {
            "put": {
                "summary": "Store an app-data document; answers its hash",
                "requestBody": _APP_DATA_BODY,
                "responses": _APP_DATA_PUT,
            }
        },
        "/api/v1/app_data/{app_data_hash}": {
            "get": {
                "summary": "The app-data document of a hash (uploaded, or posted with an order)",
                "parameters": [_param("app_data_hash", "path", _HASH)],
                "responses": {
                    "200": _json(_ref("AppDataObject"), "the document"),
                    "400": _error("InvalidField: not a 32-byte hash"),
                    "404": _error("NotFound: no document is stored under the hash"),
                },
            },
            "put": {
                "summary": "Store an app-data document under its hash",
                "parameters": [_param("app_data_hash", "path", _HASH)],
                "requestBody": _APP_DATA_BODY,
                "responses": _APP_DATA_PUT,
            },
        },
        "/api/v1/token/{token}/native_price": {
            "get": {
                "summary": "A token's price in native-token atoms per atom",
                "parameters": [_param("token", "path", _ADDRESS)],
                "responses": {
                    "200": _json(_ref("NativePriceResponse"), "the price"),
                    "404": _error("NoLiquidity: no route prices the token"),
                    "422": _error("InvalidField: not an address"),
                    "503": _error("NativePriceUnavailable: this node runs no market"),
                },
            }
        },
        "/api/v1/version": {
            "get": {
                "summary": "The server's name and version",
                "responses": {"200": {"description": "version", "content": {"text/plain": {}}}},
            }
        },
        **_competitions("v2", "SolverCompetitionResponse", ""),
        **_competitions("v1", "SolverCompetitionResponseV1", " (CoW's retired v1 shape)"),
    }
