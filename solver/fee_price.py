"""The price a solver fee is charged at: the sell token's native price.

A ``limit`` order pays the gas of its trade in its sell token, so the fee needs the sell
token's price in native wei per ``10**18`` base units (CoW's ``referencePrice``). Tokens
without one reach solvers mainly in quote requests. As CoW's baseline solver does
(``domain/solver/baseline.rs``): the auction's reference price when there is one, ``10**18``
for the wrapped native token itself, else the price of a fixed-size swap routed on the
baseline's paths — buy ``NATIVE_PRICE_PROBE`` wei of the wrapped native token with the sell
token, at ``probe * 10**18 / input`` (rounded up: a higher price is a lower fee). When no
route reaches the native token the fee is waived (``WAIVED``: CoW prices the token at
``U256::MAX``, so the fee rounds to 0); a price below one wei per ``10**18`` units has no
fee to charge and the order gets no answer (CoW skips it).
"""

from __future__ import annotations

from routing.baseline import WETH, baseline_route
from routing.graph import TokenGraph
from routing.pool import TokenAddress
from routing.route import NoRoute, OrderKind

PRICE_BASE = 10**18
NATIVE_PRICE_PROBE = 10**17
"""Wei of the native token bought to price a token (CoW's example baseline configuration,
``native-token-price-estimation-amount = "100000000000000000"``)."""
MAX_PROBE_INPUT = 2**144
"""CoW's sell limit on the probe (Uniswap V2 reserves are 112-bit)."""
WAIVED = 2**256 - 1
"""The price of a token no route prices: any gas fee in it rounds down to 0."""


def fee_price(
    graph: TokenGraph,
    token: TokenAddress,
    reference: int | None = None,
    native: TokenAddress = WETH,
) -> int | None:
    """``token``'s price for the fee (native wei per ``10**18`` base units): ``reference``,
    else the graph's, else the native swap's; ``WAIVED`` when no route prices it, ``None``
    when the swap prices it below one wei."""
    known = reference or graph.prices.get(token)
    if known:
        return known
    if token == native:
        return PRICE_BASE
    try:
        route = baseline_route(graph, token, native, NATIVE_PRICE_PROBE, OrderKind.BUY)
    except NoRoute:
        return WAIVED
    if route.amount_in > MAX_PROBE_INPUT:
        return WAIVED
    if route.amount_in > NATIVE_PRICE_PROBE * PRICE_BASE:
        return None
    return -(-NATIVE_PRICE_PROBE * PRICE_BASE // route.amount_in)


class FeePrices:
    """``fee_price`` over one graph, each token's swap routed once."""

    def __init__(self, graph: TokenGraph, native: TokenAddress = WETH) -> None:
        self.graph = graph
        self.native = native
        self._routed: dict[TokenAddress, int | None] = {}

    def price(self, token: TokenAddress, reference: int | None = None) -> int | None:
        if reference or self.graph.prices.get(token):
            return fee_price(self.graph, token, reference, self.native)
        if token not in self._routed:
            self._routed[token] = fee_price(self.graph, token, None, self.native)
        return self._routed[token]
