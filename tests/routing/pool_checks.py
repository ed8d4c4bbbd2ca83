"""Properties every pool model must have, shared by the per-kind hypothesis tests."""

from __future__ import annotations

from routing.pool import InsufficientLiquidity, Pool, TokenAddress


def out_or_none(pool: Pool, token_in: TokenAddress, token_out: TokenAddress, x: int) -> int | None:
    try:
        return pool.amount_out(token_in, token_out, x)
    except InsufficientLiquidity:
        return None


def in_or_none(pool: Pool, token_in: TokenAddress, token_out: TokenAddress, y: int) -> int | None:
    try:
        return pool.amount_in(token_in, token_out, y)
    except InsufficientLiquidity:
        return None


def check_out_curve(
    pool: Pool,
    token_in: TokenAddress,
    token_out: TokenAddress,
    x: int,
    step: int,
    reserve_out: int,
    concavity_slack: int = 1,
) -> None:
    """Bounded by the reserve, monotone, and concave on ``x, x+step, x+2*step``."""
    outs = [out_or_none(pool, token_in, token_out, x + k * step) for k in range(3)]
    known = [o for o in outs if o is not None]
    # Once the pool refuses an amount it refuses every larger one.
    assert outs[: len(known)] == known
    for out in known:
        assert 0 <= out <= reserve_out
    assert known == sorted(known)
    if len(known) == 3:
        first, second = known[1] - known[0], known[2] - known[1]
        assert second <= first + concavity_slack, (known, first, second)


def check_round_trips(
    pool: Pool,
    token_in: TokenAddress,
    token_out: TokenAddress,
    x: int | None,
    y: int | None,
    in_slack: int = 0,
    out_slack: int = 0,
) -> None:
    """Both round trips favour the pool: in(out(x)) <= x and out(in(y)) >= y.

    ``in_slack`` allows a model whose contract over-charges by design (UniswapV2Library's
    unconditional ``+ 1``) to ask that much more than ``x``; ``out_slack`` lets a model whose
    two directions each round against the trader (Balancer's ``powUp`` error bound) return
    that much less than ``y``. ``None`` skips that half."""
    out = None if x is None else out_or_none(pool, token_in, token_out, x)
    if x is not None and out is not None and out > 0:
        needed = in_or_none(pool, token_in, token_out, out)
        assert needed is not None and needed <= x + in_slack, (x, out, needed)
    needed = None if y is None else in_or_none(pool, token_in, token_out, y)
    if y is not None and needed is not None:
        got = out_or_none(pool, token_in, token_out, needed)
        assert got is not None and got >= y - out_slack, (y, needed, got)
