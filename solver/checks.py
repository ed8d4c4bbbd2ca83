"""Every solution is checked against its auction before it leaves (or before it can win).

The checks, in order (the first failure rejects the solution with a ``SolutionRejected``
carrying a machine-readable ``code`` and a sentence, logged with the solver's name):

* **prices**: one positive uint256 clearing price per token (two spellings of one address
  with different prices are ``NonUniformPrices``); every traded token has one;
* **trades**: each order is in the auction, still open, traded once, executed within what is
  left (CoW's rule: a sell order's ``executed + fee`` is at most, or for fill-or-kill exactly,
  what is left; a buy order's ``executed`` likewise); a solver fee only on ``limit`` orders;
* **limit prices**: the contract's own check ``sellAmount * p_sell >= buyAmount * p_buy`` at
  the uniform prices, and the fee-inclusive one on the executed amounts as
  ``GPv2Settlement.computeTradeExecution`` rounds them (``solver.model.executed_amounts``);
  no product overflows uint256 (the contract's checked math would revert);
* **AMM legs**: every leg's pool is in the auction's liquidity and, re-simulated in order
  with routing's exact pool math on the state the earlier legs left (Uniswap V2, V3; other
  kinds as one swap of their legs' total), pays exactly what the leg claims: more is
  ``AmmOverdrawn``, less ``InexactAmmOutput`` (a V2 pair pays only the claim and keeps the
  rest for a back-runner; V3 and Balancer pay the settlement their whole output). Our pool
  models are bit-exact (V2, V3 against the contracts on anvil; Balancer weighted and
  stable against mainnet swaps and ``balancer-maths``), so the tolerance is 0 for every kind;
* **internalization** (CoW's rule, ``solver.internalization``): an internalized leg's input
  token is trusted, and per token the internalized legs' outputs fit in the settlement's
  available balance (its buffer pays them);
* **token flows**: per token, what the settlement contract receives (users' payments
  including fees, AMM outputs) covers what it pays (users' proceeds, AMM inputs), and it
  keeps no more than the declared fees (``UndeclaredSurplus``: valued at the clearing
  prices, beyond what exact rounding leaves, ``solver.kept.rounding_allowance``);
* **EBBO** (with ``ebbo``; ``solver.ebbo``, CoW's CIP-52): every trade gives its user at
  least what the baseline route gives on the auction's liquidity (``EbboViolated``);
* **simulation** (``verify_solution``, when a chain is attached): an injected simulator
  (e.g. one built on ``settlement.submitter``'s ``eth_call``) says it would not revert.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from intents.order import OrderClass, OrderKind
from intents.types import UINT256_MAX, OrderUid
from routing.pool import Pool, PoolId, PoolMathError, TokenAddress, token_address
from routing.route import Leg
from routing.uniswap_v2 import ConstantProductPool
from routing.uniswap_v3 import ConcentratedLiquidityPool
from solver.ebbo import shortfalls
from solver.errors import SolverError
from solver.internalization import buffer_shortfalls, untrusted_inputs
from solver.kept import token_balances, undeclared_surplus
from solver.model import (
    MAX_SETTLEMENT_GAS,
    Auction,
    Order,
    Solution,
    Trade,
    executed_amounts,
    limit_respected,
    order_index,
    signed_fee,
)

logger = logging.getLogger(__name__)


class Rejection(enum.StrEnum):
    """Why a solution was rejected (the ``code`` of ``SolutionRejected``)."""

    EMPTY_SOLUTION = "EmptySolution"
    INVALID_CLEARING_PRICE = "InvalidClearingPrice"
    NON_UNIFORM_PRICES = "NonUniformPrices"
    MISSING_PRICE = "MissingPrice"
    UNKNOWN_ORDER = "UnknownOrder"
    ORDER_NOT_OPEN = "OrderNotOpen"
    DUPLICATE_TRADE = "DuplicateTrade"
    INVALID_EXECUTED_AMOUNT = "InvalidExecutedAmount"
    INVALID_FEE = "InvalidFee"
    OVERFILL = "Overfill"
    PARTIAL_FILL_NOT_ALLOWED = "PartialFillNotAllowed"
    LIMIT_PRICE_VIOLATED = "LimitPriceViolated"
    ARITHMETIC_OVERFLOW = "ArithmeticOverflow"
    UNKNOWN_LIQUIDITY = "UnknownLiquidity"
    INVALID_AMM_LEG = "InvalidAmmLeg"
    AMM_OVERDRAWN = "AmmOverdrawn"
    TOKEN_DEFICIT = "TokenDeficit"
    SIMULATION_REVERTED = "SimulationReverted"
    SIMULATION_FAILED = "SimulationFailed"
    UNSUPPORTED_SOLUTION = "UnsupportedSolution"
    NON_BUFFERABLE_TOKENS_USED = "NonBufferableTokensUsed"
    INSUFFICIENT_BUFFER = "InsufficientBuffer"
    GAS_LIMIT_EXCEEDED = "GasLimitExceeded"
    INEXACT_AMM_OUTPUT = "InexactAmmOutput"
    """A liquidity interaction claims less than its pool's exact output for its input."""
    UNDECLARED_SURPLUS = "UndeclaredSurplus"
    """The settlement would keep more of a token than the solution's declared fees."""
    EBBO_VIOLATED = "EbboViolated"
    """A user gets less than the baseline route gives on the same liquidity (CIP-52)."""


