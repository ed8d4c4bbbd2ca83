"""Uniform clearing prices of a merged solution (``solver.merge``), in exact integers.

The orders of one directed pair (sell token ``A``, buy token ``B``) in a merged solution all
trade at one rate ``q = price[A] / price[B]``; their routes' legs, replayed in order, take
in ``A`` and produce ``B``. ``pair_ratio`` is the best rate for the users at which the
settlement still pays out no more than the legs produce, after GPv2's rounding
(``solver.model.trade_execution``): a sell order of ``x`` receives ``ceil(x * q)``, a buy
order of ``y`` pays ``floor(y / q)``. Both conditions bound ``q`` from above:

* the buy token: ``sum ceil(x_i * q) + sum y_j <= produced``; ``sum ceil(x_i q) <
  q * sum x_i + n`` for ``n`` sell orders, so ``q <= (produced - sum y_j - (n - 1)) /
  sum x_i`` is enough (exact for one order);
* the sell token, for buy orders whose legs take in ``spent`` of ``A``: ``sum floor(y_j /
  q) >= spent`` holds when ``q <= sum y_j / (spent + m - 1)`` for ``m`` buy orders.

Sell orders' legs take in exactly what they sell, so only buy orders bound the sell token.

``component_prices`` turns per-pair rates into one price per token over a tree of pairs (a
merged solution's token graph is a forest: on a cycle, independently routed legs cannot
share uniform prices), rooted at a coincidence of wants whose own prices it keeps (scaled by
an integer) or at its smallest token. Each child's price is rounded from its parent's the
way that keeps the pair's rate at or below its bound, with every price at least
``2**bits`` so the rounding costs no user a base unit (``bits`` above the largest amount).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from intents.order import OrderKind
from routing.pool import TokenAddress

Pair = tuple[TokenAddress, TokenAddress]


@dataclass(frozen=True, slots=True)
class PairFlow:
    """One order's part of a pair: its kind and executed amount (sell token for sell
    orders, buy token for buy orders), what its legs take in of the sell token and
    produce of the buy token."""

    kind: OrderKind
    executed: int
    spent: int
    produced: int


def pair_bounds(flows: Iterable[PairFlow]) -> tuple[Fraction | None, Fraction | None]:
    """The two upper bounds on ``price[sell] / price[buy]`` (see the module docstring):
    the buy token's (without sell orders ``None``, or 0 if the legs produce less than the
    buy orders receive) and the sell token's (``None`` without buy orders, 0 if their legs
    take in nothing). A bound of 0 or below: no rate pays."""
    found = list(flows)
    sells = [f for f in found if f.kind is OrderKind.SELL]
    buys = [f for f in found if f.kind is OrderKind.BUY]
    produced = sum(f.produced for f in found)
    bought = sum(f.executed for f in buys)
    buy_token = sell_token = None
    if sells:
        left = produced - bought - (len(sells) - 1)
        buy_token = Fraction(left, sum(f.executed for f in sells))
    elif bought > produced:
        buy_token = Fraction(0)
    if buys:
        spent = sum(f.spent for f in buys) + len(buys) - 1
        sell_token = Fraction(bought, spent) if spent > 0 else Fraction(0)
    return buy_token, sell_token


def pair_ratio(flows: Iterable[PairFlow]) -> Fraction | None:
    """The largest ``price[sell] / price[buy]`` at which the pair's orders are paid out of
    what their legs produce (see the module docstring); ``None`` if there is none."""
    bounds = [b for b in pair_bounds(flows) if b is not None]
    if not bounds or min(bounds) <= 0:
        return None
    return min(bounds)


def balance_gap(flows: Iterable[PairFlow]) -> Fraction:
    """How far the pair's legs are from paying its orders exactly at one rate, when it has
    buy orders (whose legs' input may be scaled, ``solver.merge``): with sell orders too,
    the buy token's bound less the sell token's; else what the legs produce less what the
    buy orders receive. Negative: the legs pay too little; positive: at ``pair_ratio``'s
    rate the settlement keeps the difference (0 for sell orders alone, priced exactly)."""
    found = list(flows)
    buy_token, sell_token = pair_bounds(found)
    if sell_token is None:
        return Fraction(0)
    if not any(f.kind is OrderKind.SELL for f in found):
        return Fraction(sum(f.produced for f in found) - sum(f.executed for f in found))
    assert buy_token is not None
    return buy_token - sell_token


def _adjacency(
    edges: Mapping[Pair, Fraction],
) -> dict[TokenAddress, list[tuple[Pair, TokenAddress]]]:
    near: dict[TokenAddress, list[tuple[Pair, TokenAddress]]] = {}
    for pair in sorted(edges):
        sell, buy = pair
        near.setdefault(sell, []).append((pair, buy))
        near.setdefault(buy, []).append((pair, sell))
    return near


def _walk(
    roots: Sequence[TokenAddress], edges: Mapping[Pair, Fraction]
) -> list[tuple[Pair, TokenAddress, TokenAddress]]:
    """Breadth-first ``(pair, parent, child)`` steps from ``roots``; raises ``ValueError``
    on a cycle."""
    near = _adjacency(edges)
    seen = set(roots)
    steps = []
    queue = list(roots)
    used: set[Pair] = set()
    while queue:
        token = queue.pop(0)
        for pair, other in near.get(token, ()):
            if pair in used:
                continue
            used.add(pair)
            if other in seen:
                raise ValueError(f"the pairs form a cycle through {other}")
            seen.add(other)
            steps.append((pair, token, other))
            queue.append(other)
    return steps


def _log2(value: Fraction) -> float:
    return math.log2(value.numerator) - math.log2(value.denominator)


def component_prices(
    edges: Mapping[Pair, Fraction],
    anchor: Mapping[TokenAddress, int] | None,
    root: TokenAddress,
    bits: int,
) -> dict[TokenAddress, int]:
    """Integer prices for the tokens connected by ``edges`` (pair -> the largest allowed
    ``price[sell] / price[buy]``), the pairs a tree once ``anchor``'s tokens are taken as
    one (its prices kept up to an integer factor; without one, ``root`` is the root), every
    price at least ``2**bits``. Raises ``ValueError`` on a cycle."""
    roots = sorted(anchor) if anchor else [root]
    steps = _walk(roots, edges)
    logs = {t: math.log2(anchor[t]) for t in roots} if anchor else {root: 0.0}
    for pair, parent, child in steps:
        log_rate = _log2(edges[pair])  # log2(price[sell] / price[buy])
        logs[child] = logs[parent] + (-log_rate if parent == pair[0] else log_rate)
    shift = max(0, math.ceil(bits - min(logs.values())) + 1)
    prices = {t: anchor[t] << shift for t in roots} if anchor else {root: 1 << shift}
    for pair, parent, child in steps:
        rate = edges[pair]
        if parent == pair[0]:  # price[buy] >= price[sell] / rate, rounded up
            prices[child] = -(-prices[parent] * rate.denominator // rate.numerator)
        else:  # price[sell] <= price[buy] * rate, rounded down
            prices[child] = prices[parent] * rate.numerator // rate.denominator
    return prices
