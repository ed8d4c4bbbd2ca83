"""The groups the ``batch`` engine clears as coincidences of wants: every token pair with
orders both ways, and every directed three-token ring (A->B, B->C, C->A), among open orders
whose tokens have prices (scoring prices the buy token by the auction, fees need the sell
token's price)."""

from __future__ import annotations

from collections.abc import Sequence

from routing.graph import TokenGraph
from routing.pool import TokenAddress
from solver.engines.cow import Offer
from solver.fee_price import FeePrices
from solver.model import Auction, Order

Pair = tuple[TokenAddress, TokenAddress]


def cow_groups(auction: Auction, graph: TokenGraph) -> list[tuple[str, tuple[Order, ...]]]:
    """Pairs with orders both ways, then directed three-token rings, among open orders
    whose tokens have prices (scoring needs them)."""
    by_pair: dict[Pair, list[Order]] = {}
    fees = FeePrices(graph)
    for order in auction.orders:
        # scoring prices the buy token by the auction; fees need the sell token's price
        priced = bool(auction.reference_price(order.buy_token)) and bool(
            fees.price(order.sell_token, auction.reference_price(order.sell_token))
        )
        if order.remaining > 0 and priced and order.sell_token != order.buy_token:
            by_pair.setdefault((order.sell_token, order.buy_token), []).append(order)
    groups: list[tuple[str, tuple[Order, ...]]] = []
    for (a, b), forward in sorted(by_pair.items()):
        backward = by_pair.get((b, a))
        if a < b and backward:
            groups.append(("pair", (*forward, *backward)))
    successors: dict[TokenAddress, set[TokenAddress]] = {}
    for a, b in by_pair:
        successors.setdefault(a, set()).add(b)
    for a in sorted(successors):
        for b in sorted(successors[a]):
            for c in sorted(successors.get(b, ())):
                if a < b and a < c and c != a and a in successors.get(c, ()):
                    members = (*by_pair[(a, b)], *by_pair[(b, c)], *by_pair[(c, a)])
                    groups.append(("ring", members))
    return groups


def ring_order(
    offers: Sequence[Offer],
) -> tuple[TokenAddress, TokenAddress, TokenAddress] | None:
    """The ring's tokens in trading order from the smallest address (``None`` if some
    hop has no offer left)."""
    nxt = {o.sell: o.buy for o in offers}
    if len(nxt) != 3:
        return None
    a = min(nxt)
    b = nxt[a]
    return a, b, nxt[b]
