"""What a settlement keeps: no more than the fees its solution declares (issue 13).

Per token, the settlement ends with what the users pay (all fees included) and the pools
pay out, less what the users receive and the pools take in (``solver.checks.token_balances``).
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

from routing.pool import TokenAddress
from routing.route import Leg
from solver.model import Executed, signed_fee

KEPT_TOLERANCE = Fraction(1, 100)
"""What the settlement may keep beyond the declared fees, valued at the clearing prices, as
a share of what its users receive. Our own engines keep dust: uniform prices found by
bisection or snapped to simple ratios keep up to ~1e-4 in the batch engine's CoWs, and a
merged solution whose orders share a pool up to 0.2% (``tests/solver/test_merge.py``: a
sell and a buy order on one V2 pair). 1% admits those and rejects a solver keeping what it
owes its users (the hostile one of issue 13 kept 99.9994%); shortfalls below it are EBBO's
to catch (``solver.ebbo``, for external solvers)."""


def declared_fees(trades: Sequence[Executed]) -> dict[TokenAddress, int]:
    """Per token, the fees the solution declares: each trade's solver fee and its share of
    the signed fee, in the order's sell token."""
    fees: dict[TokenAddress, int] = {}
    for t in trades:
        fee = t.trade.fee + signed_fee(t.order, t.trade)
        fees[t.order.sell_token] = fees.get(t.order.sell_token, 0) + fee
    return fees


def undeclared_surplus(
    trades: Sequence[Executed],
    balances: Mapping[TokenAddress, int],
    prices: Mapping[TokenAddress, int],
    legs: Sequence[Leg],
) -> str | None:
    """Why the settlement keeps too much (a sentence), or ``None`` if it keeps no more than
    the declared fees (within ``KEPT_TOLERANCE``)."""
    stray = [
        f"{token} {amount}"
        for token, amount in balances.items()
        if token not in prices and amount > sum(leg.token_in == token for leg in legs)
    ]
    if stray:
        return "the settlement would keep tokens no user trades: " + ", ".join(sorted(stray))
    fees = declared_fees(trades)
    excess = sum(
        (amount - fees.get(token, 0)) * prices[token]
        for token, amount in balances.items()
        if token in prices
    )
    received = sum(t.bought * prices[t.order.buy_token] for t in trades)
    if excess <= received * KEPT_TOLERANCE:
        return None
    kept = ", ".join(
        f"{token} {balances[token]} (fees {fees.get(token, 0)})"
        for token in sorted(balances)
        if token in prices and balances[token] > fees.get(token, 0)
    )
    return (
        f"the settlement would keep {float(excess / max(received, 1)):.3%} of what its users "
        f"receive beyond the declared fees (at the clearing prices): {kept}"
    )
