"""Acceptance 1 of issue 5, end to end on a devnet: users post signed intents over HTTP to
the orderbook API; the auctioneer (real engines, chain simulation, real submitter) settles
them. A coincidence-of-wants pair settles against each other at one clearing price, a
partially fillable limit order is filled as far as its limit allows, and every balance
moves exactly as the winning solutions promised."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from intents.feed import StatusChange, Subscription
from intents.order import Order, OrderKind
from intents.types import Address, OrderUid
from intents.wire import parse_uid
from settlement.chain_reader import RpcChainReader
from settlement.fills import FillTracker
from settlement.submitter import Outcome
from solver.demo import limit_order, wallet_of
from solver.liquidity_source import ChainLiquidity
from solver.model import executed_amounts
from solver.network import NetworkSettings, build_auctioneer
from tests.e2e.helpers import (
    E18,
    Market,
    Node,
    devnet_market,
    promised,
    running_node,
    token_balances,
)


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Market]:
    with devnet_market(tmp_path_factory) as market:
        yield market


@pytest.fixture
async def node(market: Market, tmp_path: Path) -> AsyncIterator[Node]:
    """The orderbook API over a fresh book plus an auctioneer (all three engines)."""
    settings = NetworkSettings(deployment=market.path, engines=("baseline", "optimal", "batch"))
    async with running_node(
        market.devnet, market.path, market.pools, tmp_path / "book.sqlite3", settings
    ) as node:
        yield node


def balances(market: Market, owners: list[Address]) -> dict[tuple[str, str], int]:
    return token_balances(market.devnet, owners, [market.tka, market.tkb, market.deployment.weth])


async def statuses(node: Node, uids: list[str]) -> list[str]:
    out = []
    for uid in uids:
        stored = await node.book.get(OrderUid(parse_uid(uid)))
        assert stored is not None
        out.append(str(stored.status))
    return out


async def test_cow_pair_partial_limit_and_route_settle_exactly(market: Market, node: Node) -> None:
    d = market.deployment
    a = d.accounts
    orders: list[tuple[Any, Order]] = [
        # the CoW pair: through the pools each would lose ~0.6% to two fees; against each
        # other only the gas fee
        (a[0], limit_order(a[0].address, market.tka, market.tkb, 100 * E18, 99 * E18)),
        (a[1], limit_order(a[1].address, market.tkb, market.tka, 100 * E18, 99 * E18)),
        # partially fillable: 50 WETH at >= 990 TKA each; the pool's marginal rate drops
        # below that after a few WETH
        (
            a[2],
            limit_order(a[2].address, d.weth, market.tka, 50 * E18, 50 * 990 * E18, partial=True),
        ),
        # a plain routed buy order
        (
            a[3],
            limit_order(a[3].address, d.weth, market.tkb, E18 // 10, 50 * E18, kind=OrderKind.BUY),
        ),
    ]
    owners = [acct.address for acct, _ in orders]
    before = balances(market, owners)
    uids = [await node.client.post_order(wallet_of(d, acct).sign_order(o)) for acct, o in orders]
    seen: list[StatusChange] = []

    async def follow(subscription: Subscription) -> None:
        with subscription as changes:
            async for change in changes:
                seen.append(change)

    feed = asyncio.create_task(follow(node.book.subscribe()))

    for _ in range(4):
        await node.auctioneer.run_round(node.session)
        if await statuses(node, uids) == ["filled", "filled", "partiallyFilled", "filled"]:
            break
    assert await statuses(node, uids) == ["filled", "filled", "partiallyFilled", "filled"]
    await asyncio.sleep(0.1)
    feed.cancel()
    # the status stream (what SSE clients get) saw each order move once, from open
    assert sorted((change.uid, str(change.status)) for change in seen) == sorted(
        zip(
            (parse_uid(u) for u in uids),
            ["filled", "filled", "partiallyFilled", "filled"],
            strict=True,
        )
    )
    reports = node.auctioneer.reports
    assert all(r.error is None for r in reports), [r.error for r in reports]

    # the CoW pair: one settlement, one clearing price, no TKB through any pool
    cow = [
        (r, w)
        for r in reports
        for w in r.winners
        if {t.order for t in w.solution.trades} >= {parse_uid(uids[0]), parse_uid(uids[1])}
    ]
    assert len(cow) == 1
    report, winner = cow[0]
    tkb = str(market.tkb)
    assert not any(tkb in (leg.token_in, leg.token_out) for leg in winner.solution.legs)
    prices = winner.solution.prices
    fills = {f.uid: f for _, s in report.submissions for f in s.fills}
    assert report.auction is not None
    auction_orders = {o.uid: o for o in report.auction.orders}
    for uid in uids[:2]:
        fill = fills[OrderUid(parse_uid(uid))]
        order = auction_orders[fill.uid]
        (trade,) = [t for t in winner.solution.trades if t.order == fill.uid]
        assert (fill.sell_amount, fill.buy_amount) == executed_amounts(order, trade, prices)
        # the fee-free part converts at the one clearing price, rounded for the user
        assert (
            trade.executed * prices[order.sell_token] <= fill.buy_amount * prices[order.buy_token]
        )

    partial = await node.book.get(OrderUid(parse_uid(uids[2])))
    assert partial is not None and 0 < partial.executed_sell_amount < 50 * E18

    after = balances(market, owners)
    change = promised(reports)
    for key, value in before.items():
        assert after[key] - value == change.get(key, 0), key


class _Blind:
    """A submitter's fill tracker that records nothing: its node died right after the
    settlement was mined."""

    async def track(self, receipt: object, sender: Address, nonce: int) -> list[Any]:
        return []


async def test_a_settlement_its_submitter_never_recorded_is_recorded_by_the_next_leader(
    market: Market, node: Node
) -> None:
    d, acct = market.deployment, market.deployment.accounts[4]
    uid = await node.client.post_order(
        wallet_of(d, acct).sign_order(
            limit_order(acct.address, d.weth, market.tka, E18 // 10, 90 * E18)
        )
    )
    node.auctioneer.submitter.tracker = cast(FillTracker, _Blind())
    first = await node.auctioneer.run_round(node.session)
    assert [s.outcome for _, s in first.submissions] == [Outcome.SETTLED]
    assert await statuses(node, [uid]) == ["open"]  # mined, but the book never heard of it

    rpc = node.auctioneer.submitter.rpc
    successor, _ = build_auctioneer(
        NetworkSettings(deployment=market.path, engines=("baseline",)),
        rpc=rpc,
        book=node.book,
        chain=RpcChainReader(rpc, d.settlement, d.vault_relayer),
        liquidity=ChainLiquidity(rpc, market.pools),
    )
    second = await successor.run_round(node.session)
    assert await statuses(node, [uid]) == ["filled"]
    assert (second.error, second.orders, second.submissions) == (None, 0, [])
    stored = await node.book.get(OrderUid(parse_uid(uid)))
    assert stored is not None and stored.executed_sell_amount == E18 // 10


class _Deposed:
    """Leads when a round starts, loses the lock (term 1 ends) before it settles."""

    term = 1

    async def is_leader(self) -> bool:
        return True

    async def wait_leader(self) -> int:
        return self.term

    def still_leading(self, term: int) -> bool:
        return False


async def test_a_node_that_lost_leadership_mid_round_settles_nothing(
    market: Market, node: Node
) -> None:
    d, acct = market.deployment, market.deployment.accounts[4]
    uid = await node.client.post_order(
        wallet_of(d, acct).sign_order(
            limit_order(acct.address, d.weth, market.tka, E18 // 10, 90 * E18)
        )
    )
    node.auctioneer.leadership = _Deposed()
    rpc = node.auctioneer.submitter.rpc
    head = await rpc.call("eth_blockNumber", [])
    report = await node.auctioneer.run_round(node.session)
    assert report.winners and report.submissions == []
    assert await rpc.call("eth_blockNumber", []) == head  # nothing sent
    assert await statuses(node, [uid]) == ["open"]
