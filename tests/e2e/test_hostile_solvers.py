"""Acceptance of issue 13, item 6: users get what the chain would give them. Three hostile
external solvers bid in one devnet round beside our baseline engine:

* ``under``: claims less than the WETH/TKA pair's exact output for its input and pays the
  user the claim (the pair would keep the rest for a back-runner) -> ``InexactAmmOutput``;
* ``less``: claims the exact output and pays the user less, keeping the rest in the
  settlement -> ``UndeclaredSurplus``;
* ``cow``: matches the two opposite orders with each other, no AMM at all, at a price
  below what the pair gives the WETH seller -> ``EbboViolated`` (CIP-52).

Each one's rejection is logged with its code, and the users are filled by our engine in
the same round at the pool's price, not at the hostile ones'."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiohttp import web

from intents.order import OrderStatus
from intents.types import OrderUid
from intents.wire import parse_uid
from routing.pool import token_address
from solver import dto
from solver.checks import Rejection
from solver.demo import limit_order, wallet_of
from solver.dto_convert import auction_from_dto
from solver.network import NetworkSettings
from tests.e2e.helpers import E18, Market, running_node, serving
from tests.e2e.test_auction import market

__all__ = ["market"]  # the module-scoped devnet fixture, shared with test_auction

WETH_SOLD = E18
TKA_LIMIT = 900 * E18  # the pair pays ~996 TKA for 1 WETH

Answer = Callable[[dto.Auction, Market], list[dto.Solution]]


def _weth_order(auction: dto.Auction, market: Market) -> dto.Order:
    weth = market.deployment.weth
    return next(o for o in auction.orders if token_address(o.sell_token) == weth)


def _exact(auction: dto.Auction, market: Market) -> tuple[str, int]:
    """The WETH/TKA pair's id and its exact output for the WETH order's sell amount (our
    own pool math, which a solver may use as well as any)."""
    model = auction_from_dto(auction)
    weth, tka = market.deployment.weth, market.tka
    (pool,) = (p for p in model.liquidity.pools if set(p.tokens) == {weth, tka})
    return str(pool.id), pool.amount_out(weth, tka, WETH_SOLD)


def _routed(auction: dto.Auction, market: Market, claim: int, paid: int) -> dto.Solution:
    """The WETH order swapped on the pair for ``claim`` TKA, the user paid ``paid``."""
    order = _weth_order(auction, market)
    pool, _ = _exact(auction, market)
    return dto.Solution(
        id=1,
        prices={order.sell_token: dto.U256(paid), order.buy_token: dto.U256(WETH_SOLD)},
        trades=[
            dto.Fulfillment(order=order.uid, executed_amount=dto.U256(WETH_SOLD), fee=dto.U256(0))
        ],
        interactions=[
            dto.LiquidityInteraction(
                internalize=False,
                id=pool,
                input_token=order.sell_token,
                output_token=order.buy_token,
                input_amount=dto.U256(WETH_SOLD),
                output_amount=dto.U256(claim),
            )
        ],
    )


def under_claim(auction: dto.Auction, market: Market) -> list[dto.Solution]:
    return [_routed(auction, market, claim=TKA_LIMIT, paid=TKA_LIMIT)]


def pays_less(auction: dto.Auction, market: Market) -> list[dto.Solution]:
    _, exact = _exact(auction, market)
    return [_routed(auction, market, claim=exact, paid=TKA_LIMIT)]


def bad_cow(auction: dto.Auction, market: Market) -> list[dto.Solution]:
    """1 WETH for 950 TKA against the TKA seller (partially fillable): balanced, no AMM."""
    weth_order = _weth_order(auction, market)
    tka_order = next(o for o in auction.orders if o.uid != weth_order.uid)
    rate = 950
    return [
        dto.Solution(
            id=1,
            prices={weth_order.sell_token: dto.U256(rate), weth_order.buy_token: dto.U256(1)},
            trades=[
                dto.Fulfillment(
                    order=weth_order.uid, executed_amount=dto.U256(WETH_SOLD), fee=dto.U256(0)
                ),
                dto.Fulfillment(
                    order=tka_order.uid,
                    executed_amount=dto.U256(rate * WETH_SOLD),
                    fee=dto.U256(0),
                ),
            ],
            interactions=[],
        )
    ]


HOSTILE: dict[str, Answer] = {"under": under_claim, "less": pays_less, "cow": bad_cow}


@pytest.fixture
async def hostile(market: Market) -> AsyncIterator[str]:
    """One server, a solver engine per path: ``{url}/under``, ``/less``, ``/cow``."""
    app = web.Application()
    for name, answer in HOSTILE.items():

        async def solve(request: web.Request, answer: Answer = answer) -> web.Response:
            auction = dto.decode_auction(await request.read())
            return web.Response(
                body=dto.encode_solutions(answer(auction, market)),
                content_type="application/json",
            )

        app.router.add_post(f"/{name}/solve", solve)
    async with serving(app) as url:
        yield url


async def test_hostile_solvers_are_rejected_and_users_get_the_pool_price(
    market: Market, hostile: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    d = market.deployment
    a = d.accounts
    settings = NetworkSettings(
        deployment=market.path,
        engines=("baseline",),
        external=tuple(f"{hostile}/{name}" for name in HOSTILE),
        solve_time=5.0,
    )
    async with running_node(
        market.devnet, market.path, market.pools, tmp_path / "book.sqlite3", settings
    ) as node:
        weth_uid = await node.client.post_order(
            wallet_of(d, a[0]).sign_order(
                limit_order(a[0].address, d.weth, market.tka, WETH_SOLD, TKA_LIMIT)
            )
        )
        await node.client.post_order(
            wallet_of(d, a[1]).sign_order(
                limit_order(
                    a[1].address, market.tka, d.weth, 2000 * E18, 19 * E18 // 10, partial=True
                )
            )
        )
        with caplog.at_level(logging.WARNING):
            report = await node.auctioneer.run_round(node.session)
        assert report.error is None, report.error
        rejected = {(s, c) for s, _, c, _ in report.rejected}
        assert rejected == {
            ("external-0", Rejection.INEXACT_AMM_OUTPUT),
            ("external-1", Rejection.UNDECLARED_SURPLUS),
            ("external-2", Rejection.EBBO_VIOLATED),
        }
        for solver, code in rejected:
            assert any(
                solver in r.getMessage() and code in r.getMessage() for r in caplog.records
            ), (solver, code)
        assert report.winners and {w.solver for w in report.winners} == {"baseline"}
        stored = await node.book.get(OrderUid(parse_uid(weth_uid)))
        assert stored is not None and stored.status is OrderStatus.FILLED
        # the pool's price (~996 TKA), not the 900 or 950 the hostile solvers offered
        assert stored.executed_buy_amount > 990 * E18
