"""A round's competition as the book records it: solutions as ranked (winners first, then
the filtered-out, then the unscored), each order's amounts at the solution's prices with
its solver fee, the mined winner's transaction; and the auctioneer's auction ids going on
from the last recorded one."""

from __future__ import annotations

from typing import Any, cast

import aiohttp

from intents.chain import FakeChain
from intents.records import SolutionOrder
from intents.wire import to_hex
from settlement.submitter import Attempt, AttemptKind, Outcome, Submission
from solver.book_auction import FixedGasPrice
from solver.competition import Bid, Ranking
from solver.competition_record import competition_record
from solver.model import Solution, Trade
from tests.solver.test_auctioneer import BUY, SELL, FakeBook, OnePool, auctioneer, stored

SOLVER = "0x" + "50" * 20


def _bid(name: str, solution: Solution, score: int) -> Bid[Solution]:
    return Bid(name, solution.id, solution, {(SELL, BUY): score}, frozenset({(SELL, BUY)}))


async def test_the_record_of_a_round() -> None:
    order = stored(sell=1000, buy=400)
    a = auctioneer([order], FakeChain())
    a.liquidity = OnePool()
    a.gas_price = FixedGasPrice(1)
    auction = (await a.build_auction([(order, 1000)], 5)).auction
    prices = {SELL: 1, BUY: 2}
    winner = _bid("baseline", Solution(1, prices, (Trade(order.uid, 900, fee=10),), (), 0), 50)
    loser = _bid("optimal", Solution(2, prices, (Trade(order.uid, 800),), (), 0), 40)
    unfair = _bid("batch", Solution(3, prices, (), (), 0), 30)
    ranking = Ranking(
        ranked=(winner, loser),
        winners=(winner,),
        unfair=(unfair,),
        unscored=(),
        reference_scores={},
        solver_reference_scores={"baseline": 45},
    )
    mined = Attempt(AttemptKind.SETTLE, b"\x77" * 32, 0, 1, 1, 1, 100)
    sent = Submission(calldata=b"", deadline_block=110, outcome=Outcome.SETTLED, mined=mined)
    record = competition_record(
        auction_id=5,
        auction=auction,
        ranking=ranking,
        submissions=[(winner, sent)],
        solver_address=SOLVER,
        start_block=99,
    )
    assert (record.auction_id, record.auction_start_block, record.auction_deadline_block) == (
        5,
        99,
        110,
    )
    assert record.orders == [to_hex(order.uid)]
    assert [(s.solver, s.ranking, s.is_winner, s.filtered_out) for s in record.solutions] == [
        ("baseline", 1, True, False),
        ("optimal", 2, False, False),
        ("batch", 3, False, True),
    ]
    first = record.solutions[0]
    # 900 sold at 1 buys 450 at 2; the solver's 10 on top
    assert first.orders == [SolutionOrder(to_hex(order.uid), 910, 450, 10)]
    assert (first.tx_hash, first.reference_score, first.score) == (to_hex(b"\x77" * 32), 45, 50)
    assert record.solutions[1].tx_hash is None and record.solutions[1].reference_score is None
    assert record.transaction_hashes == [to_hex(b"\x77" * 32)]
    assert record.reference_scores == {"baseline": 45}
    assert first.clearing_prices == {SELL: 1, BUY: 2}


async def test_auction_ids_go_on_from_the_last_recorded_one() -> None:
    a = auctioneer([], FakeChain())
    book = cast(Any, a.book)

    class Latest:
        auction_id = 41

    async def latest() -> Latest:
        return Latest()

    book.competition = latest
    async with aiohttp.ClientSession() as session:
        assert (await a.run_round(session)).auction_id == 42
        assert (await a.run_round(session)).auction_id == 43
        Latest.auction_id = 50  # another node led meanwhile
        assert (await a.run_round(session)).auction_id == 51
    assert isinstance(book, FakeBook) and book.competitions == []  # no orders: no auction
