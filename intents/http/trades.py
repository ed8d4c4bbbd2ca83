"""Trades and what follows from them: ``GET /api/v1/trades`` (all), ``GET /api/v2/trades``
(paged), ``GET /api/v1/transactions/{txHash}/orders`` and
``GET /api/v1/users/{address}/total_surplus``.

A trade is one recorded ``Trade`` event of the settlement contract, with the hash of the
settlement transaction that emitted it (``txHash``), newest first. Exactly one of ``owner``
and ``orderUid`` selects them, else 400 ``InvalidTradeFilter``; a v2 ``limit`` outside
[1, 1000] is 400 ``InvalidLimit`` (CoW's answers).
"""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from intents.errors import ErrorCode, OrderError
from intents.fee_ledger import ExecutedFee
from intents.http.keys import BOOK
from intents.http.views import address_param, hash_param, json_response, order_views, query_int
from intents.order import OrderKind, StoredOrder
from intents.records import TradeRecord
from intents.wire import U256, encode, parse_uid, to_hex

ROUTES = web.RouteTableDef()
_policy_decoder = msgspec.json.Decoder()
MAX_TRADES_PAGE = 1000
PRICE_BASE = 10**18


class ExecutedProtocolFee(msgspec.Struct, frozen=True, kw_only=True):
    """CoW's ``ExecutedProtocolFee``: the policy (CoW's ``FeePolicy``: ``{"surplus":
    {"factor", "maxVolumeFactor"}}``, ``{"volume": {"factor"}}`` or ``{"priceImprovement":
    {..., "quote"}}``), the fee it took and the token it took it in."""

    policy: dict[str, Any]
    amount: U256
    token: str


class Trade(msgspec.Struct, frozen=True, rename="camel", kw_only=True):
    """CoW's ``Trade``."""

    block_number: int
    log_index: int
    order_uid: str
    owner: str
    sell_token: str
    buy_token: str
    sell_amount: U256  # including the signed fee
    sell_amount_before_fees: U256
    buy_amount: U256
    tx_hash: str | None
    executed_protocol_fees: list[ExecutedProtocolFee] = msgspec.field(default_factory=list)
    """The protocol and partner fees the node charged this trade, in the order applied:
    ``{"policy": FeePolicy, "amount", "token"}`` (CoW's ``ExecutedProtocolFee``)."""

    @classmethod
    def of(cls, t: TradeRecord, fees: list[ExecutedFee] | None = None) -> Trade:
        return cls(
            block_number=t.block_number,
            log_index=t.log_index,
            order_uid=to_hex(t.uid),
            owner=t.owner,
            sell_token=t.sell_token,
            buy_token=t.buy_token,
            sell_amount=U256(t.executed_sell + t.executed_fee),
            sell_amount_before_fees=U256(t.executed_sell),
            buy_amount=U256(t.executed_buy),
            tx_hash=to_hex(t.tx_hash),
            executed_protocol_fees=[
                ExecutedProtocolFee(
                    policy=_policy_decoder.decode(f.policy), amount=U256(f.amount), token=f.token
                )
                for f in fees or ()
                if f.policy
            ],
        )


class TotalSurplus(msgspec.Struct, frozen=True, rename="camel"):
    total_surplus: str


async def _trades(request: web.Request, offset: int, limit: int | None) -> web.Response:
    owner, uid = request.query.get("owner"), request.query.get("orderUid")
    if (owner is None) == (uid is None):
        raise OrderError(
            ErrorCode.INVALID_TRADE_FILTER, "Must specify exactly one of owner or orderUid."
        )
    book = request.app[BOOK]
    if uid is not None:
        found = await book.trades(uid=parse_uid(uid), offset=offset, limit=limit)
    else:
        assert owner is not None
        found = await book.trades(owner=address_param(owner, "owner"), offset=offset, limit=limit)
    fees = await book.executed_fees(list({bytes(t.uid) for t in found}))
    return json_response(encode([Trade.of(t, fees.get((t.tx_hash, bytes(t.uid)))) for t in found]))


@ROUTES.get("/api/v1/trades")
async def get_trades(request: web.Request) -> web.Response:
    """Every trade of one order or owner (deprecated by CoW for v2, still called by
    cow-sdk before 6)."""
    return await _trades(request, 0, None)


@ROUTES.get("/api/v2/trades")
async def get_trades_v2(request: web.Request) -> web.Response:
    offset = query_int(request, "offset", 0, 0, 2**63 - 1)
    limit = query_int(request, "limit", 10, 1, MAX_TRADES_PAGE, code=ErrorCode.INVALID_LIMIT)
    return await _trades(request, offset, limit)


@ROUTES.get("/api/v1/transactions/{txHash}/orders")
async def get_transaction_orders(request: web.Request) -> web.Response:
    """The orders a settlement transaction traded (none: an empty list)."""
    tx_hash = hash_param(request.match_info["txHash"], "txHash")
    orders = await request.app[BOOK].orders_of_transaction(tx_hash)
    return json_response(encode(await order_views(request, orders)))


def surplus(order: StoredOrder, trade: TradeRecord) -> int:
    """A trade's surplus over the order's limit price, in the surplus token (buy token of a
    sell order, sell token of a buy order), as CoW's ``total_surplus`` query counts it (the
    limit amount in integers: rounded down for a sell order, up for a buy order's)."""
    o = order.order
    if o.kind is OrderKind.SELL:
        return trade.executed_buy - trade.executed_sell * o.buy_amount // o.sell_amount
    return -(-trade.executed_buy * o.sell_amount // o.buy_amount) - trade.executed_sell


@ROUTES.get("/api/v1/users/{address}/total_surplus")
async def get_total_surplus(request: web.Request) -> web.Response:
    """The surplus of every trade of the user's orders, in native wei: each trade's surplus
    at the reference price of its auction (the competition that settled it), rounded down;
    a trade whose competition or price is not recorded counts 0, as in CoW's query."""
    owner = address_param(request.match_info["address"], "address")
    book = request.app[BOOK]
    total = 0
    orders: dict[bytes, StoredOrder | None] = {}
    for trade in await book.trades(owner=owner):
        if trade.uid not in orders:
            orders[trade.uid] = await book.get(trade.uid)
        order = orders[trade.uid]
        record = await book.competition(tx_hash=trade.tx_hash)
        if order is None or record is None:
            continue
        token = trade.buy_token if order.order.kind is OrderKind.SELL else trade.sell_token
        price = record.prices.get(token)
        if price:
            total += surplus(order, trade) * price // PRICE_BASE
    return json_response(encode(TotalSurplus(str(total))))
