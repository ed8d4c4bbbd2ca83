"""A solution's score as CoW computes it (CIP-38, CIP-65): surplus over the limit price plus
protocol fees, in native-token wei via the auction's reference prices, exact integers.

Per executed order, from what the user pays ``sold`` (sell token, solver fee included) and gets
``bought`` (buy token), against the signed limit ``sell_amount``/``buy_amount``
(``Order.signed_sell_amount``/``signed_buy_amount``):

* sell order: ``surplus = bought - ceil(sold * buy_amount / sell_amount)`` in the buy token,
  worth ``surplus * ref(buy) // 10**18`` wei;
* buy order: ``surplus = floor(sell_amount * bought / buy_amount) - sold`` in the sell
  token, converted to the buy token at the order's limit rate (``surplus * buy_amount //
  sell_amount``) and then priced with ``ref(buy)``, as CoW does (only the buy token's
  reference price is ever needed).

A reference price is CoW's ``referencePrice``: native wei for ``10**18`` base units of the
token. The solver's own fee on a limit order is part of what the user pays, so it lowers the
surplus and is not added back (CIP-38). Protocol fees are added back: an order that came
with fee policies (surplus, price improvement, volume) has each policy's fee computed on
the executed amounts, last policy first, with the driver's custom clearing prices and its
``U256 x f64`` multiplication (``amount * trunc(factor * 1e18) // 1e18``), so the factors'
float arithmetic matches CoW's bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from intents.order import OrderKind
from routing.full_math import div_rounding_up
from solver.checks import CheckedTrade
from solver.competition import Bid, Pair
from solver.errors import SolverError
from solver.model import (
    Auction,
    FeePolicy,
    Order,
    PriceImprovementFee,
    Solution,
    SurplusFee,
    VolumeFee,
)
from solver.protocol_fee import mul_f64, quote_limits

PRICE_BASE = 10**18
"""Reference prices are quoted for ``10**18`` base units."""


class ScoringError(SolverError, ValueError):
    """A score cannot be computed; ``code`` is machine-readable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _surplus_over(order: Order, sold: int, bought: int, limit_sell: int, limit_buy: int) -> int:
    """Surplus of paying ``sold`` for ``bought`` over the limit ``limit_sell``/``limit_buy``
    (negative when worse), rounded as CoW's driver rounds."""
    if order.kind is OrderKind.SELL:
        return bought - div_rounding_up(sold * limit_buy, limit_sell)
    return limit_sell * bought // limit_buy - sold


def surplus(order: Order, sold: int, bought: int) -> int:
    """Surplus over the limit price in the surplus token (buy token of a sell order, sell
    token of a buy order); raises ``ScoringError`` when the limit price is violated."""
    value = _surplus_over(order, sold, bought, order.signed_sell_amount, order.signed_buy_amount)
    if value < 0:
        raise ScoringError(
            "LimitPriceViolated",
            f"order 0x{order.uid.hex()} pays {sold} for {bought}, beyond its limit",
        )
    return value


def _policy_fee(order: Order, policy: FeePolicy, sold: int, bought: int) -> int:
    """One policy's fee, in the surplus token, for a trade that paid ``sold`` (sell token)
    for ``bought`` (the custom clearing prices after the fees counted so far)."""
    is_sell = order.kind is OrderKind.SELL
    volume = bought if is_sell else sold

    def volume_fee(factor: float) -> int:
        return mul_f64(volume, factor / (1.0 - factor) if is_sell else factor / (1.0 + factor))

    if isinstance(policy, VolumeFee):
        return volume_fee(policy.factor)
    if isinstance(policy, SurplusFee):
        gained = _surplus_over(
            order, sold, bought, order.signed_sell_amount, order.signed_buy_amount
        )
        if gained < 0:
            raise ScoringError("LimitPriceViolated", "negative surplus under a fee policy")
        factor = policy.factor
        return min(mul_f64(gained, factor / (1.0 - factor)), volume_fee(policy.max_volume_factor))
    return _price_improvement_fee(order, policy, sold, bought, volume_fee)


def _price_improvement_fee(
    order: Order,
    improvement: PriceImprovementFee,
    sold: int,
    bought: int,
    volume_fee: Callable[[float], int],
) -> int:
    limit_sell, limit_buy = quote_limits(order, improvement.quote)
    gained = max(0, _surplus_over(order, sold, bought, limit_sell, limit_buy))
    return min(
        mul_f64(gained, improvement.factor / (1.0 - improvement.factor)),
        volume_fee(improvement.max_volume_factor),
    )


def protocol_fees(order: Order, sold: int, bought: int) -> int:
    """The protocol fees of the order's policies in the surplus token: the last policy is
    applied first, each on the trade as it was before the fees counted so far."""
    total = 0
    for policy in reversed(order.fee_policies):
        if order.kind is OrderKind.SELL:
            total += _policy_fee(order, policy, sold, bought + total)
        else:
            total += _policy_fee(order, policy, sold - total, bought)
    return total


def native_value(amount: int, reference_price: int) -> int:
    """``amount`` base units of a token worth ``reference_price`` (wei per 1e18 units)."""
    return amount * reference_price // PRICE_BASE


def order_score(order: Order, sold: int, bought: int, auction: Auction) -> int:
    """The order's contribution to the score, in native wei."""
    price = auction.reference_price(order.buy_token)
    if not price:
        raise ScoringError(
            "MissingReferencePrice",
            f"no reference price for {order.buy_token}, bought by order 0x{order.uid.hex()}",
        )
    value = surplus(order, sold, bought) + protocol_fees(order, sold, bought)
    if order.kind is OrderKind.BUY:
        value = value * order.signed_buy_amount // order.signed_sell_amount
    return native_value(value, price)


@dataclass(frozen=True, slots=True)
class SolutionScore:
    """A solution's score in native wei, in total and per directed (sell, buy) pair."""

    total: int
    by_pair: Mapping[Pair, int]


def score_trades(trades: Iterable[CheckedTrade], auction: Auction) -> SolutionScore:
    """Score checked trades (``solver.checks.check_solution``'s result)."""
    by_pair: dict[Pair, int] = {}
    for t in trades:
        pair = (t.order.sell_token, t.order.buy_token)
        by_pair[pair] = by_pair.get(pair, 0) + order_score(t.order, t.paid, t.bought, auction)
    return SolutionScore(total=sum(by_pair.values()), by_pair=by_pair)


def bid(
    solver: str, solution: Solution, trades: Iterable[CheckedTrade], auction: Auction
) -> Bid[Solution]:
    """The competition bid of a checked solution."""
    score = score_trades(trades, auction)
    return Bid(
        solver=solver,
        solution_id=solution.id,
        solution=solution,
        scores=score.by_pair,
        pairs=frozenset(score.by_pair),
        pools=frozenset(
            str(leg.pool)
            for index, leg in enumerate(solution.legs)
            if index not in solution.internalized
        ),
    )
