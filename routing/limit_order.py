"""Foreign (0x-style) limit orders offered as auction liquidity: a one-way pool.

The taker sends up to ``taker_amount`` of the taker token and receives the maker token at
the order's fixed price, rounded down as 0x's ``getPartialAmountFloor``:
``out = in * maker_amount // taker_amount``. The reverse direction does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from routing.pool import (
    InsufficientLiquidity,
    LiquidityFormatError,
    PoolId,
    PoolMathError,
    TokenAddress,
    UnknownToken,
)


@dataclass(frozen=True, slots=True)
class LimitOrderPool:
    """``tokens`` is ``(taker token, maker token)``: the only direction it trades."""

    id: PoolId
    tokens: tuple[TokenAddress, TokenAddress]
    taker_amount: int
    maker_amount: int
    gas: int = 66_358

    def __post_init__(self) -> None:
        if self.tokens[0] == self.tokens[1]:
            raise PoolMathError(f"limit order {self.id}: both tokens are {self.tokens[0]}")
        if self.taker_amount <= 0 or self.maker_amount <= 0:
            raise PoolMathError(f"limit order {self.id}: amounts must be positive")

    def _check(self, token_in: TokenAddress, token_out: TokenAddress) -> None:
        if (token_in, token_out) != self.tokens:
            raise UnknownToken(f"limit order {self.id} only trades {self.tokens[0]} -> "
                               f"{self.tokens[1]}")  # fmt: skip

    def amount_out(self, token_in: TokenAddress, token_out: TokenAddress, amount_in: int) -> int:
        self._check(token_in, token_out)
        if amount_in < 0:
            raise PoolMathError(f"negative amount in: {amount_in}")
        if amount_in > self.taker_amount:
            raise InsufficientLiquidity(
                f"limit order {self.id} takes at most {self.taker_amount}, not {amount_in}"
            )
        return amount_in * self.maker_amount // self.taker_amount

    def amount_in(self, token_in: TokenAddress, token_out: TokenAddress, amount_out: int) -> int:
        """The least fill whose floored maker amount reaches ``amount_out``."""
        self._check(token_in, token_out)
        if amount_out < 0:
            raise PoolMathError(f"negative amount out: {amount_out}")
        if amount_out > self.maker_amount:
            raise InsufficientLiquidity(
                f"limit order {self.id} gives at most {self.maker_amount}, not {amount_out}"
            )
        return -(-amount_out * self.taker_amount // self.maker_amount)

    def spot_price(self, token_in: TokenAddress, token_out: TokenAddress) -> float:
        self._check(token_in, token_out)
        return self.maker_amount / self.taker_amount


def limit_order_pool(
    ident: str,
    taker_token: TokenAddress,
    maker_token: TokenAddress,
    taker_amount: int,
    maker_amount: int,
    taker_token_fee: int,
    gas: int,
) -> LimitOrderPool:
    """A foreign limit order as a one-way pool (taker token in, maker token out); one
    charging a taker token fee is not modelled."""
    if taker_token_fee != 0:
        raise LiquidityFormatError("limit orders with a taker token fee are not modelled")
    return LimitOrderPool(
        id=PoolId(ident),
        tokens=(taker_token, maker_token),
        taker_amount=taker_amount,
        maker_amount=maker_amount,
        gas=gas,
    )
