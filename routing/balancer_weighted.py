"""Balancer V2 weighted pools: ``WeightedMath`` behind the Vault's fee and scaling steps.

Sell (GivenIn): the swap fee is taken from the input first (``in - in.mulUp(fee)``), the
amount and balances are upscaled to 18 decimals (``mulDown`` by the scaling factor),
``_calcOutGivenIn`` runs, and the output is downscaled rounding down. Buy (GivenOut):
upscale, ``_calcInGivenOut``, downscale rounding up, then the fee is added as
``in.divUp(fee.complement())``. Swaps above 30% of a balance revert (max in/out ratio).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from routing.fixed_point import (
    ONE,
    complement,
    div_down,
    div_up,
    mul_down,
    mul_up,
    pow_up,
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

MAX_IN_RATIO = 3 * 10**17
MAX_OUT_RATIO = 3 * 10**17
BOUND_SLACK = 1e-9
"""Relative slack of ``amount_out_bound`` over its float evaluation (whose error is ~1e-15)."""


def calc_out_given_in(
    balance_in: int,
    weight_in: int,
    balance_out: int,
    weight_out: int,
    amount_in: int,
    shortcuts: bool = True,
) -> int:
    """``WeightedMath._calcOutGivenIn`` on upscaled (18-decimal) values."""
    if amount_in > mul_down(balance_in, MAX_IN_RATIO):
        raise InsufficientLiquidity("weighted pool: amount in exceeds the max in ratio")
    base = div_up(balance_in, balance_in + amount_in)
    exponent = div_down(weight_in, weight_out)
    power = pow_up(base, exponent, shortcuts)
    return mul_down(balance_out, complement(power))


def calc_in_given_out(
    balance_in: int,
    weight_in: int,
    balance_out: int,
    weight_out: int,
    amount_out: int,
    shortcuts: bool = True,
) -> int:
    """``WeightedMath._calcInGivenOut`` on upscaled (18-decimal) values."""
    if amount_out > mul_down(balance_out, MAX_OUT_RATIO):
        raise InsufficientLiquidity("weighted pool: amount out exceeds the max out ratio")
    base = div_up(balance_out, sub(balance_out, amount_out))
    exponent = div_up(weight_out, weight_in)
    power = pow_up(base, exponent, shortcuts)
    return mul_up(balance_in, sub(power, ONE))


@dataclass(frozen=True, slots=True)
class WeightedToken:
    """One token of a weighted pool. ``scaling_factor`` is Balancer's 18-decimal factor
    (``10**18 * 10**(18 - decimals)``); ``weight`` is normalized, 18 decimals."""

    address: TokenAddress
    balance: int
    weight: int
    scaling_factor: int

    def __getstate__(self) -> dict[str, object]:
        return frozen_state(self)

    def __setstate__(self, state: dict[str, object]) -> None:
        restore_frozen(self, state)


@dataclass(frozen=True, slots=True)
class WeightedPool:
    """A Balancer V2 weighted pool snapshot; ``fee`` is 18-decimal (``3 * 10**15`` = 0.3%).

    ``pow_shortcuts`` selects the newer ``FixedPoint.powUp`` (exact for exponents 1, 2, 4:
    CoW's ``v3Plus`` pools); ``False`` is the original factory's (``v0``)."""

    id: PoolId
    reserves: tuple[WeightedToken, ...]
    fee: int
    pow_shortcuts: bool = True
    gas: int = 88_892

    def __getstate__(self) -> dict[str, object]:
        return frozen_state(self)

    def __setstate__(self, state: dict[str, object]) -> None:
        restore_frozen(self, state)

    def __post_init__(self) -> None:
        if len(self.reserves) < 2 or len({t.address for t in self.reserves}) != len(self.reserves):
            raise PoolMathError(f"pool {self.id}: needs two or more distinct tokens")
        if not 0 <= self.fee < ONE:
            raise PoolMathError(f"pool {self.id}: fee {self.fee} not in [0, 1e18)")
        if any(t.weight <= 0 or t.scaling_factor <= 0 or t.balance < 0 for t in self.reserves):
            raise PoolMathError(f"pool {self.id}: weights and scaling factors must be positive")

    @property
    def tokens(self) -> tuple[TokenAddress, ...]:
        return tuple(t.address for t in self.reserves)

    def _pair(
        self, token_in: TokenAddress, token_out: TokenAddress
    ) -> tuple[WeightedToken, WeightedToken]:
        t_in = t_out = None
        for token in self.reserves:  # a handful of tokens: a scan beats building a dict
            if token.address == token_in:
                t_in = token
            elif token.address == token_out:
                t_out = token
        if t_in is None or t_out is None:
            raise UnknownToken(f"pool {self.id} does not trade {token_in} -> {token_out}")
        return t_in, t_out

    def amount_out(self, token_in: TokenAddress, token_out: TokenAddress, amount_in: int) -> int:
        t_in, t_out = self._pair(token_in, token_out)
        if amount_in < 0:
            raise PoolMathError(f"negative amount in: {amount_in}")
        if amount_in == 0:
            return 0
        after_fee = sub(amount_in, mul_up(amount_in, self.fee))
        out = calc_out_given_in(
            mul_down(t_in.balance, t_in.scaling_factor),
            t_in.weight,
            mul_down(t_out.balance, t_out.scaling_factor),
            t_out.weight,
            mul_down(after_fee, t_in.scaling_factor),
            self.pow_shortcuts,
        )
        return div_down(out, t_out.scaling_factor)

    def amount_in(self, token_in: TokenAddress, token_out: TokenAddress, amount_out: int) -> int:
        t_in, t_out = self._pair(token_in, token_out)
        if amount_out < 0:
            raise PoolMathError(f"negative amount out: {amount_out}")
        if amount_out == 0:
            return 0
        upscaled_in = calc_in_given_out(
            mul_down(t_in.balance, t_in.scaling_factor),
            t_in.weight,
            mul_down(t_out.balance, t_out.scaling_factor),
            t_out.weight,
            mul_down(amount_out, t_out.scaling_factor),
            self.pow_shortcuts,
        )
        return div_up(div_up(upscaled_in, t_in.scaling_factor), complement(self.fee))

    def amount_out_bound(
        self, token_in: TokenAddress, token_out: TokenAddress, amount_in: int
    ) -> float:
        """An upper bound on ``amount_out`` in floats, never below it, to skip the exact
        math where it cannot win: the curve ``b_out (1 - (b_in / (b_in + a))^(w_in /
        w_out))`` in real numbers, ``a`` the input after the fee on the upscaled balance
        ``b_in``. The contract only rounds down from it (``mulUp`` on the fee, ``mulDown``
        upscaling the input, ``divUp`` on the base, ``divDown`` on the exponent, ``powUp``,
        ``mulDown`` and ``divDown`` on the output); ``BOUND_SLACK`` covers the floats."""
        t_in, t_out = self._pair(token_in, token_out)
        if amount_in <= 0:
            return 0.0
        per_share = self._per_share(t_in)
        if per_share is None:
            return math.inf
        try:
            share = amount_in / per_share
        except OverflowError:  # beyond any float, so beyond uint256: no bound needed
            return math.inf
        kept = -math.expm1(-(t_in.weight / t_out.weight) * math.log1p(share))
        return t_out.balance * kept * (1 + BOUND_SLACK)

    def amount_in_bound(
        self, token_in: TokenAddress, token_out: TokenAddress, amount_out: int
    ) -> float:
        """A lower bound on any input whose ``amount_out`` covers ``amount_out`` (so on
        ``amount_in`` too): ``amount_out_bound`` inverted (it is increasing, and no exact
        output exceeds it), less ``BOUND_SLACK`` for the floats. Infinite when even the
        bound never reaches it."""
        t_in, t_out = self._pair(token_in, token_out)
        if amount_out <= 0:
            return 0.0
        per_share = self._per_share(t_in)
        if per_share is None or t_out.balance == 0:
            return 0.0
        try:
            kept = amount_out / (t_out.balance * (1 + BOUND_SLACK))
            if kept >= 1.0:
                return math.inf
            share = math.expm1(-math.log1p(-kept) * (t_out.weight / t_in.weight))
        except OverflowError:  # an input beyond any float is beyond uint256: none exists
            return math.inf
        return share * per_share * (1 - BOUND_SLACK)

    def _per_share(self, t_in: WeightedToken) -> float | None:
        """Input (token units) per unit of the share ``a / b_in`` that the curve sees: the
        fee and the upscaling only shrink ``a``, never ``b_in``; ``None`` when the upscaled
        balance is 0."""
        upscaled_in = mul_down(t_in.balance, t_in.scaling_factor)
        if upscaled_in == 0:
            return None
        return upscaled_in / (((ONE - self.fee) / ONE) * (t_in.scaling_factor / ONE))

    def spot_price(self, token_in: TokenAddress, token_out: TokenAddress) -> float:
        t_in, t_out = self._pair(token_in, token_out)
        if t_in.balance == 0:
            return 0.0
        # (b_out / w_out) / (b_in / w_in) in base units, after the fee.
        price = (t_out.balance * t_in.weight) / (t_in.balance * t_out.weight)
        return price * (ONE - self.fee) / ONE


def weighted_pool(
    ident: str,
    reserves: Iterable[tuple[TokenAddress, int, Fraction, int]],
    fee: Fraction,
    pow_shortcuts: bool,
    gas: int,
) -> WeightedPool:
    """A pool from its (token, balance, weight, 18-decimal scaling factor) entries in any
    order (Balancer registers tokens sorted by address) and its exact fee and weights (whole
    numbers of 1e-18)."""
    return WeightedPool(
        id=PoolId(ident),
        reserves=tuple(
            sorted(
                (
                    WeightedToken(token, balance, scaled(weight, 10**18, "weight"), factor)
                    for token, balance, weight, factor in reserves
                ),
                key=lambda token: token.address,
            )
        ),
        fee=scaled(fee, 10**18, "fee"),
        pow_shortcuts=pow_shortcuts,
        gas=gas,
    )
