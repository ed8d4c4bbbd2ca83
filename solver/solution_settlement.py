"""The ``settle()`` call that executes a solution of the auctioneer's auction exactly: its
trades joined to the book's signed orders (``BookAuction.stored``), its legs to the chain
pools they swap through."""

from __future__ import annotations

from collections.abc import Mapping

from intents.order import OrderKind
from intents.types import Address, TokenAddress
from settlement.chain_pools import ChainPool
from settlement.encoding import Interaction, Settlement, trade_for_order
from settlement.interactions import Leg as SettlementLeg
from settlement.interactions import route_interactions
from solver.book_auction import BookAuction
from solver.model import Solution, executed_amounts


def settlement_of(
    solution: Solution,
    round_: BookAuction,
    pools: Mapping[str, ChainPool],
    settlement: Address,
    v3_router: Address | None = None,
) -> Settlement:
    """The ``settle()`` executing ``solution`` exactly: uniform clearing prices, and for a
    trade that pays a solver fee its own pair of prices (``sell: bought``, ``buy: paid``)
    so the contract charges exactly the fee-inclusive amount the solution promises.

    Every leg is encoded, internalized ones too (CoW's uninternalized calldata, which must
    succeed as well): the node's own auctions trust no token (``book_auction``), so the
    checks reject any internalized leg before a solution gets here.

    Each traded order's pre-interactions (its pre-hooks through the trampoline, on its first
    fill) run before the trades, its post-interactions after, in the order of the trades."""
    orders = {o.uid: o for o in round_.auction.orders}
    tokens = list(solution.prices)
    prices = [solution.prices[t] for t in tokens]
    index = {t: i for i, t in enumerate(tokens)}
    trades = []
    pre: list[Interaction] = []
    post: list[Interaction] = []
    for trade in solution.trades:
        order, book_order = orders[trade.order], round_.stored[trade.order]
        pre += (Interaction(i.target, i.value, i.call_data) for i in order.pre_interactions)
        post += (Interaction(i.target, i.value, i.call_data) for i in order.post_interactions)
        signed = book_order.order
        token_index = {
            signed.sell_token: index[order.sell_token],
            signed.buy_token: index[order.buy_token],
        }
        executed = trade.executed
        if trade.fee:
            sold, bought = executed_amounts(order, trade, solution.prices)
            token_index = {signed.sell_token: len(tokens), signed.buy_token: len(tokens) + 1}
            tokens += [order.sell_token, order.buy_token]
            prices += [bought, sold]
            if order.kind is OrderKind.SELL:
                executed = sold
        trades.append(
            trade_for_order(
                signed,
                token_index,
                book_order.signing_scheme,
                book_order.owner,
                book_order.signature,
                executed if signed.partially_fillable else 0,
            )
        )
    legs: list[SettlementLeg] = [
        pools[leg.pool].leg(leg.token_in, leg.token_out, leg.amount_in, leg.amount_out)
        for leg in solution.legs
    ]
    return Settlement(
        tokens=tuple(TokenAddress(t) for t in tokens),
        clearing_prices=tuple(prices),
        trades=tuple(trades),
        pre=tuple(pre),
        intra=route_interactions(legs, settlement, v3_router=v3_router),
        post=tuple(post),
    )
