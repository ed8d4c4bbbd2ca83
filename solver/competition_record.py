"""An auction round's solver competition as the order book records it
(``intents.records.CompetitionRecord``), for CoW's ``solver_competition`` endpoints, the
order status and the fees shown on orders.

Solutions are listed as ranked: the fair bids (winners first, then by score, ranking 1
the best), then those the fair combinatorial auction filtered out, then those that settle
nothing that counts (score 0). A winner whose settlement was mined carries its transaction
hash; every solution's orders carry what the order pays (sell token, all fees included)
and receives, the fee it charged (the solver's and the node's protocol fees) and the
protocol and partner fees one by one (what the fee ledger, ``intents.fee_ledger``, owes).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from intents.records import ChargeRecord, CompetitionRecord, SolutionOrder, SolutionRecord
from intents.types import Address, OrderUid
from intents.wire import to_hex
from settlement.submitter import Outcome, Submission
from solver.competition import Bid, Ranking
from solver.dto_convert import fee_policy_json
from solver.model import Auction, Order, Solution, executed_amounts


def _orders(solution: Solution, orders: Mapping[OrderUid, Order]) -> list[SolutionOrder]:
    found = []
    for trade in solution.trades:
        order = orders.get(trade.order)
        if order is None:
            continue
        sold, bought = executed_amounts(order, trade, solution.prices)
        charges = [
            ChargeRecord(
                c.recipient, c.token, c.amount, fee_policy_json(c.policy) if c.policy else ""
            )
            for c in solution.charges
            if c.uid == trade.order
        ]
        found.append(SolutionOrder(to_hex(trade.order), sold, bought, trade.fee, charges))
    return found


def _mined(submissions: Iterable[tuple[Bid[Solution], Submission]]) -> dict[int, str]:
    """Per winner (by identity), the hash of its settlement transaction, once mined."""
    return {
        id(bid): to_hex(sub.mined.tx_hash)
        for bid, sub in submissions
        if sub.outcome is Outcome.SETTLED and sub.mined is not None
    }


def competition_record(
    *,
    auction_id: int,
    auction: Auction,
    ranking: Ranking[Solution],
    submissions: Iterable[tuple[Bid[Solution], Submission]],
    solver_address: Address,
    start_block: int,
) -> CompetitionRecord:
    orders = {o.uid: o for o in auction.orders}
    winners = {id(bid) for bid in ranking.winners}
    unfair = {id(bid) for bid in ranking.unfair}
    mined = _mined(submissions)
    deadline_block = max(
        (sub.deadline_block or start_block for _, sub in submissions), default=start_block
    )
    solutions = [
        SolutionRecord(
            solver=bid.solver,
            solver_address=solver_address,
            score=bid.score,
            ranking=rank,
            clearing_prices={t: p for t, p in bid.solution.prices.items()},
            orders=_orders(bid.solution, orders),
            is_winner=id(bid) in winners,
            filtered_out=id(bid) in unfair,
            tx_hash=mined.get(id(bid)),
            reference_score=ranking.solver_reference_scores.get(bid.solver)
            if id(bid) in winners
            else None,
        )
        for rank, bid in enumerate((*ranking.ranked, *ranking.unfair, *ranking.unscored), 1)
    ]
    prices: dict[str, int] = {
        token: info.reference_price
        for token, info in auction.tokens.items()
        if info.reference_price is not None
    }
    return CompetitionRecord(
        auction_id=auction_id,
        auction_start_block=start_block,
        auction_deadline_block=deadline_block,
        orders=[to_hex(o.uid) for o in auction.orders],
        prices=prices,
        solutions=solutions,
        reference_scores={
            s.solver: s.reference_score for s in solutions if s.reference_score is not None
        },
    )
