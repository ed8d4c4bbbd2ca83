"""``GET /api/v1/fees``: the fees the settlement contract holds for others (custody,
``intents.fee_ledger``): per recipient and token what mined settlements charged (protocol
fees owed to the node's fee recipient, partner fees owed to each partner), what was paid
out, and what is still owed; and the payout transactions."""

from __future__ import annotations

import msgspec
from aiohttp import web

from intents.http.keys import BOOK
from intents.http.views import json_response
from intents.wire import U256, HexAddress, encode, to_hex

ROUTES = web.RouteTableDef()


class FeeBalanceView(msgspec.Struct, frozen=True, rename="camel", kw_only=True):
    recipient: HexAddress
    token: HexAddress
    accrued: U256
    """Charged by mined settlements whose fills are recorded (base units of ``token``)."""
    paid: U256
    owed: U256


class FeePayoutView(msgspec.Struct, frozen=True, rename="camel", kw_only=True):
    tx_hash: str
    recipient: HexAddress
    token: HexAddress
    amount: U256


class FeesView(msgspec.Struct, frozen=True, kw_only=True):
    balances: list[FeeBalanceView]
    payouts: list[FeePayoutView]


@ROUTES.get("/api/v1/fees")
async def get_fees(request: web.Request) -> web.Response:
    book = request.app[BOOK]
    balances = [
        FeeBalanceView(
            recipient=b.recipient,
            token=b.token,
            accrued=U256(b.accrued),
            paid=U256(b.paid),
            owed=U256(b.owed),
        )
        for b in await book.fee_balances()
    ]
    payouts = [
        FeePayoutView(
            tx_hash=to_hex(p.tx_hash), recipient=p.recipient, token=p.token, amount=U256(p.amount)
        )
        for p in await book.fee_payouts()
    ]
    return json_response(encode(FeesView(balances=balances, payouts=payouts)))