class SolutionRejected(SolverError, ValueError):
    """A solution failed a check; ``code`` is machine-readable, the message a sentence."""

    def __init__(self, code: Rejection, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


Simulator = Callable[[Auction, Solution], Awaitable[str | None]]
"""Simulates the settlement of a solution on the attached chain: ``None`` if it would
succeed, else the revert reason. Raising means the simulation could not run."""


@dataclass(frozen=True, slots=True)
class CheckedTrade:
    """A trade that passed the checks, and the exact amounts it moves."""

    order: Order
    trade: Trade
    sold: int
    """What the user pays in the sell token, all fees included."""
    bought: int

    @property
    def paid(self) -> int:
        """What the user pays within its limit price: the signed fee excluded."""
        return self.sold - signed_fee(self.order, self.trade)


def _uid(uid: OrderUid) -> str:
    return "0x" + uid.hex()


def uniform_prices(solution: Solution) -> dict[TokenAddress, int]:
    """The solution's price vector keyed by normalised address; raises on a non-positive or
    oversized price and on two spellings of one token with different prices."""
    prices: dict[TokenAddress, int] = {}
    for raw, price in solution.prices.items():
        try:
            token = token_address(raw)
        except ValueError:
            raise SolutionRejected(
                Rejection.INVALID_CLEARING_PRICE, f"clearing price for {raw!r}, not an address"
            ) from None
        if not 0 < price <= UINT256_MAX:
            raise SolutionRejected(
                Rejection.INVALID_CLEARING_PRICE,
                f"clearing price {price} of {token} is not a positive uint256",
            )
        if prices.get(token, price) != price:
            raise SolutionRejected(
                Rejection.NON_UNIFORM_PRICES,
                f"token {token} has two clearing prices, {prices[token]} and {price}",
            )
        prices[token] = price
    return prices


def _check_fill(order: Order, trade: Trade) -> None:
    uid = _uid(order.uid)
    if trade.executed <= 0:
        raise SolutionRejected(
            Rejection.INVALID_EXECUTED_AMOUNT,
            f"order {uid} is executed {trade.executed}; it must be positive",
        )
    if trade.fee < 0 or (trade.fee and order.order_class is not OrderClass.LIMIT):
        raise SolutionRejected(
            Rejection.INVALID_FEE,
            f"order {uid} ({order.order_class}) is charged a solver fee of {trade.fee}; "
            "only limit orders pay one, and never a negative one",
        )
    used = trade.executed + (trade.fee if order.kind is OrderKind.SELL else 0)
    if used > order.remaining:
        raise SolutionRejected(
            Rejection.OVERFILL,
            f"order {uid} is filled {used} but only {order.remaining} is left",
        )
    if not order.partially_fillable and used != order.remaining:
        raise SolutionRejected(
            Rejection.PARTIAL_FILL_NOT_ALLOWED,
            f"fill-or-kill order {uid} is filled {used} of {order.remaining}",
        )


def check_limit(order: Order, trade: Trade, prices: Mapping[TokenAddress, int]) -> CheckedTrade:
    """``trade`` of ``order`` at ``prices`` as it executes, if no product overflows uint256
    and the order's limit price holds (the contract's check and the fee-inclusive one);
    raises ``SolutionRejected`` otherwise."""
    uid = _uid(order.uid)
    sell_price, buy_price = prices[order.sell_token], prices[order.buy_token]
    products = (
        order.signed_sell_amount * sell_price,
        order.signed_buy_amount * buy_price,
        trade.executed * max(sell_price, buy_price),
    )
    if max(products) > UINT256_MAX:
        raise SolutionRejected(
            Rejection.ARITHMETIC_OVERFLOW,
            f"order {uid}: amounts times clearing prices overflow uint256 (the contract reverts)",
        )
    if order.signed_sell_amount * sell_price < order.signed_buy_amount * buy_price:
        raise SolutionRejected(
            Rejection.LIMIT_PRICE_VIOLATED,
            f"order {uid} sells {order.signed_sell_amount} for at least "
            f"{order.signed_buy_amount} but the clearing prices ({sell_price} sell, "
            f"{buy_price} buy) pay less",
        )
    checked = CheckedTrade(order, trade, *executed_amounts(order, trade, prices))
    if not limit_respected(order, checked.paid, checked.bought):
        raise SolutionRejected(
            Rejection.LIMIT_PRICE_VIOLATED,
            f"order {uid} pays {checked.paid} (fee {trade.fee} included) for "
            f"{checked.bought}, worse than its limit {order.signed_sell_amount} for "
            f"{order.signed_buy_amount}",
        )
    return checked


def _checked(auction: Auction, solution: Solution, now: int | None) -> list[CheckedTrade]:
    if not solution.trades:
        raise SolutionRejected(Rejection.EMPTY_SOLUTION, "the solution trades no order")
    prices = uniform_prices(solution)
    orders = order_index(auction)
    seen: set[OrderUid] = set()
    checked = []
    for trade in solution.trades:
        order = orders.get(trade.order)
        if order is None:
            raise SolutionRejected(
                Rejection.UNKNOWN_ORDER, f"order {_uid(trade.order)} is not in the auction"
            )
        if trade.order in seen:
            raise SolutionRejected(
                Rejection.DUPLICATE_TRADE, f"order {_uid(trade.order)} is traded more than once"
            )
        seen.add(trade.order)
        expired = now is not None and order.valid_to is not None and order.valid_to < now
        if order.remaining <= 0 or expired:
            raise SolutionRejected(
                Rejection.ORDER_NOT_OPEN,
                f"order {_uid(order.uid)} is not open ("
                + ("expired" if expired else "nothing left to fill")
                + ")",
            )
        for token in (order.sell_token, order.buy_token):
            if token not in prices:
                raise SolutionRejected(
                    Rejection.MISSING_PRICE,
                    f"order {_uid(order.uid)} trades {token}, which has no clearing price",
                )
        _check_fill(order, trade)
        checked.append(check_limit(order, trade, prices))
    return checked


def swap_leg(pool: Pool, leg: Leg) -> tuple[int, Pool | None]:
    """What ``pool`` pays for the leg's input, and its state after the leg (``None`` for
    pool kinds without a state transition). A V2 pair pays exactly what the leg takes (and
    keeps the rest); a V3 pool pays its whole output (the leg's amount is the minimum).
    The one simulation of a leg: ``solver.merge_legs`` replays legs with it too."""
    if isinstance(pool, ConcentratedLiquidityPool):
        result = pool.swap(leg.token_in == pool.tokens[0], leg.amount_in)
        return result.amount_out, pool.after(result)
    pays = pool.amount_out(leg.token_in, leg.token_out, leg.amount_in)
    if isinstance(pool, ConstantProductPool):
        delta = {leg.token_in: leg.amount_in, leg.token_out: -leg.amount_out}
        reserves = tuple(r + delta[t] for t, r in zip(pool.tokens, pool.reserves, strict=True))
        return pays, dataclasses.replace(pool, reserves=(reserves[0], reserves[1]))
    return pays, None


def _check_leg(pools: Mapping[PoolId, Pool], leg: Leg) -> Pool:
    pool = pools.get(leg.pool)
    if pool is None:
        raise SolutionRejected(
            Rejection.UNKNOWN_LIQUIDITY, f"AMM leg uses {leg.pool}, not in the auction"
        )
    if leg.token_in == leg.token_out or not {leg.token_in, leg.token_out} <= set(pool.tokens):
        raise SolutionRejected(
            Rejection.INVALID_AMM_LEG,
            f"AMM leg {leg.token_in} -> {leg.token_out} does not fit pool {leg.pool}",
        )
    if leg.amount_in <= 0 or leg.amount_out < 0:
        raise SolutionRejected(
            Rejection.INVALID_AMM_LEG,
            f"AMM leg through {leg.pool} swaps {leg.amount_in} for {leg.amount_out}",
        )
    return pool


def _check_claim(leg: Leg, pays: int, what: str) -> None:
    """A leg must claim exactly what its pool pays for its input: more overdraws the pool;
    less leaves the difference in a Uniswap V2 pair (which pays only what is claimed) for a
    back-runner, or in the settlement (V3 and Balancer pay their whole output)."""
    if pays == leg.amount_out:
        return
    code = Rejection.AMM_OVERDRAWN if pays < leg.amount_out else Rejection.INEXACT_AMM_OUTPUT
    raise SolutionRejected(
        code,
        f"pool {leg.pool} pays {pays} of {leg.token_out} for {leg.amount_in} of "
        f"{leg.token_in}{what}, the solution claims {leg.amount_out}",
    )


def _amm_flows(auction: Auction, solution: Solution) -> dict[TokenAddress, int]:
    """Net token flow of the AMM legs at the settlement contract (outputs minus inputs).

    Legs run in order, each on the pool as the legs before it left it (Uniswap V2 and V3),
    and must claim exactly the pool's output (``_check_claim``). Pool kinds without a state
    transition (Balancer) are re-simulated as one swap of the total of their legs in one
    direction, whose output the legs' claims must add up to exactly, and may not be
    swapped both ways."""
    pools: dict[PoolId, Pool] = {pool.id: pool for pool in auction.liquidity.pools}
    totals: dict[tuple[PoolId, TokenAddress, TokenAddress], Leg] = {}
    legs = []
    for leg in solution.legs:
        pool = _check_leg(pools, leg)
        try:
            pays, after = swap_leg(pool, leg)
        except PoolMathError as exc:
            raise SolutionRejected(
                Rejection.AMM_OVERDRAWN,
                f"pool {leg.pool} cannot swap {leg.amount_in} of {leg.token_in}: {exc}",
            ) from exc
        if after is None:
            key = (leg.pool, leg.token_in, leg.token_out)
            if (leg.pool, leg.token_out, leg.token_in) in totals:
                raise SolutionRejected(
                    Rejection.INVALID_AMM_LEG, f"pool {leg.pool} is swapped in both directions"
                )
            total = totals.get(key)
            totals[key] = (
                leg
                if total is None
                else dataclasses.replace(
                    total,
                    amount_in=total.amount_in + leg.amount_in,
                    amount_out=total.amount_out + leg.amount_out,
                )
            )
            continue
        _check_claim(leg, pays, "")
        pools[leg.pool] = after
        legs.append(leg)
    for total in totals.values():
        try:
            pays, _ = swap_leg(pools[total.pool], total)
        except PoolMathError as exc:
            raise SolutionRejected(
                Rejection.AMM_OVERDRAWN,
                f"pool {total.pool} cannot swap {total.amount_in} of {total.token_in} "
                f"in total: {exc}",
            ) from exc
        _check_claim(total, pays, " in total")
        legs.append(total)
    flows: dict[TokenAddress, int] = {}
    for leg in legs:
        flows[leg.token_in] = flows.get(leg.token_in, 0) - leg.amount_in
        flows[leg.token_out] = flows.get(leg.token_out, 0) + leg.amount_out
    return flows


def _check_internalization(auction: Auction, solution: Solution) -> None:
    legs = solution.legs
    stray = sorted(i for i in solution.internalized if not 0 <= i < len(legs))
    if stray:
        raise SolutionRejected(
            Rejection.INVALID_AMM_LEG, f"internalized legs {stray} are not legs of the solution"
        )
    untrusted = untrusted_inputs(legs, solution.internalized, auction.tokens)
    if untrusted:
        raise SolutionRejected(
            Rejection.NON_BUFFERABLE_TOKENS_USED,
            "internalized legs take in tokens that are not trusted: " + ", ".join(untrusted),
        )
    short = buffer_shortfalls(legs, solution.internalized, auction.tokens)
    if short:
        raise SolutionRejected(
            Rejection.INSUFFICIENT_BUFFER,
            "internalized legs pay out more than the settlement's buffer holds: "
            + ", ".join(f"{s.token} needs {s.needed}, has {s.available}" for s in short),
        )


def settlement_balances(
    auction: Auction, solution: Solution, now: int | None = None
) -> tuple[list[CheckedTrade], dict[TokenAddress, int]]:
    """The trades as they execute (prices, fills and limits checked) and what the settlement
    ends with per token (``solver.kept.token_balances``, the legs re-simulated); raises
    ``SolutionRejected`` as ``check_solution`` does for those checks."""
    checked = _checked(auction, solution, now)
    return checked, token_balances(checked, _amm_flows(auction, solution))


def _log_rejection(solver: str, solution: Solution, error: SolutionRejected) -> None:
    logger.warning(
        "solver %s solution %d rejected: %s: %s", solver, solution.id, error.code, error.message
    )


def check_solution(
    auction: Auction,
    solution: Solution,
    *,
    solver: str,
    now: int | None = None,
    gas_limit: int = MAX_SETTLEMENT_GAS,
    ebbo: bool = False,
) -> list[CheckedTrade]:
    """Run every check that needs no chain; return the trades as they execute.
    ``now`` (unix seconds), when given, also rejects orders expired by then; a solution
    declaring more than ``gas_limit`` gas is rejected (CoW's driver: ``GasLimitExceeded``);
    with ``ebbo``, a trade worse than the baseline route is rejected (``solver.ebbo``)."""
    try:
        if solution.gas > gas_limit:
            raise SolutionRejected(
                Rejection.GAS_LIMIT_EXCEEDED,
                f"the settlement declares {solution.gas:,} gas, more than the {gas_limit:,} "
                "one settlement may use",
            )
        checked, balances = settlement_balances(auction, solution, now)
        _check_internalization(auction, solution)
        deficits = sorted((token, amount) for token, amount in balances.items() if amount < 0)
        if deficits:
            raise SolutionRejected(
                Rejection.TOKEN_DEFICIT,
                "the settlement would pay out more than it receives: "
                + ", ".join(f"{token} short {-amount}" for token, amount in deficits),
            )
        pools = {pool.id: pool for pool in auction.liquidity.pools}
        prices = uniform_prices(solution)
        kept = undeclared_surplus(checked, balances, prices, solution.legs, pools)
        if kept is not None:
            raise SolutionRejected(Rejection.UNDECLARED_SURPLUS, kept)
        if ebbo:
            short = shortfalls(auction, checked)
            if short:
                raise SolutionRejected(
                    Rejection.EBBO_VIOLATED,
                    "users get less than the baseline route on the same liquidity gives: "
                    + "; ".join(s.describe() for s in short),
                )
    except SolutionRejected as error:
        _log_rejection(solver, solution, error)
        raise
    return checked


def passing_solutions(
    auction: Auction,
    solutions: Sequence[Solution],
    *,
    now: int | None = None,
    stop: Callable[[], bool] | None = None,
) -> list[Solution]:
    """The solutions that pass ``check_solution`` (each checked under its engine's name);
    every rejected one is logged with its code and reason. Once ``stop`` says the time is
    up, the solutions not yet checked are dropped (never sent unchecked): the answer is
    due, and on a contended CPU the checks of a few hundred solutions can take seconds."""
    passed = []
    for index, solution in enumerate(solutions):
        if stop is not None and stop():
            logger.warning(
                "%d solutions dropped: not checked before the deadline", len(solutions) - index
            )
            break
        try:
            check_solution(auction, solution, solver=solution.engine or "unnamed", now=now)
        except SolutionRejected:
            continue
        passed.append(solution)
    return passed


async def verify_solution(
    auction: Auction,
    solution: Solution,
    *,
    solver: str,
    simulate: Simulator | None = None,
    now: int | None = None,
    ebbo: bool = False,
) -> list[CheckedTrade]:
    """``check_solution`` (with ``ebbo``: CIP-52's rule too), then (when ``simulate`` is
    given) a simulation on the chain."""
    checked = check_solution(auction, solution, solver=solver, now=now, ebbo=ebbo)
    if simulate is None:
        return checked
    try:
        reason = await simulate(auction, solution)
    except Exception as exc:  # any failure to simulate rejects the solution
        error = SolutionRejected(
            Rejection.SIMULATION_FAILED,
            f"the settlement could not be simulated: {type(exc).__name__}: {exc}",
        )
        _log_rejection(solver, solution, error)
        raise error from exc
    if reason is not None:
        error = SolutionRejected(
            Rejection.SIMULATION_REVERTED, f"the settlement would revert: {reason}"
        )
        _log_rejection(solver, solution, error)
        raise error
    return checked
