"""The auctioneer's rounds as the API's ``/api/v1/rounds`` shows them
(``intents.http.rounds``): every solution with its outcome and the reason for it, its
trades and its route, and the symbol and decimals of each token (read once from the
chain's ERC-20 ``symbol()`` and ``decimals()``).

``RoundRecorder`` writes each round into the order book when it ends
(``Auctioneer.on_round``), so the API reads them in whichever process serves it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping

from eth_abi.abi import decode
from eth_abi.exceptions import DecodingError

from intents.http.rounds import (
    Outcome,
    Round,
    RoundLeg,
    RoundSolution,
    RoundToken,
    RoundTrade,
)
from intents.round_records import RoundRecords
from intents.wire import U256, encode, to_hex
from settlement.chain_pools import ChainPool
from settlement.jsonrpc import BatchingRpcClient, ChainReadError
from settlement.submitter import Outcome as Sent
from settlement.submitter import Submission
from solver.auctioneer import PAUSED, RoundReport
from solver.competition import Bid, Ranking
from solver.model import Auction, Solution, executed_amounts

_SYMBOL, _DECIMALS = "0x95d89b41", "0x313ce567"
Names = Mapping[str, RoundToken]


class TokenDirectory:
    """Symbol and decimals per token, read from the chain once (``None`` where the token
    does not answer them)."""

    def __init__(self, rpc: BatchingRpcClient) -> None:
        self.rpc = rpc
        self._known: dict[str, RoundToken] = {}

    async def _read(self, token: str, selector: str, type_: str) -> object:
        try:
            raw = await self.rpc.call("eth_call", [{"to": token, "data": selector}, "latest"])
            return decode([type_], bytes.fromhex(str(raw)[2:]))[0]
        except (ChainReadError, DecodingError, ValueError, OverflowError):
            return None

    async def _token(self, token: str) -> RoundToken:
        symbol, decimals = await asyncio.gather(
            self._read(token, _SYMBOL, "string"), self._read(token, _DECIMALS, "uint8")
        )
        return RoundToken(
            symbol if isinstance(symbol, str) and symbol else None,
            decimals if isinstance(decimals, int) else None,
        )

    async def names(self, tokens: Iterable[str]) -> dict[str, RoundToken]:
        wanted = sorted(set(tokens))
        missing = [t for t in wanted if t not in self._known]
        found_all = await asyncio.gather(*map(self._token, missing))
        for token, found in zip(missing, found_all, strict=True):
            if found.symbol is not None or found.decimals is not None:
                self._known[token] = found  # a token that did not answer is asked again
        return {t: self._known.get(t, RoundToken(None, None)) for t in wanted}


def _eth(wei: int) -> str:
    return f"{wei / 10**18:.6g} ETH"


def _pair(pair: tuple[str, str], names: Names) -> str:
    sell, buy = (names[t].symbol if t in names and names[t].symbol else t for t in pair)
    return f"{sell}→{buy}"


def _lost(bid: Bid[Solution], ranking: Ranking[Solution], names: Names) -> tuple[Outcome, str]:
    """Why a bid that did not win lost."""
    if any(b is bid for b in ranking.unscored):
        return Outcome.UNSCORED, "it settles no order that counts for the score"
    if any(b is bid for b in ranking.unfair):
        for pair, score in bid.scores.items():
            reference = ranking.reference_scores.get(pair, 0)
            if score < reference:
                return Outcome.UNFAIR, (
                    f"batched, it scores {_eth(score)} on {_pair(pair, names)}, less than that "
                    f"pair's best single-pair bid ({_eth(reference)}): no order may do worse in "
                    "a batch than alone (CIP-67)"
                )
        return Outcome.UNFAIR, "batched, one of its pairs scores below its reference (CIP-67)"
    for winner in ranking.winners:
        shared = sorted(bid.pairs & winner.pairs)
        if shared:
            return Outcome.OUTBID, (
                f"outbid on {', '.join(_pair(p, names) for p in shared)}: "
                f"{winner.solver}#{winner.solution_id} scored {_eth(winner.score)}, "
                f"this {_eth(bid.score)}"
            )
        if bid.pools & winner.pools:
            return Outcome.OUTBID, (
                f"{winner.solver}#{winner.solution_id} (score {_eth(winner.score)}) swaps its "
                "pool(s) first: settled after it, this one would revert"
            )
    return Outcome.OUTBID, f"not among the {len(ranking.winners)} winner(s) picked"


def _won(bid: Bid[Solution], report: RoundReport) -> tuple[Outcome, str, Submission | None]:
    for dropped, why in report.dropped:
        if dropped is bid:
            why = f"won, not sent: after the earlier winners it would revert ({why})"
            return Outcome.DROPPED, why, None
    for sent, submission in report.submissions:
        if sent is bid:
            outcome = Outcome(str(submission.outcome or Sent.CANCELLED))
            return (
                outcome,
                {
                    Outcome.SETTLED: f"won with {_eth(bid.score)} and settled",
                    Outcome.REVERTED: "won, but its transaction reverted on chain",
                    Outcome.CANCELLED: "won, but was not mined by its deadline block: cancelled",
                }[outcome],
                submission,
            )
    return Outcome.CANCELLED, "won, not sent: this node no longer led the auctions", None


def _trades(solution: Solution, auction: Auction) -> list[RoundTrade]:
    orders = {o.uid: o for o in auction.orders}
    found = []
    for trade in solution.trades:
        order = orders.get(trade.order)
        if order is not None:
            sold, bought = executed_amounts(order, trade, solution.prices)
            found.append(
                RoundTrade(to_hex(order.uid), order.sell_token, order.buy_token, U256(sold),
                           U256(bought))
            )  # fmt: skip
    return found


def _legs(solution: Solution, pools: Mapping[str, ChainPool]) -> list[RoundLeg]:
    legs = []
    for i, leg in enumerate(solution.legs):
        pool = pools.get(leg.pool)
        legs.append(
            RoundLeg(
                pool=leg.pool,
                address=pool.address if pool else None,
                kind=str(pool.kind) if pool else None,
                token_in=leg.token_in,
                token_out=leg.token_out,
                amount_in=U256(leg.amount_in),
                amount_out=U256(leg.amount_out),
                internalized=i in solution.internalized,
            )
        )
    return legs


def _solution(
    bid: Bid[Solution],
    ranking_: int,
    report: RoundReport,
    ranking: Ranking[Solution],
    pools: Mapping[str, ChainPool],
    names: Names,
) -> RoundSolution:
    assert report.auction is not None
    submission = None
    if any(w is bid for w in ranking.winners):
        outcome, reason, submission = _won(bid, report)
    else:
        outcome, reason = _lost(bid, ranking, names)
    mined = submission.mined if submission is not None else None
    return RoundSolution(
        solver=bid.solver,
        solution_id=bid.solution_id,
        ranking=ranking_,
        score=U256(bid.score),
        outcome=outcome,
        reason=reason,
        code=None,
        gas=bid.solution.gas,
        tx_hash=to_hex(mined.tx_hash) if mined is not None else None,
        block_number=submission.block_number if submission is not None else None,
        gas_used=submission.gas_used if submission is not None else None,
        trades=_trades(bid.solution, report.auction),
        legs=_legs(bid.solution, pools),
    )


def _rejected(solver: str, solution_id: int, code: str, why: str) -> RoundSolution:
    return RoundSolution(
        solver=solver, solution_id=solution_id, ranking=None, score=None,
        outcome=Outcome.REJECTED, reason=why, code=code, gas=0, tx_hash=None,
        block_number=None, gas_used=None, trades=[], legs=[],
    )  # fmt: skip


def _uids(auction: Auction) -> list[str]:
    return [to_hex(o.uid) for o in auction.orders]


def _tokens(report: RoundReport) -> set[str]:
    tokens: set[str] = set()
    if report.auction is not None:
        for order in report.auction.orders:
            tokens |= {order.sell_token, order.buy_token}
    if report.ranking is not None:
        for bid in report.ranking.ranked + report.ranking.unfair + report.ranking.unscored:
            tokens |= {t for leg in bid.solution.legs for t in (leg.token_in, leg.token_out)}
    return tokens


def round_view(report: RoundReport, pools: Mapping[str, ChainPool], names: Names) -> Round:
    """The API's view of one round; ``names``: the tokens' symbols and decimals."""
    solutions = []
    ranking = report.ranking
    if ranking is not None:
        ranked = (*ranking.ranked, *ranking.unfair, *ranking.unscored)  # CoW's ``ranking``
        solutions = [
            _solution(bid, n, report, ranking, pools, names) for n, bid in enumerate(ranked, 1)
        ]
    solutions += [_rejected(*rejected) for rejected in report.rejected]
    auction = report.auction
    return Round(
        auction_id=report.auction_id,
        deadline=auction.deadline.isoformat() if auction is not None else None,
        orders=_uids(auction) if auction is not None else [],
        unfunded=[to_hex(u) for u in report.unfunded],
        error=report.error,
        tokens={t: names[t] for t in sorted(_tokens(report)) if t in names},
        solutions=solutions,
    )


class RoundRecorder:
    """Writes each round into the order book (``OrderBook.record_round``) as
    ``/api/v1/rounds`` shows it: those that built an auction or failed (not the idle and
    the paused ones)."""

    def __init__(
        self, rpc: BatchingRpcClient, book: RoundRecords, pools: Mapping[str, ChainPool]
    ) -> None:
        self.tokens = TokenDirectory(rpc)
        self.book = book
        self.pools = pools

    async def record(self, report: RoundReport) -> None:
        if report.auction is None and report.error in (None, PAUSED):
            return
        view = round_view(report, self.pools, await self.tokens.names(_tokens(report)))
        uids = [o.uid for o in report.auction.orders] if report.auction is not None else []
        await self.book.record_round(report.auction_id, uids, encode(view))
