"""Balancer V2 stable pools: ``StableMath`` (StableSwap invariant) behind the Vault's fee and
scaling steps.

The invariant ``D`` and the balance solving it for one token are found by Newton iterations
exactly as the contract runs them (integer steps, convergence within one unit, at most 255
rounds). ``amp`` carries ``AMP_PRECISION`` (A = 200 is ``200_000``). Fees and scaling are
applied as for weighted pools: fee off the input before upscaling (GivenIn), added with
``divUp(complement(fee))`` after downscaling (GivenOut). Scaling factors include the token's
decimals and any rate provider's rate (18 decimals).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from routing.fixed_point import (
    ONE,
    complement,
    div_down,
    div_up,
    math_div_up,
    mul_down,
    mul_up,
    sub,
)
from routing.pool import (
    InsufficientLiquidity,
    PoolId,
    PoolMathError,
    TokenAddress,
    UnknownToken,
    frozen_state,
    restore_frozen,
    scaled,
)

AMP_PRECISION = 1000
_ROUNDS = 255


def calculate_invariant(amp: int, balances: tuple[int, ...]) -> int:
    """``StableMath._calculateInvariant`` (balances upscaled, ``amp`` with precision)."""
    total = sum(balances)
    if total == 0:
        return 0
    n = len(balances)
    amp_times_total = amp * n
    invariant = total
    for _ in range(_ROUNDS):
        d_p = invariant
        for balance in balances:
            if balance == 0:
                raise InsufficientLiquidity("stable pool: a balance is zero")
            d_p = d_p * invariant // (balance * n)
        previous = invariant
        invariant = (
            (amp_times_total * total // AMP_PRECISION + d_p * n)
            * invariant
            // ((amp_times_total - AMP_PRECISION) * invariant // AMP_PRECISION + (n + 1) * d_p)
        )
        if abs(invariant - previous) <= 1:
            return invariant
    raise PoolMathError("stable invariant did not converge")


def token_balance_given_invariant(
    amp: int, balances: tuple[int, ...], invariant: int, index: int
) -> int:
    """``_getTokenBalanceGivenInvariantAndAllOtherBalances``: the balance of ``index`` that
    keeps ``invariant`` with all other balances fixed (rounded up)."""
    n = len(balances)
    amp_times_total = amp * n
    total = balances[0]
    p_d = balances[0] * n
    for balance in balances[1:]:
        p_d = p_d * balance * n // invariant
        total += balance
    total -= balances[index]
    if p_d == 0:
        raise InsufficientLiquidity("stable pool: a balance is zero")
    inv2 = invariant * invariant
    c = math_div_up(inv2, amp_times_total * p_d) * AMP_PRECISION * balances[index]
    b = total + invariant // amp_times_total * AMP_PRECISION
    balance = math_div_up(inv2 + c, invariant + b)
    for _ in range(_ROUNDS):
        previous = balance
        denominator = 2 * balance + b - invariant
        if denominator <= 0:
            raise InsufficientLiquidity("stable pool: balance iteration left the curve")
        balance = math_div_up(balance * balance + c, denominator)
        if abs(balance - previous) <= 1:
            return balance
    raise PoolMathError("stable balance did not converge")


def calc_out_given_in(
    amp: int, balances: tuple[int, ...], index_in: int, index_out: int, amount_in: int
) -> int:
    """``StableMath._calcOutGivenIn`` on upscaled balances; negative where a dust input makes
    the contract's checked subtraction revert."""
    invariant = calculate_invariant(amp, balances)
    moved = list(balances)
    moved[index_in] += amount_in
    final_out = token_balance_given_invariant(amp, tuple(moved), invariant, index_out)
    return balances[index_out] - final_out - 1


def calc_in_given_out(
    amp: int, balances: tuple[int, ...], index_in: int, index_out: int, amount_out: int
) -> int:
    """``StableMath._calcInGivenOut`` on upscaled balances."""
    invariant = calculate_invariant(amp, balances)
    moved = list(balances)
    moved[index_out] = sub(moved[index_out], amount_out)
    final_in = token_balance_given_invariant(amp, tuple(moved), invariant, index_in)
    return sub(final_in, balances[index_in]) + 1


@dataclass(frozen=True, slots=True)
class StableToken:
    """``scaling_factor``: 18-decimal factor, ``10**18 * 10**(18 - decimals) * rate / 10**18``."""

    address: TokenAddress
    balance: int
    scaling_factor: int

    def __getstate__(self) -> dict[str, object]:
        return frozen_state(self)

    def __setstate__(self, state: dict[str, object]) -> None:
        restore_frozen(self, state)


