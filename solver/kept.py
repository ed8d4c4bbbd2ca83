"""What a settlement keeps: no more than the fees its solution declares (issue 13).

Per token, the settlement ends with what the users pay (all fees included) and the pools
pay out, less what the users receive and the pools take in (``token_balances``).
Beyond the declared fees that is the users' value: a solver that claims a pool's exact
output and pays the user less keeps the difference in the settlement contract.

It is judged in value at the solution's uniform clearing prices, over all traded tokens
together: a coincidence of wants may hand one order's fee to the other side at the
clearing price, so the settlement holds that fee's value in another token. A token no user
trades (a route's intermediate) has no price; of it the settlement may keep only the
rounding of the legs out of it (one base unit each).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

from routing.balancer_weighted import WeightedPool
from routing.pool import Pool, PoolId, TokenAddress
from routing.route import Leg
from routing.stable import StablePool
from solver.model import Executed, signed_fee

ROUNDING_UNITS = 2
"""Base units of rounding the settlement may keep per token a trade or a leg moves, valued
at the clearing prices (``rounding_allowance``). Exact integer settlement leaves at most:

* per trade, the uniform prices' rounding: a rate rounded to integer prices costs its
  users less than a unit (``solver.merge_prices``), and orders pooled at one rate leave at
  most a unit each of the pair's two tokens (``pair_ratio``'s ``n - 1`` and ``m - 1``);
  GPv2's own rounding of each execution favours the user, so it keeps nothing;
* per leg, a unit of its input: an exact output is bought with a whole number of input
  units (``getAmountIn`` rounds up), so the route produces up to what one unit more of
  each leg's input buys; and an amount balanced by bisection on integers (a buy order's
  legs pooled with sells, a CoW's AMM-balanced price) is off by one step of its input.

