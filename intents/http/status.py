"""``GET /api/v1/orders/{uid}/status``: CoW's ``CompetitionOrderStatus``.

``type`` stays within CoW's enum (``open``, ``scheduled``, ``active``, ``solved``,
``executing``, ``traded``, ``cancelled``), which cow-sdk decodes. A traded order (a fill is
recorded) is ``traded`` with ``value``: the solvers of the competition that first traded
it, by score ascending (the winner last), each with the amounts its solution gave the
order. An order past its ``validTo`` that never traded is ``open``: CoW has no ``expired``
here (its autopilot filters such an order out, and a filtered order answers ``open``).
"""

from __future__ import annotations

import msgspec
from aiohttp import web

from intents.http.keys import BOOK
from intents.http.views import json_response, stored_order
from intents.order import OrderStatus
from intents.records import CompetitionRecord
from intents.types import OrderUid
from intents.wire import U256, encode, to_hex

ROUTES = web.RouteTableDef()


class ExecutedAmounts(msgspec.Struct, frozen=True):
    sell: U256
    buy: U256


class SolutionInclusion(msgspec.Struct, frozen=True, rename="camel", omit_defaults=True):
    solver: str
    executed_amounts: ExecutedAmounts | None = None


class OrderStatusResponse(msgspec.Struct, frozen=True, omit_defaults=True):
    type: str
    value: list[SolutionInclusion] | None = None


def inclusions(record: CompetitionRecord | None, uid: OrderUid) -> list[SolutionInclusion]:
    """Every solution of ``record``, lowest ranked first, with what it gave order ``uid``."""
    if record is None:
        return []
    hex_uid = to_hex(uid)
    found = []
    for solution in sorted(record.solutions, key=lambda s: -s.ranking):
        amounts = next(
            (
                ExecutedAmounts(U256(o.sell_amount), U256(o.buy_amount))
                for o in solution.orders
                if o.uid == hex_uid
            ),
            None,
        )
        found.append(SolutionInclusion(solution.solver_address, amounts))
    return found


@ROUTES.get("/api/v1/orders/{uid}/status")
async def get_order_status(request: web.Request) -> web.Response:
    stored, book = await stored_order(request), request.app[BOOK]
    uid = stored.uid
    trades = await book.trades(uid=uid)
    if trades:  # newest first: the competition of the first one, for a stable answer
        record = await book.competition(tx_hash=trades[-1].tx_hash)
        return json_response(encode(OrderStatusResponse("traded", inclusions(record, uid))))
    kind = "cancelled" if stored.status is OrderStatus.CANCELLED else "open"
    return json_response(encode(OrderStatusResponse(kind)))
