"""Issue 12 item 5: the winners of one auction settle one after the other, each simulated
on the state the earlier ones left once mined. Two winners that both spend one trader's
whole WETH balance (on different pairs through different pools, so the fair auction picks
both): the first settles,
the second would now revert and is dropped — reported, logged, not sent — and the round
goes on."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from devnet.anvil import Tx
from devnet.uniswap import ERC20
from intents.types import OrderUid
from intents.wire import parse_uid
from settlement.submitter import Outcome
from solver.demo import limit_order, wallet_of
from solver.network import NetworkSettings
from tests.e2e.helpers import E18, Market, Node, devnet_market, running_node, token_balances

HOLDS = E18


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Market]:
    with devnet_market(tmp_path_factory) as market:
        yield market


@pytest.fixture
async def node(market: Market, tmp_path: Path) -> AsyncIterator[Node]:
    settings = NetworkSettings(deployment=market.path, engines=("optimal",))
    async with running_node(
        market.devnet, market.path, market.pools, tmp_path / "book.sqlite3", settings
    ) as node:
        yield node


async def test_a_winner_the_earlier_winners_invalidated_is_dropped_and_the_rest_settle(
    market: Market, node: Node, caplog: pytest.LogCaptureFixture
) -> None:
    d, trader = market.deployment, market.deployment.accounts[5]
    (held,) = market.devnet.call(ERC20, d.weth, "balanceOf", trader.address)
    assert held > HOLDS
    market.devnet.send(  # the trader keeps exactly HOLDS of WETH
        [
            Tx(
                trader.address,
                ERC20.encode_call("transfer", d.deployer.address, held - HOLDS),
                d.weth,
            )
        ]
    )
    # both fill-or-kill, each fundable alone, together twice what the trader holds
    uids = [
        await node.client.post_order(
            wallet_of(d, trader).sign_order(
                limit_order(trader.address, d.weth, buy, HOLDS, minimum)
            )
        )
        for buy, minimum in ((market.tka, HOLDS * 500), (market.tkb, HOLDS * 500))
    ]
    before = token_balances(market.devnet, [trader.address], [market.tka, market.tkb, d.weth])
    caplog.set_level(logging.INFO, logger="solver.auctioneer")
    report = await node.auctioneer.run_round(node.session)

    assert report.error is None
    assert len(report.winners) == 2, report.rejected  # disjoint pairs: both win
    first, second = report.winners
    assert [w for w, _ in report.dropped] == [second]
    # (WETH9's transferFrom reverts without a reason string: the reason is empty)
    assert f"winner {second.solver}#{second.solution_id} dropped" in caplog.text
    outcomes = {w.solution_id: s.outcome for w, s in report.submissions}
    assert outcomes[first.solution_id] is Outcome.SETTLED
    assert outcomes[second.solution_id] is None  # never sent
    settled = {t.order for t in first.solution.trades}
    for uid in uids:
        stored = await node.book.get(OrderUid(parse_uid(uid)))
        assert stored is not None
        assert str(stored.status) == ("filled" if stored.uid in settled else "open")
    after = token_balances(market.devnet, [trader.address], [market.tka, market.tkb, d.weth])
    assert before[(trader.address, d.weth)] - after[(trader.address, d.weth)] == HOLDS
