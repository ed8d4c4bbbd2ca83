"""Uniswap V3 ``SwapMath.computeSwapStep``: one swap step within a single liquidity range."""

from __future__ import annotations

from typing import NamedTuple

from routing.full_math import mul_div, mul_div_rounding_up
from routing.sqrt_price_math import (
    amount0_delta,
    amount1_delta,
    next_sqrt_price_from_input,
    next_sqrt_price_from_output,
)

PIPS = 1_000_000


class SwapStep(NamedTuple):
    sqrt_price_next_x96: int
    amount_in: int
    amount_out: int
    fee_amount: int


def compute_swap_step(
    sqrt_price_current_x96: int,
    sqrt_price_target_x96: int,
    liquidity: int,
    amount_remaining: int,
    fee_pips: int,
) -> SwapStep:
    """Move from the current price towards the target, spending (``amount_remaining > 0``,
    exact in) or receiving (``< 0``, exact out) at most ``|amount_remaining|``."""
    zero_for_one = sqrt_price_current_x96 >= sqrt_price_target_x96
    exact_in = amount_remaining >= 0
    amount_in = amount_out = 0
    if exact_in:
        remaining_less_fee = mul_div(amount_remaining, PIPS - fee_pips, PIPS)
        amount_in = (
            amount0_delta(sqrt_price_target_x96, sqrt_price_current_x96, liquidity, True)
            if zero_for_one
            else amount1_delta(sqrt_price_current_x96, sqrt_price_target_x96, liquidity, True)
        )
        if remaining_less_fee >= amount_in:
            sqrt_price_next = sqrt_price_target_x96
        else:
            sqrt_price_next = next_sqrt_price_from_input(
                sqrt_price_current_x96, liquidity, remaining_less_fee, zero_for_one
            )
    else:
        amount_out = (
            amount1_delta(sqrt_price_target_x96, sqrt_price_current_x96, liquidity, False)
            if zero_for_one
            else amount0_delta(sqrt_price_current_x96, sqrt_price_target_x96, liquidity, False)
        )
        if -amount_remaining >= amount_out:
            sqrt_price_next = sqrt_price_target_x96
        else:
            sqrt_price_next = next_sqrt_price_from_output(
                sqrt_price_current_x96, liquidity, -amount_remaining, zero_for_one
            )

    reached = sqrt_price_next == sqrt_price_target_x96
    if zero_for_one:
        if not (reached and exact_in):
            amount_in = amount0_delta(sqrt_price_next, sqrt_price_current_x96, liquidity, True)
        if not (reached and not exact_in):
            amount_out = amount1_delta(sqrt_price_next, sqrt_price_current_x96, liquidity, False)
    else:
        if not (reached and exact_in):
            amount_in = amount1_delta(sqrt_price_current_x96, sqrt_price_next, liquidity, True)
        if not (reached and not exact_in):
            amount_out = amount0_delta(sqrt_price_current_x96, sqrt_price_next, liquidity, False)

    if not exact_in and amount_out > -amount_remaining:
        amount_out = -amount_remaining
    if exact_in and sqrt_price_next != sqrt_price_target_x96:
        fee_amount = amount_remaining - amount_in
    else:
        fee_amount = mul_div_rounding_up(amount_in, fee_pips, PIPS - fee_pips)
    return SwapStep(sqrt_price_next, amount_in, amount_out, fee_amount)
