"""EBBO (CoW's CIP-52): no user gets less than our baseline route gives on the same liquidity.

CIP-52 and CoW's "EBBO specifics" take as the reference for a trade a routing of *that
trade* through base protocols and base tokens, on the liquidity of the auction, and count
the user's surplus below the reference's as a violation. Ours is ``routing.baseline``'s
route (CoW's baseline solver's: the direct pair and paths through up to two base tokens,
the best single pool per hop) on the auction's liquidity as it stands at the start of the
settlement (less the pools whose rates are broken, as every engine sees it:
``solver.engines.sanity``), for the trade's executed amount, each trade alone:

* a sell order must receive at least what the route pays for the sell amount the solution
  swaps for it (``executed``, fees excluded);
* a buy order must pay (fees excluded) at most what the route asks for its ``executed`` buy
  amount.

Every trade is held to it, coincidences of wants included (a CoW matched at a price worse
than the AMMs shorts one side just as a bad route does). A trade without a baseline route
(no path over base tokens, or one too small to fill) has no reference and passes. Fees are
outside the comparison: the solver fee of a ``limit`` order is the solver's gas estimate,
which scoring judges; the rule compares the exchange rate of what is swapped.

Each trade alone on the starting liquidity (CoW's certificate may pick any state from the
auction's start): orders that share a pool in one settlement meet it moved by each other,
so a batched solution can fall short of it for each of them. Our own engines batch so on
purpose (the checks measured shortfalls of up to 0.7% in their merged and CoW solutions,
each order still within its limit), so the auctioneer holds *external* solvers' solutions
to EBBO (``verify_solution(ebbo=True)``); the baseline engine's bid, which meets it by
construction, competes in every round.

Cost: one baseline route per trade (about a millisecond on the mainnet auction's graph,
which ``solver.engines.base.token_graph`` caches per auction).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from intents.order import OrderKind
from intents.types import OrderUid
from routing.baseline import baseline_route
from routing.pool import PoolMathError
from routing.route import NoRoute
from routing.route import OrderKind as RouteKind
from routing.sanity import DEFAULT_MAX_DEVIATION
from solver.engines.base import token_graph
from solver.engines.sanity import sane_auction
from solver.model import Auction, Executed, signed_fee


@dataclass(frozen=True, slots=True)
class Shortfall:
    """A trade worse than its baseline reference: a sell order ``got`` less than
    ``reference`` of its buy token, a buy order paid ``got`` more than ``reference`` of its
    sell token."""

    order: OrderUid
    kind: OrderKind
    got: int
    reference: int

    def describe(self) -> str:
        if self.kind is OrderKind.SELL:
            return (
                f"order 0x{self.order.hex()} receives {self.got}, the baseline route pays "
                f"{self.reference}"
            )
        return (
            f"order 0x{self.order.hex()} pays {self.got}, the baseline route asks {self.reference}"
        )


def shortfalls(auction: Auction, trades: Sequence[Executed]) -> list[Shortfall]:
    """The trades that give their users less than the baseline route would."""
    graph = token_graph(sane_auction(auction, DEFAULT_MAX_DEVIATION))
    found = []
    for checked in trades:
        order, executed = checked.order, checked.trade.executed
        kind = RouteKind.SELL if order.kind is OrderKind.SELL else RouteKind.BUY
        try:
            route = baseline_route(graph, order.sell_token, order.buy_token, executed, kind)
        except (NoRoute, PoolMathError):
            continue
        if order.kind is OrderKind.SELL:
            if checked.bought < route.amount_out:
                found.append(Shortfall(order.uid, order.kind, checked.bought, route.amount_out))
            continue
        swapped = checked.sold - checked.trade.fee - signed_fee(order, checked.trade)
        if swapped > route.amount_in:
            found.append(Shortfall(order.uid, order.kind, swapped, route.amount_in))
    return found
