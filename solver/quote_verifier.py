"""Verified quotes: the quoted trade auctioned alone to the node's engines and its
settlement simulated on the chain.

As CoW's trade verifier does (``crates/shared/src/price_estimation/trade_verifier``), a quote
is verified by running the trade it promises: the quoted order, owned by the quote's
``from`` and pre-signed through a state override of ``GPv2Settlement``'s ``preSignature``
slot (so no key is needed), is auctioned alone over the current liquidity and gas price
(``Auctioneer.build_auction``) to engines of the auctioneer's kinds; the best solution that
passes the round's checks is encoded as ``settle()`` and ``eth_call``-ed from the solver
account. If that succeeds the quote is ``verified`` and its amounts are the ones the
settlement moves: what the user receives (or pays) and the fee the engine charges, i.e.
what an order at these amounts gets when nothing else trades. The probe order asks
``LIMIT_SLACK_BPS`` less than the routed quote (or offers as much more), so an engine fee
a little above the routed one still settles and is quoted.

A quote is left unverified (the routed amounts, ``verified: false``) when ``from`` is the
zero address or lacks the balance and allowance to trade, or when no solution settles:
CoW's verifier likewise needs the trader's funds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from eth_utils.crypto import keccak

from intents.eip712 import domain_separator, order_digest, order_uid
from intents.http.quote import QuoteQuery, QuoteResult
from intents.order import Order, OrderClass, OrderKind, SigningScheme, StoredOrder
from intents.types import ZERO_ADDRESS, Address, OrderUid
from settlement.encoding import Settlement
from settlement.submitter import SettlementReverted
from solver.auctioneer import Auctioneer
from solver.book_auction import BookAuction
from solver.checks import CheckedTrade, SolutionRejected, verify_solution
from solver.engines import Engine, solve_all
from solver.model import Auction, Solution
from solver.solution_settlement import settlement_of

log = logging.getLogger(__name__)

PRE_SIGNATURE_SLOT = 0
"""``GPv2Signing.preSignature`` (``mapping(bytes => uint256)``) is the settlement's first
storage slot: the value of ``uid`` sits at ``keccak256(uid ‖ uint256(0))``."""
PRE_SIGNED = keccak(text="GPv2Signing.Scheme.PreSign")
"""The value ``setPreSignature(uid, true)`` stores."""
LIMIT_SLACK_BPS = 100
PROBE_VALIDITY = 600


def presign_override(settlement: Address, uid: OrderUid) -> dict[str, Any]:
    """An ``eth_call`` state override under which ``uid`` is pre-signed."""
    slot = keccak(bytes(uid) + PRE_SIGNATURE_SLOT.to_bytes(32, "big"))
    return {settlement: {"stateDiff": {"0x" + slot.hex(): "0x" + PRE_SIGNED.hex()}}}


def probe_order(query: QuoteQuery, result: QuoteResult, valid_to: int) -> Order:
    """The limit order (no signed fee, as cow-sdk signs) the verification auctions: the
    quoted amounts, its limit ``LIMIT_SLACK_BPS`` looser."""
    total = result.sell_amount + result.fee_amount
    sell_kind = query.side != "buyAfterFee"
    return Order(
        sell_token=query.sell_token,
        buy_token=query.buy_token,
        receiver=query.owner,
        sell_amount=total if sell_kind else total * (10_000 + LIMIT_SLACK_BPS) // 10_000,
        buy_amount=(
            max(1, result.buy_amount * (10_000 - LIMIT_SLACK_BPS) // 10_000)
            if sell_kind
            else result.buy_amount
        ),
        valid_to=valid_to,
        app_data=bytes(32),
        fee_amount=0,
        kind=OrderKind.SELL if sell_kind else OrderKind.BUY,
        partially_fillable=False,
    )


class QuoteVerifier:
    """Verifies quotes over ``auctioneer``'s market with ``engines`` of its own (the
    auctioneer's may be solving a round at the same time); one verification at a time."""

    def __init__(
        self, auctioneer: Auctioneer, engines: Sequence[Engine], *, budget_seconds: float = 2.0
    ) -> None:
        self.auctioneer = auctioneer
        self.engines = list(engines)
        self.budget = timedelta(seconds=budget_seconds)
        self._lock = asyncio.Lock()
        submitter = auctioneer.submitter.config
        self._separator = domain_separator(submitter.chain_id, submitter.settlement)

    async def __call__(self, query: QuoteQuery, result: QuoteResult) -> QuoteResult:
        """``result`` verified (with the simulated amounts), or as it is."""
        if query.owner == ZERO_ADDRESS:
            return result
        async with self._lock:
            try:
                checked = await self._settled(query, result)
            except Exception:  # a failed verification leaves the quote unverified
                log.exception("quote verification failed")
                return result
        if checked is None:
            return result
        fee = checked.trade.fee
        return QuoteResult(checked.sold - fee, checked.bought, fee, verified=True)

    async def _settled(self, query: QuoteQuery, result: QuoteResult) -> CheckedTrade | None:
        now = time.time()
        order = probe_order(query, result, int(now) + PROBE_VALIDITY)
        uid = order_uid(order_digest(self._separator, order), query.owner, order.valid_to)
        stored = StoredOrder(
            uid=uid,
            owner=query.owner,
            order=order,
            signing_scheme=SigningScheme.PRESIGN,
            signature=b"",
            order_class=OrderClass.LIMIT,
            creation_time=now,
        )
        auctioneer = self.auctioneer
        [funds] = await auctioneer.chain.funds([(query.owner, order.sell_token)])
        available = min(funds.balance, funds.allowance)
        if available < order.sell_amount:
            log.info("quote not verified: %s cannot pay %d", query.owner, order.sell_amount)
            return None
        round_ = await auctioneer.build_auction([(stored, available)], 0)
        # the engines' share starts once the liquidity is read (which can take seconds)
        due = round_.auction.with_deadline(datetime.now(UTC) + self.budget)
        solutions = await asyncio.to_thread(solve_all, self.engines, due)
        override = presign_override(auctioneer.config.settlement, uid)

        async def simulate(_: Auction, solution: Solution) -> str | None:
            calldata = self._settlement(round_, solution).calldata()
            try:
                await auctioneer.submitter.simulate(calldata, override)
            except SettlementReverted as exc:
                return exc.reason
            return None

        best: CheckedTrade | None = None
        for solution in solutions:
            if [t.order for t in solution.trades] != [uid]:
                continue
            try:
                [checked] = await verify_solution(
                    round_.auction, solution, solver="quote", simulate=simulate, now=int(now)
                )
            except SolutionRejected:
                continue
            if best is None or _better(order, checked, best):
                best = checked
        return best

    def _settlement(self, round_: BookAuction, solution: Solution) -> Settlement:
        config = self.auctioneer.config
        return settlement_of(
            solution, round_, self.auctioneer.pools, config.settlement, config.v3_router
        )


def _better(order: Order, a: CheckedTrade, b: CheckedTrade) -> bool:
    """Whether ``a`` gives the user more than ``b`` (buys more, or pays less)."""
    if order.kind is OrderKind.SELL:
        return a.bought > b.bought
    return a.sold < b.sold
