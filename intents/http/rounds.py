"""``GET /api/v1/rounds`` and ``/api/v1/rounds/{auctionId}``: what the auctioneer did in its
latest auctions, beyond what CoW's ``solver_competition`` tells.

CoW's endpoints give each solution's score, ranking and winner flag. A round here adds
what an explorer needs to show *why*: every solution received (those the checks rejected
too, with the error code and sentence), its outcome as one word and one sentence (won
and settled, outbid on a pair, batched below a pair's reference score, dropped because it
would revert after an earlier winner, ...), its declared gas and, once mined, the
transaction, block and gas used, its trades, and its route as legs (pool, tokens,
amounts: the picture of the split), with the symbol and decimals of each token.

This package runs no auction: the auctioneer's process records each round in the order
book when it ends (``solver.round_log``), as a ``Round`` document; these endpoints serve
them as recorded. An auction without a recorded round is 404 ``NotFound``.
"""

from __future__ import annotations

import enum

import msgspec
from aiohttp import web

from intents.errors import ErrorCode, OrderError
from intents.http.keys import BOOK
from intents.http.views import invalid_query, json_response, query_int
from intents.wire import U256, parse_uid

ROUTES = web.RouteTableDef()
MAX_ROUNDS = 100
"""Largest ``limit``."""


class Outcome(enum.StrEnum):
    """What became of one solution."""

    SETTLED = "settled"
    """Won; its settlement was mined and its fills recorded."""
    REVERTED = "reverted"
    """Won; mined, but reverted."""
    CANCELLED = "cancelled"
    """Won; not mined by its deadline block, cancelled."""
    DROPPED = "dropped"
    """Won; not sent: after the earlier winners' settlements it would revert."""
    OUTBID = "outbid"
    """Fair, but a winner scored more on one of its pairs (or swaps one of its pools)."""
    UNFAIR = "unfair"
    """Batched, and one of its pairs scores below that pair's best single-pair bid
    (CoW's CIP-67 fairness)."""
    UNSCORED = "unscored"
    """Settles no order that counts for the score."""
    REJECTED = "rejected"
    """Failed a check (limit price, uniform prices, simulation, ...); ``code`` says which."""


class RoundToken(msgspec.Struct, frozen=True):
    symbol: str | None
    decimals: int | None


class RoundTrade(msgspec.Struct, frozen=True, rename="camel"):
    """One order's fill in a solution: what the user pays (sell token, fees included) and
    receives, in base units."""

    uid: str
    sell_token: str
    buy_token: str
    sell_amount: U256
    buy_amount: U256


class RoundLeg(msgspec.Struct, frozen=True, rename="camel", kw_only=True):
    """One swap of a solution's route, in execution order."""

    pool: str
    """The liquidity id, as in the auction."""
    address: str | None
    """The pool's contract, where known."""
    kind: str | None
    """``uniswapV2``, ``uniswapV3``, ..., where known."""
    token_in: str
    token_out: str
    amount_in: U256
    amount_out: U256
    internalized: bool
    """Paid from the settlement's buffers instead of swapped."""


class RoundSolution(msgspec.Struct, frozen=True, rename="camel", kw_only=True):
    solver: str
    solution_id: int
    ranking: int | None
    """As in CoW's ``solver_competition`` (1 the best); ``None`` for a rejected solution."""
    score: U256 | None
    """Native-token wei (CIP-38); ``None`` when not scored."""
    outcome: Outcome
    reason: str
    """Why the outcome, as a sentence."""
    code: str | None
    """The rejection's error code."""
    gas: int
    """Gas the solution declares."""
    tx_hash: str | None
    block_number: int | None
    gas_used: int | None
    trades: list[RoundTrade]
    legs: list[RoundLeg]


class Round(msgspec.Struct, frozen=True, rename="camel", kw_only=True):
    """One auction round."""

    auction_id: int
    deadline: str | None
    """The solvers' deadline (ISO 8601), when the round built an auction."""
    orders: list[str]
    """The UIDs auctioned."""
    unfunded: list[str]
    """Open orders left out: their owners could not pay."""
    error: str | None
    """Why the round did not run to its end."""
    tokens: dict[str, RoundToken]
    solutions: list[RoundSolution]


def _array(documents: list[bytes]) -> bytes:
    return b"[" + b",".join(documents) + b"]"


@ROUTES.get("/api/v1/rounds")
async def list_rounds(request: web.Request) -> web.Response:
    """The latest rounds, newest first (``limit``, default 10; ``order``: only those that
    auctioned that order)."""
    raw = request.query.get("order")
    uid = parse_uid(raw) if raw is not None else None
    limit = query_int(request, "limit", 10, 1, MAX_ROUNDS)
    return json_response(_array(await request.app[BOOK].rounds(limit, uid=uid)))


@ROUTES.get("/api/v1/rounds/{auctionId}")
async def get_round(request: web.Request) -> web.Response:
    raw = request.match_info["auctionId"]
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise invalid_query("auctionId", f"Expected an auction id, got {raw[:40]!r}", 400)
    found = await request.app[BOOK].rounds(1, auction_id=int(raw))
    if not found:
        raise OrderError(ErrorCode.NOT_FOUND, f"no round of auction {int(raw)} is recorded")
    return json_response(found[0])
