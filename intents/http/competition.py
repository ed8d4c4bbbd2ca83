"""Solver competitions: ``GET /api/v2/solver_competition/{auction_id}``, ``/by_tx_hash/{tx}``
and ``/latest`` (CoW's current ``SolverCompetitionResponse``), and the same three under
``/api/v1`` in the shape CoW served before v2 (``solver``, ``score`` and
``competitionSimulationBlock``; cow-sdk before 6 calls these). CoW's current source serves
only v2; v1 is kept here for the older SDK.

The auctioneer records each auction's competition in the order book when its round ends
(``intents.records.CompetitionRecord``). Unknown auction or transaction: 404 ``NotFound``;
an auction id that is not a non-negative integer: 400 ``InvalidField``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from aiohttp import web

from intents.errors import ErrorCode, OrderError
from intents.http.keys import BOOK
from intents.http.views import hash_param, invalid_query, json_response
from intents.records import CompetitionRecord, SolutionRecord
from intents.wire import U256, encode

ROUTES = web.RouteTableDef()
MAX_AUCTION_ID = 2**63 - 1


class CompetitionAuction(msgspec.Struct, frozen=True):
    orders: list[str]
    prices: dict[str, U256]


class CompetitionOrder(msgspec.Struct, frozen=True, rename="camel"):
    id: str
    sell_amount: U256
    buy_amount: U256


class _Settlement(msgspec.Struct, frozen=True, rename="camel", kw_only=True):
    """What both versions say of a solution."""

    solver_address: str
    score: U256
    ranking: int
    clearing_prices: dict[str, U256]
    orders: list[CompetitionOrder]
    is_winner: bool
    filtered_out: bool


class SolverSettlement(_Settlement, frozen=True, kw_only=True):
    tx_hash: str | None
    reference_score: U256 | None


class SolverSettlementV1(_Settlement, frozen=True, kw_only=True):
    solver: str


class SolverCompetitionResponse(msgspec.Struct, frozen=True, rename="camel", kw_only=True):
    auction_id: int
    auction_start_block: int
    auction_deadline_block: int
    transaction_hashes: list[str]
    reference_scores: dict[str, U256]
    auction: CompetitionAuction
    solutions: list[SolverSettlement]


class SolverCompetitionResponseV1(msgspec.Struct, frozen=True, rename="camel", kw_only=True):
    auction_id: int
    transaction_hashes: list[str]
    auction_start_block: int
    competition_simulation_block: int
    auction: CompetitionAuction
    solutions: list[SolverSettlementV1]


def _prices(prices: dict[str, int]) -> dict[str, U256]:
    return {token: U256(p) for token, p in prices.items()}


def _auction(r: CompetitionRecord) -> CompetitionAuction:
    return CompetitionAuction(r.orders, _prices(r.prices))


def _settlement(s: SolutionRecord) -> dict[str, Any]:
    """The fields of ``_Settlement`` for ``s``."""
    return {
        "solver_address": s.solver_address,
        "score": U256(s.score),
        "ranking": s.ranking,
        "clearing_prices": _prices(s.clearing_prices),
        "orders": [
            CompetitionOrder(o.uid, U256(o.sell_amount), U256(o.buy_amount)) for o in s.orders
        ],
        "is_winner": s.is_winner,
        "filtered_out": s.filtered_out,
    }


def v2(r: CompetitionRecord) -> SolverCompetitionResponse:
    return SolverCompetitionResponse(
        auction_id=r.auction_id,
        auction_start_block=r.auction_start_block,
        auction_deadline_block=r.auction_deadline_block,
        transaction_hashes=r.transaction_hashes,
        reference_scores=_prices(r.reference_scores),
        auction=_auction(r),
        solutions=[
            SolverSettlement(
                **_settlement(s),
                tx_hash=s.tx_hash,
                reference_score=None if s.reference_score is None else U256(s.reference_score),
            )
            for s in r.solutions
        ],
    )


def v1(r: CompetitionRecord) -> SolverCompetitionResponseV1:
    return SolverCompetitionResponseV1(
        auction_id=r.auction_id,
        transaction_hashes=r.transaction_hashes,
        auction_start_block=r.auction_start_block,
        competition_simulation_block=r.auction_start_block,
        auction=_auction(r),
        solutions=[SolverSettlementV1(**_settlement(s), solver=s.solver) for s in r.solutions],
    )


def _found(record: CompetitionRecord | None, what: str) -> CompetitionRecord:
    if record is None:
        raise OrderError(ErrorCode.NOT_FOUND, f"no competition information for {what}")
    return record


async def _by_id(request: web.Request) -> CompetitionRecord:
    raw = request.match_info["auction_id"]
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 20):
        raise invalid_query("auction_id", f"Expected a non-negative integer, got {raw[:40]!r}", 400)
    auction_id = int(raw)
    record = None
    if auction_id <= MAX_AUCTION_ID:  # beyond: valid, but no auction has such an id (404)
        record = await request.app[BOOK].competition(auction_id=auction_id)
    return _found(record, f"auction {auction_id}")


async def _by_tx(request: web.Request) -> CompetitionRecord:
    raw = request.match_info["tx_hash"]
    record = await request.app[BOOK].competition(tx_hash=hash_param(raw, "tx_hash"))
    return _found(record, f"transaction {raw}")


async def _latest(request: web.Request) -> CompetitionRecord:
    return _found(await request.app[BOOK].competition(), "any auction yet")


Loader = Callable[[web.Request], Awaitable[CompetitionRecord]]


def _route(path: str, load: Loader, shape: Callable[[CompetitionRecord], object]) -> None:
    async def handler(request: web.Request) -> web.Response:
        return json_response(encode(shape(await load(request))))

    ROUTES.get(path)(handler)


for _version, _shape in (("v2", v2), ("v1", v1)):
    # the fixed paths before the parameterised one
    _route(f"/api/{_version}/solver_competition/latest", _latest, _shape)
    _route(f"/api/{_version}/solver_competition/by_tx_hash/{{tx_hash}}", _by_tx, _shape)
    _route(f"/api/{_version}/solver_competition/{{auction_id}}", _by_id, _shape)
