"""Protocol fees applied by the node to the solutions it settles, as CoW's driver applies
them (``crates/driver/src/domain/competition/solution/fee.rs``): solvers need not know.

An order's policies are applied one after the other, in the order the order lists them
(the node's protocol policies first, then the partner fees of its app data). Each policy's
fee is computed in the *surplus token* (the buy token of a sell order, the sell token of a
buy order) on the trade as the policies before it left it, at the solution's uniform
clearing prices ``p_sell``/``p_buy``, with the trade's executed amount ``e`` and its fee
``f`` (sell token, the solver's fee plus the protocol fees so far):

* volume (buy token of a sell order: ``ceil(e * p_sell / p_buy)``; sell token of a buy
  order: ``floor(e * p_buy / p_sell) + f``) times the factor;
* surplus over the limit ``(sell, buy)``: a sell order gets
  ``ceil(e * p_sell / p_buy) - ceil(buy * (e + f) / sell)``, a buy order pays
  ``floor(sell * e / buy) - (floor(e * p_buy / p_sell) + f)`` less than its limit (never
  below 0); the fee is ``min(factor x surplus, max_volume_factor x volume)``;
* price improvement: the surplus over the limit moved to the quote's price
  (``quote_limits``, CoW's ``adjust_quote_to_order_limits``), capped likewise.

``x factor`` is CoW's ``U256::checked_mul_f64``: ``amount * trunc(factor * 1e18) // 1e18``
(``mul_f64``), so float factors give CoW's integers exactly. The fee in the sell token is
the surplus-token fee for a buy order and ``floor(fee * p_buy / p_sell)`` for a sell order
(every division rounds down: the user's favour). It is added to the trade's fee, and a sell
order's executed amount shrinks by it; the settlement then charges the fee-inclusive amounts
through the trade's own clearing prices (``solver.solution_settlement``) and keeps the fee
in its buffers: sell token from a buy order, buy token from a sell order (what the user no
longer receives). ``FeeCharge`` records exactly what each policy left in the settlement.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass

from intents.order import OrderKind
from intents.types import Address
from routing.full_math import div_rounding_up
from routing.pool import TokenAddress
from solver.errors import SolverError
from solver.model import (
    Auction,
    FeeCharge,
    FeePolicy,
    Order,
    PriceImprovementFee,
    Quote,
    Solution,
    SurplusFee,
    Trade,
    VolumeFee,
)

WAD = 10**18


class FeeError(SolverError, ValueError):
    """A fee policy cannot be applied; ``code`` is machine-readable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def mul_f64(amount: int, factor: float) -> int:
    """CoW's ``U256::checked_mul_f64``: ``amount * trunc(factor * 1e18) // 1e18``."""
    if not math.isfinite(factor) or factor < 0:
        raise FeeError("InvalidFeePolicy", f"fee factor {factor} is not a finite >= 0")
    if factor == 1.0:
        return amount
    return amount * int(factor * 1e18) // WAD


def quote_limits(order: Order, quote: Quote) -> tuple[int, int]:
    """The limit (sell, buy) a price-improvement fee measures against: the order's own
    limit moved to the quote's price where the quote is better (CoW's
    ``adjust_quote_to_order_limits``). A quote with a zero amount (CoW's stand-in for an
    order without a quote: its sell amount for nothing) leaves the order's own limit."""
    if not quote.sell_amount or not quote.buy_amount:
        return order.signed_sell_amount, order.signed_buy_amount
    if order.kind is OrderKind.SELL:
        quote_buy = quote.buy_amount - quote.fee * quote.buy_amount // quote.sell_amount
        if quote_buy < 0:
            raise FeeError("InvalidFeePolicy", "the quote's fee exceeds its sell amount")
        scaled = quote_buy * order.signed_sell_amount // quote.sell_amount
        return order.signed_sell_amount, max(order.signed_buy_amount, scaled)
    scaled = (quote.sell_amount + quote.fee) * order.signed_buy_amount // quote.buy_amount
    return min(order.signed_sell_amount, scaled), order.signed_buy_amount


