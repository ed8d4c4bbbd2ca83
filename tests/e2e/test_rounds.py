"""``GET /api/v1/rounds`` on a devnet: after a real round (engines, checks, settlement),
each solution's outcome, reason, transaction, trades and route agree with what the chain
and the order book recorded and with CoW's ``solver_competition``; the explorer's pages
and assets are served."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from intents.wire import parse_uid, to_hex
from settlement.submitter import Outcome
from solver.demo import limit_order, wallet_of
from solver.network import NetworkSettings
from tests.e2e.helpers import E18, Market, Node, devnet_market, running_node


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Market]:
    with devnet_market(tmp_path_factory) as market:
        yield market


@pytest.fixture
async def node(market: Market, tmp_path: Path) -> AsyncIterator[Node]:
    settings = NetworkSettings(deployment=market.path)
    async with running_node(
        market.devnet, market.path, market.pools, tmp_path / "book.sqlite3", settings
    ) as node:
        yield node


async def get(node: Node, path: str) -> tuple[int, Any]:
    async with node.session.get(node.url + path) as response:
        return response.status, await response.json()


async def test_rounds_explain_every_solution_as_the_chain_recorded_it(
    market: Market, node: Node
) -> None:
    d, a = market.deployment, market.deployment.accounts
    intents = [  # a coincidence of wants and a routed order
        (a[0], limit_order(a[0].address, market.tka, market.tkb, 100 * E18, 99 * E18)),
        (a[1], limit_order(a[1].address, market.tkb, market.tka, 100 * E18, 99 * E18)),
        (a[2], limit_order(a[2].address, d.weth, market.tka, E18 // 10, 90 * E18)),
    ]
    uids = [await node.client.post_order(wallet_of(d, acct).sign_order(o)) for acct, o in intents]
    report = await node.auctioneer.run_round(node.session)
    assert report.error is None and report.winners

    status, rounds = await get(node, "/api/v1/rounds?limit=5")
    assert status == 200
    (found,) = rounds
    assert found["auctionId"] == report.auction_id
    assert sorted(found["orders"]) == sorted(uids)
    assert {t: v["symbol"] for t, v in found["tokens"].items()} == {
        market.tka: "TKA", market.tkb: "TKB", d.weth: "WETH"
    }  # fmt: skip
    assert all(v["decimals"] == 18 for v in found["tokens"].values())

    solutions = found["solutions"]
    scored = [s for s in solutions if s["ranking"] is not None]
    assert [s["ranking"] for s in scored] == list(range(1, len(scored) + 1))
    assert all(s["reason"] for s in solutions)
    settled = [s for s in solutions if s["outcome"] == "settled"]
    sent = {(w.solver, w.solution_id): sub for w, sub in report.submissions}
    assert len(settled) == sum(sub.outcome is Outcome.SETTLED for sub in sent.values()) > 0
    pools = {p.address for p in market.pools}
    traded: set[str] = set()
    for s in settled:
        submission = sent[(s["solver"], s["solutionId"])]
        assert submission.mined is not None
        assert s["txHash"] == to_hex(submission.mined.tx_hash)
        assert s["blockNumber"] == submission.block_number and s["gasUsed"] == submission.gas_used
        for leg in s["legs"]:
            assert leg["address"] in pools and int(leg["amountIn"]) > 0
        for trade in s["trades"]:  # what the book recorded from the chain's Trade events
            traded.add(trade["uid"])
            _, order = await get(node, f"/api/v1/orders/{trade['uid']}")
            assert trade["sellAmount"] == order["executedSellAmount"]
            assert trade["buyAmount"] == order["executedBuyAmount"]
            _, trades = await get(node, f"/api/v2/trades?orderUid={trade['uid']}")
            assert [t["txHash"] for t in trades] == [s["txHash"]]
    assert traded == set(uids)
    winners = {(w.solver, w.solution_id) for w in report.winners}
    for s in solutions:
        won = (s["solver"], s["solutionId"]) in winners
        assert won == (s["outcome"] in {"settled", "reverted", "cancelled", "dropped"}), s

    # the same ranking and scores as CoW's solver_competition of the auction
    status, competition = await get(node, f"/api/v2/solver_competition/{report.auction_id}")
    assert status == 200
    assert [(c["ranking"], c["score"], c["isWinner"]) for c in competition["solutions"]] == [
        (s["ranking"], s["score"], (s["solver"], s["solutionId"]) in winners) for s in scored
    ]

    # one round, by id or by one of its orders
    assert await get(node, f"/api/v1/rounds/{report.auction_id}") == (200, found)
    assert await get(node, f"/api/v1/rounds?order={uids[2]}") == (200, [found])
    other = to_hex(parse_uid(uids[2])[:-1] + b"\x00")
    assert await get(node, f"/api/v1/rounds?order={other}") == (200, [])
    status, error = await get(node, f"/api/v1/rounds/{report.auction_id + 100}")
    assert (status, error["errorType"]) == (404, "NotFound")
    for bad in ("/api/v1/rounds/x1", "/api/v1/rounds?limit=0", "/api/v1/rounds?order=0x12"):
        status, error = await get(node, bad)
        assert (status, error["errorType"]) == (400, "InvalidField"), bad


async def test_the_explorer_pages_and_assets_are_served(node: Node) -> None:
    uid = "0x" + "ab" * 56
    for path, page in (
        ("/explorer", "home"),
        ("/explorer/auctions/7", "auction"),
        (f"/explorer/orders/{uid}", "order"),
    ):
        async with node.session.get(node.url + path) as response:
            assert response.status == 200 and response.content_type == "text/html"
            text = await response.text()
        assert f'data-page="{page}"' in text and '<main id="main"' in text
    for name, kind in (("explorer.js", "text/javascript"), ("explorer.css", "text/css")):
        async with node.session.get(f"{node.url}/explorer/static/{name}") as response:
            assert response.status == 200 and response.content_type == kind
            assert len(await response.read()) > 1000
    async with node.session.get(f"{node.url}/explorer/static/secret.py") as response:
        assert response.status == 404
    for q, target in (("12", "/explorer/auctions/12"), (uid.upper()[2:], None)):
        async with node.session.get(
            f"{node.url}/explorer/search", params={"q": q}, allow_redirects=False
        ) as response:
            if target is None:  # not an id, not a UID
                assert response.status == 400
            else:
                assert (response.status, response.headers["Location"]) == (303, target)
    async with node.session.get(
        f"{node.url}/explorer/search", params={"q": uid.upper().replace("0X", "0x")},
        allow_redirects=False,
    ) as response:  # fmt: skip
        assert (response.status, response.headers["Location"]) == (303, f"/explorer/orders/{uid}")