A unit of a leg's input token is valued at the rate the leg pays (its average rate, at
least its marginal one on a concave curve), so a unit of a route's intermediate counts at
what it is worth there. Two units per token moved cover both kinds at once; anything
more is value the users are owed (the hostile solver of issue 13 kept 99.9994%). A leg
through a pool whose math is not exactly invertible may add ``APPROXIMATE_MATH_ERROR``.
"""
APPROXIMATE_MATH_ERROR = Fraction(1, 10**13)
"""Of the output token's balance, what one leg through a Balancer weighted or stable pool
may produce beyond what it is sized for. Their exact-output inputs come from
``calcInGivenOut``, whose fixed-point ``pow`` (relative error ``1e-14`` per call,
``routing.fixed_point.MAX_POW_RELATIVE_ERROR``, rounded in the pool's favour) or Newton
iterations err on the power of the balances' ratio: an error of about ``1e-14`` of the
balance, whatever the trade's size, twice (in given out, then out given in). Measured
(``tributary bench kept``, gen-1000-s7): the baseline's buy leg through a 60/40 weighted
pool, 0.44% of its WETH balance, produced 541,257 wei beyond the order: 5e-15 of it."""


def implied_prices(
    prices: Mapping[TokenAddress, int], legs: Sequence[Leg]
) -> dict[TokenAddress, Fraction]:
    """``prices`` and, for a token only legs move, the lowest price the legs' own rates
    give it from a priced token they swap it with (repeated along routes)."""
    found: dict[TokenAddress, Fraction] = {t: Fraction(p) for t, p in prices.items()}
    for _ in range(len(legs)):
        more: dict[TokenAddress, Fraction] = {}
        for leg in legs:
            if leg.amount_in <= 0 or leg.amount_out <= 0:
                continue
            for token, other, rate in (
                (leg.token_in, leg.token_out, Fraction(leg.amount_out, leg.amount_in)),
                (leg.token_out, leg.token_in, Fraction(leg.amount_in, leg.amount_out)),
            ):
                if token not in found and other in found:
                    value = found[other] * rate
                    more[token] = min(more.get(token, value), value)
        if not more:
            break
        found.update(more)
    return found


def _approximation(pool: Pool | None, token: TokenAddress) -> Fraction:
    """``APPROXIMATE_MATH_ERROR`` of ``token``'s balance in ``pool`` (0 for pools whose
    exact-output input is exact: Uniswap V2 and V3)."""
    if not isinstance(pool, WeightedPool | StablePool):
        return Fraction(0)
    balance = sum(t.balance for t in pool.reserves if t.address == token)
    return balance * APPROXIMATE_MATH_ERROR


def rounding_allowance(
    trades: Sequence[Executed],
    legs: Sequence[Leg],
    prices: Mapping[TokenAddress, int],
    pools: Mapping[PoolId, Pool] | None = None,
) -> Fraction:
    """What exact rounding may leave in the settlement, valued at ``prices``
    (``ROUNDING_UNITS`` per token each trade and each leg moves; with ``pools``, a leg
    through a Balancer pool also ``APPROXIMATE_MATH_ERROR`` of its output's balance)."""
    implied = implied_prices(prices, legs)
    units = Fraction(sum(prices[t.order.sell_token] + prices[t.order.buy_token] for t in trades))
    extra = Fraction(0)
    for leg in legs:
        units += implied.get(leg.token_in, 0) + implied.get(leg.token_out, 0)
        pool = None if pools is None else pools.get(leg.pool)
        extra += _approximation(pool, leg.token_out) * implied.get(leg.token_out, 0)
    return ROUNDING_UNITS * units + extra


def token_balances(
    trades: Sequence[Executed], amm_flows: Mapping[TokenAddress, int]
) -> dict[TokenAddress, int]:
    """What the settlement contract ends with per token: users' payments (all fees
    included) minus their proceeds, plus the AMM legs' net flow."""
    balance = dict(amm_flows)
    for t in trades:
        balance[t.order.sell_token] = balance.get(t.order.sell_token, 0) + t.sold
        balance[t.order.buy_token] = balance.get(t.order.buy_token, 0) - t.bought
    return balance


def declared_fees(trades: Sequence[Executed]) -> dict[TokenAddress, int]:
    """Per token, the fees the solution declares: each trade's solver fee and its share of
    the signed fee, in the order's sell token."""
    fees: dict[TokenAddress, int] = {}
    for t in trades:
        fee = t.trade.fee + signed_fee(t.order, t.trade)
        fees[t.order.sell_token] = fees.get(t.order.sell_token, 0) + fee
    return fees


def kept_beyond_fees(
    trades: Sequence[Executed], balances: Mapping[TokenAddress, int]
) -> dict[TokenAddress, int]:
    """Per token, what the settlement ends with beyond the declared fees (negative where a
    fee went to the other side of a coincidence of wants)."""
    fees = declared_fees(trades)
    return {token: amount - fees.get(token, 0) for token, amount in balances.items()}


def undeclared_surplus(
    trades: Sequence[Executed],
    balances: Mapping[TokenAddress, int],
    prices: Mapping[TokenAddress, int],
    legs: Sequence[Leg],
    pools: Mapping[PoolId, Pool] | None = None,
) -> str | None:
    """Why the settlement keeps too much (a sentence), or ``None`` if it keeps no more than
    the declared fees and exact rounding (``rounding_allowance``)."""
    stray = [
        f"{token} {amount}"
        for token, amount in balances.items()
        if token not in prices and amount > sum(leg.token_in == token for leg in legs)
    ]
    if stray:
        return "the settlement would keep tokens no user trades: " + ", ".join(sorted(stray))
    beyond = kept_beyond_fees(trades, balances)
    excess = sum(amount * prices[token] for token, amount in beyond.items() if token in prices)
    if excess <= rounding_allowance(trades, legs, prices, pools):
        return None
    received = sum(t.bought * prices[t.order.buy_token] for t in trades)
    kept = ", ".join(
        f"{token} {balances[token]} (fees {balances[token] - beyond[token]})"
        for token in sorted(balances)
        if token in prices and beyond[token] > 0
    )
    return (
        f"the settlement would keep {float(excess / max(received, 1)):.3g} of what its users "
        f"receive beyond the declared fees and rounding (at the clearing prices): {kept}"
    )