@dataclass(frozen=True, slots=True)
class StablePool:
    """A Balancer V2 stable pool snapshot; ``amp`` includes ``AMP_PRECISION``; ``fee`` is
    18-decimal."""

    id: PoolId
    reserves: tuple[StableToken, ...]
    amp: int
    fee: int
    gas: int = 183_520

    def __getstate__(self) -> dict[str, object]:
        return frozen_state(self)

    def __setstate__(self, state: dict[str, object]) -> None:
        restore_frozen(self, state)

    def __post_init__(self) -> None:
        if len(self.reserves) < 2 or len({t.address for t in self.reserves}) != len(self.reserves):
            raise PoolMathError(f"pool {self.id}: needs two or more distinct tokens")
        if not 0 <= self.fee < ONE or self.amp <= 0:
            raise PoolMathError(f"pool {self.id}: fee or amplification out of range")
        if any(t.scaling_factor <= 0 or t.balance < 0 for t in self.reserves):
            raise PoolMathError(f"pool {self.id}: scaling factors must be positive")

    @property
    def tokens(self) -> tuple[TokenAddress, ...]:
        return tuple(t.address for t in self.reserves)

    def _indices(self, token_in: TokenAddress, token_out: TokenAddress) -> tuple[int, int]:
        tokens = self.tokens
        if token_in == token_out or token_in not in tokens or token_out not in tokens:
            raise UnknownToken(f"pool {self.id} does not trade {token_in} -> {token_out}")
        return tokens.index(token_in), tokens.index(token_out)

    def _upscaled(self) -> tuple[int, ...]:
        return tuple(mul_down(t.balance, t.scaling_factor) for t in self.reserves)

    def amount_out(self, token_in: TokenAddress, token_out: TokenAddress, amount_in: int) -> int:
        i, o = self._indices(token_in, token_out)
        if amount_in < 0:
            raise PoolMathError(f"negative amount in: {amount_in}")
        if amount_in == 0:
            return 0
        after_fee = sub(amount_in, mul_up(amount_in, self.fee))
        upscaled_in = mul_down(after_fee, self.reserves[i].scaling_factor)
        try:
            out = calc_out_given_in(self.amp, self._upscaled(), i, o, upscaled_in)
        except PoolMathError as exc:
            raise InsufficientLiquidity(f"pool {self.id}: {exc}") from exc
        # A dust input whose output rounds below zero reverts on chain: it buys nothing.
        return div_down(max(out, 0), self.reserves[o].scaling_factor)

    def amount_in(self, token_in: TokenAddress, token_out: TokenAddress, amount_out: int) -> int:
        i, o = self._indices(token_in, token_out)
        if amount_out < 0:
            raise PoolMathError(f"negative amount out: {amount_out}")
        if amount_out == 0:
            return 0
        upscaled_out = mul_down(amount_out, self.reserves[o].scaling_factor)
        balances = self._upscaled()
        if upscaled_out >= balances[o]:
            raise InsufficientLiquidity(f"pool {self.id}: {amount_out} out of its whole balance")
        try:
            upscaled_in = calc_in_given_out(self.amp, balances, i, o, upscaled_out)
        except PoolMathError as exc:
            raise InsufficientLiquidity(f"pool {self.id}: {exc}") from exc
        return div_up(div_up(upscaled_in, self.reserves[i].scaling_factor), complement(self.fee))

    def spot_price(self, token_in: TokenAddress, token_out: TokenAddress) -> float:
        i, o = self._indices(token_in, token_out)
        balances = self._upscaled()
        if min(balances) == 0:
            return 0.0
        # Marginal rate of the StableSwap curve in upscaled units, then back to base units.
        try:
            invariant = calculate_invariant(self.amp, balances)
        except PoolMathError:
            return 0.0
        n = len(balances)
        prod = 1.0
        for b in balances:
            prod *= b / invariant
        d_p = invariant / (float(n) ** n * prod)
        # Balancer's amp is A * n**(n-1), so amp * n is Curve's A * n**n.
        a_nn = self.amp / AMP_PRECISION * n
        rate = (a_nn + d_p / balances[i]) / (a_nn + d_p / balances[o])
        scale = self.reserves[i].scaling_factor / self.reserves[o].scaling_factor
        return rate * scale * (ONE - self.fee) / ONE


def stable_pool(
    ident: str,
    reserves: Iterable[tuple[TokenAddress, int, int]],
    amplification: Fraction,
    fee: Fraction,
    gas: int,
    address: TokenAddress | None = None,
) -> StablePool:
    """A pool from its (token, balance, 18-decimal scaling factor) entries in any order;
    Balancer registers tokens sorted by address, and the math's rounding depends on that
    order. A composable stable pool lists its own BPT (the pool ``address``) among its
    tokens; regular swaps ignore it, so it is dropped."""
    return StablePool(
        id=PoolId(ident),
        reserves=tuple(
            sorted(
                (StableToken(t, b, f) for t, b, f in reserves if t != address),
                key=lambda token: token.address,
            )
        ),
        amp=scaled(amplification, AMP_PRECISION, "amplification parameter"),
        fee=scaled(fee, 10**18, "fee"),
        gas=gas,
    )
