"""The external solver client against a real aiohttp server: solutions decoded and
converted, every failure (HTTP error, garbage, timeout, unreachable) is no bid."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import msgspec
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from intents.order import OrderClass
from routing.pool import PoolId
from routing.route import Leg
from solver import dto, dto_notification
from solver.checks import Rejection, SolutionRejected, check_solution, uniform_prices
from solver.competition import arbitrate
from solver.dto_convert import solution_from_dto, solution_to_dto
from solver.external import ExternalSolver
from solver.model import Solution, Trade
from solver.scoring import bid
from tests.solver.test_checks import COW, COW_SOLUTION, A, B, auction, order, uid

Handler = Callable[[web.Request], Any]


def dto_auction(seconds: float = 5.0) -> dto.Auction:
    return dto.Auction(
        id="42",
        tokens={},
        orders=[],
        liquidity=[],
        effective_gas_price=dto.U256(10**9),
        deadline=datetime.now(UTC) + timedelta(seconds=seconds),
        surplus_capturing_jit_order_owners=[],
    )


def answer(*solutions: dto.Solution) -> bytes:
    return dto.encode(dto.SolverResponse(solutions=list(solutions)))


def wire(solution: Solution) -> dto.Solution:
    return solution_to_dto(solution, {o.uid: o for o in COW.orders})


class Engine:
    """A tiny solver engine: answers ``/solve`` with ``reply``, records what it got."""

    def __init__(self) -> None:
        self.reply: Handler = lambda _: web.Response(body=answer(wire(COW_SOLUTION)))
        self.auctions: list[dto.Auction] = []
        self.notifications: list[Any] = []

    async def solve(self, request: web.Request) -> web.StreamResponse:
        self.auctions.append(dto.decode_auction(await request.read()))
        result = self.reply(request)
        if asyncio.iscoroutine(result):
            result = await result
        assert isinstance(result, web.StreamResponse)
        return result

    async def notify(self, request: web.Request) -> web.Response:
        self.notifications.append(dto_notification.decode_notification(await request.read()))
        return web.Response(status=200)


@pytest.fixture
async def engine() -> AsyncIterator[tuple[Engine, ExternalSolver, aiohttp.ClientSession]]:
    state = Engine()
    app = web.Application()
    app.router.add_post("/solve", state.solve)
    app.router.add_post("/notify", state.notify)
    server = TestServer(app)
    await server.start_server()
    async with aiohttp.ClientSession() as session:
        yield state, ExternalSolver("ext", str(server.make_url("/"))), session
    await server.close()


async def test_solutions_are_decoded_and_converted(
    engine: tuple[Engine, ExternalSolver, aiohttp.ClientSession],
) -> None:
    state, solver, session = engine
    sent = dto_auction()
    solutions = await solver.solve(session, sent)
    assert state.auctions == [sent]
    assert solutions == [
        Solution(
            id=COW_SOLUTION.id,
            prices=COW_SOLUTION.prices,
            trades=COW_SOLUTION.trades,
            legs=(),
            gas=COW_SOLUTION.gas,
            engine="ext",
        )
    ]


async def test_fees_and_liquidity_legs_survive_the_wire(
    engine: tuple[Engine, ExternalSolver, aiohttp.ClientSession],
) -> None:
    state, solver, session = engine
    legs = (Leg(PoolId("pool-ac"), A, B, 5, 4),)
    sol = Solution(id=3, prices={A: 2, B: 3}, trades=(Trade(uid(1), 950, 50),), legs=legs, gas=1)
    limit_order = order(1, order_class=OrderClass.LIMIT)
    doc = dto.to_builtins(solution_to_dto(sol, {limit_order.uid: limit_order}))
    doc["prices"] = {A.upper().replace("0X", "0x"): "2", B: "3"}
    state.reply = lambda _: web.json_response({"solutions": [doc]})
    (got,) = await solver.solve(session, dto_auction())
    assert got.trades == sol.trades and got.legs == legs and dict(got.prices) == {A: 2, B: 3}


async def test_unsupported_solutions_are_dropped_and_the_rest_kept(
    engine: tuple[Engine, ExternalSolver, aiohttp.ClientSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    state, solver, session = engine
    custom = dto.CustomInteraction(
        internalize=False,
        target=A,
        value=dto.U256(0),
        call_data="0x",
        allowances=[],
        inputs=[],
        outputs=[],
    )
    bad = dto.Solution(id=9, prices={}, trades=[], interactions=[custom])
    state.reply = lambda _: web.Response(body=answer(bad, wire(COW_SOLUTION)))
    with caplog.at_level(logging.WARNING, logger="solver.external"):
        solutions = await solver.solve(session, dto_auction())
    assert [s.id for s in solutions] == [COW_SOLUTION.id]
    assert "solver ext solution 9 rejected: UnsupportedSolution" in caplog.text


@pytest.mark.parametrize(
    "extra",
    [
        {"wrappers": [dto.SolutionWrapperCall(address=A, data="0x01")]},
        {
            "flashloans": {
                "0x" + uid(1).hex(): dto.Flashloan(
                    liquidity_provider=A,
                    protocol_adapter=B,
                    receiver=A,
                    token=B,
                    amount=dto.U256(1),
                )
            }
        },
    ],
)
def test_solutions_needing_wrappers_or_flashloans_are_rejected(extra: dict[str, Any]) -> None:
    """Our settlement calls neither wrappers nor flash loans: settling such a solution
    without them would not be the solution the solver proposed."""
    solution = msgspec.structs.replace(wire(COW_SOLUTION), **extra)
    with pytest.raises(SolutionRejected) as error:
        solution_from_dto(solution)
    assert error.value.code is Rejection.UNSUPPORTED_SOLUTION


def test_two_prices_for_one_token_are_rejected() -> None:
    doc = dto.to_builtins(wire(COW_SOLUTION))
    doc["prices"][A.upper().replace("0X", "0x")] = "5"
    raw = dto.decode_solver_response(dto.encode({"solutions": [doc]})).solutions[0]
    with pytest.raises(SolutionRejected) as info:
        uniform_prices(solution_from_dto(raw))
    assert info.value.code is Rejection.NON_UNIFORM_PRICES


@pytest.mark.parametrize(
    "reply",
    [
        lambda _: web.Response(status=500, text="boom"),
        lambda _: web.Response(body=b"{not json"),
        lambda _: web.json_response({"solutions": [{"id": 1}]}),
        lambda _: web.json_response({"error": {"code": "insufficientLiquidity"}}),
    ],
    ids=["http-500", "garbage", "invalid", "declined"],
)
async def test_failures_are_no_bid(
    engine: tuple[Engine, ExternalSolver, aiohttp.ClientSession],
    reply: Handler,
    caplog: pytest.LogCaptureFixture,
) -> None:
    state, solver, session = engine
    state.reply = reply
    with caplog.at_level(logging.INFO, logger="solver.external"):
        assert await solver.solve(session, dto_auction()) == []
    assert "solver ext" in caplog.text
    assert len(state.auctions) == 1


async def test_deadline_is_the_timeout(
    engine: tuple[Engine, ExternalSolver, aiohttp.ClientSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    state, solver, session = engine

    async def slow(_: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response(body=answer())

    state.reply = slow
    loop = asyncio.get_running_loop()
    started = loop.time()
    with caplog.at_level(logging.WARNING, logger="solver.external"):
        assert await solver.solve(session, dto_auction(seconds=0.3)) == []
    assert loop.time() - started < 3
    assert "solver ext missed the deadline of auction 42" in caplog.text


async def test_past_deadline_asks_nobody(
    engine: tuple[Engine, ExternalSolver, aiohttp.ClientSession],
) -> None:
    state, solver, session = engine
    assert await solver.solve(session, dto_auction(seconds=-1)) == []
    assert state.auctions == []


async def test_deadline_without_offset_is_utc(
    engine: tuple[Engine, ExternalSolver, aiohttp.ClientSession],
) -> None:
    state, solver, session = engine
    naive = dto_auction()
    naive = dto.Auction(
        id=naive.id,
        tokens={},
        orders=[],
        liquidity=[],
        effective_gas_price=naive.effective_gas_price,
        deadline=naive.deadline.replace(tzinfo=None),
        surplus_capturing_jit_order_owners=[],
    )
    assert len(await solver.solve(session, naive)) == 1
    assert len(state.auctions) == 1


async def test_unreachable_solver_is_no_bid(caplog: pytest.LogCaptureFixture) -> None:
    server = TestServer(web.Application())
    await server.start_server()
    url = str(server.make_url("/"))
    await server.close()  # nothing listens there any more
    async with aiohttp.ClientSession() as session:
        with caplog.at_level(logging.WARNING, logger="solver.external"):
            assert await ExternalSolver("gone", url).solve(session, dto_auction()) == []
            assert not await ExternalSolver("gone", url).notify(session, dto_notification.Timeout())
    assert "solver gone unreachable" in caplog.text
    assert "solver gone not notified" in caplog.text


async def test_notify_posts_the_notification(
    engine: tuple[Engine, ExternalSolver, aiohttp.ClientSession],
) -> None:
    state, solver, session = engine
    note = dto_notification.Success(auction_id="42", solution_id=7, transaction="0x" + "ab" * 32)
    assert await solver.notify(session, note)
    assert state.notifications == [note]


async def test_external_bid_competes_with_ours(
    engine: tuple[Engine, ExternalSolver, aiohttp.ClientSession],
) -> None:
    """Over HTTP the external engine's full CoW beats our own half-filled one; a second
    engine answering a limit-violating solution is rejected before it can bid."""
    state, solver, session = engine
    book = auction(order(1, partial=True), order(2, B, A, partial=True))
    full = Solution(id=1, prices={A: 1, B: 1}, trades=COW_SOLUTION.trades, legs=(), gas=0)
    half = (Trade(uid(1), 500), Trade(uid(2), 500))
    ours = Solution(id=2, prices={A: 1, B: 1}, trades=half, legs=(), gas=0)
    cheat = Solution(id=3, prices={A: 1, B: 2}, trades=half, legs=(), gas=0)
    state.reply = lambda _: web.Response(body=answer(wire(full)))
    external = await solver.solve(session, dto_auction())
    bids = [bid("ext", s, check_solution(book, s, solver="ext"), book) for s in external]
    bids.append(bid("internal", ours, check_solution(book, ours, solver="internal"), book))
    state.reply = lambda _: web.Response(body=answer(wire(cheat)))
    (cheated,) = await ExternalSolver("cheater", solver.url).solve(session, dto_auction())
    with pytest.raises(SolutionRejected) as info:
        check_solution(book, cheated, solver="cheater")
    assert info.value.code is Rejection.LIMIT_PRICE_VIOLATED
    ranking = arbitrate(bids)
    assert [(b.solver, b.solution_id) for b in ranking.winners] == [("ext", 1)]
    assert ranking.total_score == 300  # 100 B (200 wei) + 100 A (100 wei)
