"""Issue 15's fee acceptance, end to end on the devnet: the node charges a 50% surplus fee
capped at 1% of volume (``--fee-policy surplus:0.5:0.01``) and the order's app data a 25 bps
partner fee (``metadata.partnerFee``). The solver is a stub external engine that knows
nothing of fees: it routes the order through the WETH pair at prices it reports. The node
sends the policies in the auction, applies them to the stub's solution, settles it, scores
it per CIP-38, and later pays the fees out of the settlement contract.

Every expected number is computed here from CoW's formulas (the driver's ``fee.rs``, its
scoring, the settlement contract's rounding), from the stub's own prices, not by the code
under test: the balances must match to the wei, and the payouts must move exactly the
amounts the ledger accounted."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from aiohttp import web

from intents.keccak import keccak256
from intents.order import OrderStatus
from intents.types import Address, OrderUid
from intents.wire import parse_uid
from solver import dto
from solver.demo import limit_order, wallet_of
from solver.fee_policies import FeeConfig
from solver.network import NetworkSettings
from tests.e2e.helpers import (
    E18,
    Market,
    Node,
    devnet_market,
    running_node,
    serving,
    token_balances,
)
from tests.solver.test_protocol_fee import ceil_div, f64

PROTOCOL = Address("0x" + "fe" * 20)
PARTNER = Address("0x" + "ab" * 20)
SELL = 100 * E18  # TKA; 1 TKA = 0.001 WETH
LIMIT = 9 * 10**16  # WETH: 10% under the pool's price, so the 1% volume cap binds


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Market]:
    with devnet_market(tmp_path_factory) as market:
        yield market


class Stub:
    """A solver engine that fills the first order through its WETH pair, fee 0, at uniform
    prices ``p[TKA] = out``, ``p[WETH] = sold`` (the user gets exactly the pair's output)."""

    def __init__(self) -> None:
        self.auctions: list[Any] = []
        self.solved: tuple[int, int] | None = None  # (sold, out)

    async def solve(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.auctions.append(json.loads(body))
        auction = dto.decode_auction(body)
        if not auction.orders or self.solved is not None:
            return web.Response(body=dto.encode_solutions([]), content_type="application/json")
        order = auction.orders[0]
        pool = next(
            p
            for p in auction.liquidity
            if isinstance(p, dto.ConstantProductPool)
            and set(p.tokens) == {order.sell_token, order.buy_token}
        )
        assert str(pool.fee) == "0.003"
        r_in, r_out = (int(pool.tokens[t].balance) for t in (order.sell_token, order.buy_token))
        sold = int(order.sell_amount)
        out = sold * 997 * r_out // (r_in * 1000 + sold * 997)  # UniswapV2Library.getAmountOut
        self.solved = (sold, out)
        solution = dto.Solution(
            id=1,
            prices={order.sell_token: dto.U256(out), order.buy_token: dto.U256(sold)},
            trades=[
                dto.Fulfillment(order=order.uid, executed_amount=dto.U256(sold), fee=dto.U256(0))
            ],
            interactions=[
                dto.LiquidityInteraction(
                    internalize=False,
                    id=pool.id,
                    input_token=order.sell_token,
                    output_token=order.buy_token,
                    input_amount=dto.U256(sold),
                    output_amount=dto.U256(out),
                )
            ],
            gas=200_000,
        )
        return web.Response(body=dto.encode_solutions([solution]), content_type="application/json")


async def notified(_: web.Request) -> web.Response:
    return web.Response(status=200)


@pytest.fixture
async def stub() -> AsyncIterator[tuple[Stub, str]]:
    engine = Stub()
    app = web.Application()
    app.router.add_post("/solve", engine.solve)
    app.router.add_post("/notify", notified)
    async with serving(app) as url:
        yield engine, url


async def test_fees_are_charged_scored_and_paid_out_to_the_wei(
    market: Market, stub: tuple[Stub, str], tmp_path: Path
) -> None:
    engine, url = stub
    d = market.deployment
    settings = NetworkSettings(
        deployment=market.path,
        engines=(),
        external=(url,),
        fees=FeeConfig.parse(["surplus:0.5:0.01"], PROTOCOL, 0.01, sweep_every=1),
    )
    trader = d.accounts[0]
    weth, tka = d.weth, market.tka
    owners = [trader.address, d.settlement, PROTOCOL, PARTNER]
    async with running_node(
        market.devnet, market.path, market.pools, tmp_path / "book.sqlite3", settings
    ) as node:
        before = token_balances(market.devnet, owners, [weth, tka])
        uid = await post_with_partner_fee(node, market, trader)
        report = await node.auctioneer.run_round(node.session)
        assert report.error is None, report.error
        assert not report.rejected, report.rejected
        (winner,) = report.winners
        settled = token_balances(market.devnet, owners, [weth, tka])

        # the solver was told the policies, in the order they apply (CoW's feePolicies DTO)
        (sent,) = [o for a in engine.auctions for o in a["orders"] if o["uid"] == uid]
        assert sent["feePolicies"] == [
            {"surplus": {"factor": 0.5, "maxVolumeFactor": 0.01}},
            {"volume": {"factor": 0.0025}},
        ]

        # CoW's fee.rs on the stub's solution: executed e = SELL, fee 0, p_sell = out, p_buy = SELL
        assert engine.solved is not None
        sold, out = engine.solved
        surplus_fee = min(f64(out - ceil_div(LIMIT * sold, sold), 0.5), f64(out, 0.01))
        assert surplus_fee == f64(out, 0.01)  # 50% of the surplus is more than 1% of the volume
        e1 = sold - surplus_fee * sold // out
        got1 = ceil_div(e1 * out, sold)
        e2 = e1 - f64(got1, 0.0025) * sold // out  # the partner's 25 bps of the volume left
        got2 = ceil_div(e2 * out, sold)
        protocol_charge, partner_charge = out - got1, got1 - got2

        def delta(owner: str, token: str) -> int:
            return settled[(owner, token)] - before[(owner, token)]

        assert delta(trader.address, tka) == -SELL
        assert delta(trader.address, weth) == got2
        assert delta(d.settlement, weth) == protocol_charge + partner_charge
        assert delta(d.settlement, tka) == 0

        # CIP-38 scoring (CoW's driver): surplus after the fees plus the fees, recomputed
        # from the executed amounts, the last policy first; WETH's reference price is 1e18
        volume_back = f64(got2, 0.0025 / (1 - 0.0025))
        seen = got2 + volume_back
        surplus_back = min(f64(seen - LIMIT, 0.5 / (1 - 0.5)), f64(seen, 0.01 / (1 - 0.01)))
        assert winner.score == (got2 - LIMIT) + volume_back + surplus_back
        assert winner.score > got2 - LIMIT  # the protocol fee counts

        # the order shows its fee (sell token), the ledger what each recipient is owed
        state = await node.client.order(uid)
        assert state.status == "fulfilled"
        assert int(state.executed_fee) == sold - e2
        assert int(state.executed_buy_amount) == got2
        async with node.session.get(f"{node.url}/api/v2/trades?orderUid={uid}") as response:
            (trade,) = await response.json()
        assert trade["executedProtocolFees"] == [
            {"policy": sent["feePolicies"][0], "amount": str(protocol_charge), "token": weth},
            {"policy": sent["feePolicies"][1], "amount": str(partner_charge), "token": weth},
        ]
        fees = await get_fees(node)
        assert fees["balances"] == [
            balance(PARTNER, weth, partner_charge, 0),
            balance(PROTOCOL, weth, protocol_charge, 0),
        ]

        # the next round pays them out: a settlement of two transfers, nothing else
        report = await node.auctioneer.run_round(node.session)
        assert report.error is None, report.error
        paid = token_balances(market.devnet, owners, [weth, tka])
        assert paid[(PROTOCOL, weth)] - before[(PROTOCOL, weth)] == protocol_charge
        assert paid[(PARTNER, weth)] - before[(PARTNER, weth)] == partner_charge
        assert paid[(d.settlement, weth)] == before[(d.settlement, weth)]
        fees = await get_fees(node)
        assert fees["balances"] == [
            balance(PARTNER, weth, partner_charge, partner_charge),
            balance(PROTOCOL, weth, protocol_charge, protocol_charge),
        ]
        assert sorted(int(p["amount"]) for p in fees["payouts"]) == sorted(
            [protocol_charge, partner_charge]
        )
        # a third round has nothing left to pay
        await node.auctioneer.run_round(node.session)
        assert token_balances(market.devnet, owners, [weth, tka]) == paid
        stored = await node.book.get(OrderUid(parse_uid(uid)))
        assert stored is not None and stored.status is OrderStatus.FILLED


def balance(recipient: str, token: str, accrued: int, paid: int) -> dict[str, Any]:
    return {
        "recipient": recipient,
        "token": token,
        "accrued": str(accrued),
        "paid": str(paid),
        "owed": str(accrued - paid),
    }


async def get_fees(node: Node) -> Any:
    async with node.session.get(f"{node.url}/api/v1/fees") as response:
        assert response.status == 200
        return await response.json()


async def post_with_partner_fee(node: Node, market: Market, trader: Any) -> str:
    """Sign and post the order with a full app-data document carrying the partner fee."""
    document = json.dumps(
        {"appCode": "fees-e2e", "metadata": {"partnerFee": {"bps": 25, "recipient": PARTNER}}}
    )
    order = limit_order(Address(trader.address), market.tka, market.deployment.weth, SELL, LIMIT)
    order = msgspec.structs.replace(order, app_data=keccak256(document.encode()))
    creation = wallet_of(market.deployment, trader).sign_order(order, app_data=document)
    return await node.client.post_order(creation)