@dataclass(frozen=True, slots=True)
class _Fill:
    """A trade at uniform prices: ``executed`` in the order's unit, ``fee`` in sell token."""

    order: Order
    executed: int
    fee: int
    p_sell: int
    p_buy: int

    @property
    def is_sell(self) -> bool:
        return self.order.kind is OrderKind.SELL

    def bought(self) -> int:
        if self.is_sell:
            return div_rounding_up(self.executed * self.p_sell, self.p_buy)
        return self.executed

    def sold(self) -> int:
        if self.is_sell:
            return self.executed + self.fee
        return self.executed * self.p_buy // self.p_sell + self.fee

    def volume(self) -> int:
        return self.bought() if self.is_sell else self.sold()

    def surplus_over(self, limit_sell: int, limit_buy: int) -> int:
        if self.is_sell:
            return max(0, self.bought() - div_rounding_up(limit_buy * self.sold(), limit_sell))
        return max(0, limit_sell * self.executed // limit_buy - self.sold())

    def capped(self, limits: tuple[int, int], factor: float, max_volume_factor: float) -> int:
        return min(
            mul_f64(self.surplus_over(*limits), factor), mul_f64(self.volume(), max_volume_factor)
        )

    def policy_fee(self, policy: FeePolicy) -> int:
        """The policy's fee in the surplus token."""
        if isinstance(policy, VolumeFee):
            return mul_f64(self.volume(), policy.factor)
        order = self.order
        if isinstance(policy, SurplusFee):
            limits = (order.signed_sell_amount, order.signed_buy_amount)
            return self.capped(limits, policy.factor, policy.max_volume_factor)
        assert isinstance(policy, PriceImprovementFee)
        return self.capped(
            quote_limits(order, policy.quote), policy.factor, policy.max_volume_factor
        )

    def charged(self, policy: FeePolicy) -> _Fill:
        """The fill with the policy's fee taken (CoW's ``with_protocol_fee``)."""
        fee = self.policy_fee(policy)
        in_sell = fee * self.p_buy // self.p_sell if self.is_sell else fee
        executed = self.executed - in_sell if self.is_sell else self.executed
        if executed < 0:
            raise FeeError(
                "ProtocolFeeExceedsTrade",
                f"order 0x{self.order.uid.hex()}: a protocol fee of {in_sell} exceeds its trade",
            )
        return dataclasses.replace(self, executed=executed, fee=self.fee + in_sell)


def charge_trade(
    order: Order, trade: Trade, prices: Mapping[TokenAddress, int]
) -> tuple[Trade, tuple[FeeCharge, ...]]:
    """``trade`` with every fee policy of ``order`` applied, and what each left in the
    settlement (in the surplus token; policies without a recipient are charged but owed to
    nobody, and recorded as owed to the zero address)."""
    fill = _Fill(
        order, trade.executed, trade.fee, prices[order.sell_token], prices[order.buy_token]
    )
    charges = []
    for policy in order.fee_policies:
        after = fill.charged(policy)
        if fill.is_sell:
            token, amount = order.buy_token, fill.bought() - after.bought()
        else:
            token, amount = order.sell_token, after.fee - fill.fee
        recipient = policy.recipient or Address("0x" + "00" * 20)
        charges.append(FeeCharge(order.uid, recipient, token, amount, policy))
        fill = after
    return dataclasses.replace(trade, executed=fill.executed, fee=fill.fee), tuple(charges)


def charge_solution(auction: Auction, solution: Solution) -> Solution:
    """``solution`` with the protocol fees of its orders applied (its ``charges`` say what
    each policy left in the settlement); unchanged when no traded order has a policy.
    Raises ``FeeError`` when a fee cannot be taken."""
    orders = {o.uid: o for o in auction.orders}
    if not any(orders[t.order].fee_policies for t in solution.trades if t.order in orders):
        return solution
    trades: list[Trade] = []
    charges: list[FeeCharge] = []
    for trade in solution.trades:
        order = orders.get(trade.order)
        if order is None or not order.fee_policies:
            trades.append(trade)
            continue
        charged, taken = charge_trade(order, trade, solution.prices)
        trades.append(charged)
        charges += taken
    return dataclasses.replace(solution, trades=tuple(trades), charges=tuple(charges))
