"""The OpenAPI paths of ``/api/v1/rounds`` (the auctioneer's rounds: routes and why
solutions lost) and of the explorer pages built on the public endpoints;
``intents.http.openapi`` merges them into the document."""

from __future__ import annotations

from typing import Any

from intents.http.fees import FeesView
from intents.http.rounds import MAX_ROUNDS, Round

SCHEMA_TYPES: tuple[Any, ...] = (Round, FeesView)
_REF = "#/components/schemas/{name}"


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ROUND = {"$ref": _REF.format(name="Round")}
_ERROR = {"$ref": _REF.format(name="ErrorBody")}
_DESCRIPTION = (
    "Beyond CoW's solver_competition (same auctionId, same ranking): every solution received, "
    "those the checks rejected too (code and sentence), each one's outcome (settled, "
    "reverted, cancelled, dropped, outbid, unfair, unscored, rejected) with the reason as a "
    "sentence, its declared gas and, once mined, txHash, blockNumber and gasUsed, its trades "
    "and its route as legs (pool, address, kind, tokens, amounts in base units), and the "
    "symbol and decimals of every token, as the auctioneer recorded it in the order book "
    "when the round ended (rounds without orders are not recorded)."
)


def _html(summary: str, parameters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "description": "An HTML page of the explorer; its script reads the public JSON "
            "endpoints (orders, trades, solver_competition, events, rounds).",
            **({"parameters": parameters} if parameters else {}),
            "responses": {"200": {"description": "the page", "content": {"text/html": {}}}},
        }
    }


def round_paths() -> dict[str, Any]:
    return {
        "/api/v1/rounds": {
            "get": {
                "summary": "The auctioneer's latest rounds, newest first",
                "description": _DESCRIPTION,
                "parameters": [
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": MAX_ROUNDS,
                            "default": 10,
                        },
                    },
                    {
                        "name": "order",
                        "in": "query",
                        "description": "only the rounds that auctioned this order UID",
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {
                    "200": _json({"type": "array", "items": _ROUND}, "the rounds"),
                    "400": _json(_ERROR, "InvalidField: limit or order malformed"),
                },
            }
        },
        "/api/v1/rounds/{auctionId}": {
            "get": {
                "summary": "One round of the auctioneer",
                "description": _DESCRIPTION,
                "parameters": [
                    {
                        "name": "auctionId",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 0},
                    }
                ],
                "responses": {
                    "200": _json(_ROUND, "the round"),
                    "400": _json(_ERROR, "InvalidField: not a non-negative integer"),
                    "404": _json(_ERROR, "NotFound: no round of that auction is recorded"),
                },
            }
        },
        "/api/v1/fees": {
            "get": {
                "summary": "Fees held in the settlement contract: accrued, paid, owed",
                "description": "Per recipient and token: the protocol fees (owed to the node's "
                "fee recipient) and partner fees (appData metadata.partnerFee, owed to each "
                "partner) that mined settlements left in the settlement contract, counted once "
                "the order's fills are recorded; what payout settlements (`tributary fees "
                "sweep`) moved out, and what is still owed. Amounts in base units.",
                "responses": {
                    "200": _json({"$ref": _REF.format(name="FeesView")}, "the fee ledger")
                },
            }
        },
        "/explorer": _html("Explorer: the latest auctions and settlements"),
        "/explorer/auctions/{auctionId}": _html(
            "Explorer: an auction's bids per solver, scores, winners, why the others lost",
            [{"name": "auctionId", "in": "path", "required": True, "schema": {"type": "integer"}}],
        ),
        "/explorer/orders/{uid}": _html(
            "Explorer: an order's history and its route as a picture",
            [{"name": "uid", "in": "path", "required": True, "schema": {"type": "string"}}],
        ),
        "/explorer/search": _html(
            "Explorer: go to an auction (an id) or an order (a UID); 303 to its page",
            [{"name": "q", "in": "query", "required": True, "schema": {"type": "string"}}],
        ),
        "/explorer/static/{name}": {
            "get": {
                "summary": "The explorer's script (explorer.js) and style sheet (explorer.css)",
                "parameters": [
                    {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {"200": {"description": "the file"}, "404": {"description": "none"}},
            }
        },
    }
