"""Reference-price sanity in the engines: a pool whose rate between two priced tokens is
absurdly off the reference (a V3 ``sqrtPrice`` contradicting its ``tick``, a drained pair)
is not routed through and the log says why; a route whose realised rate is absurd is not
proposed; sane pools and unpriced tokens are left alone; the bound is configurable from
``make_engine``, ``tributary solve``, ``solve-engine`` and ``serve``."""

from __future__ import annotations

import argparse
import json
import logging
import math
from collections.abc import Sequence
from datetime import timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from routing.pool import Pool, PoolId, TokenAddress
from routing.tick_math import sqrt_ratio_at_tick, tick_at_sqrt_ratio
from routing.uniswap_v3 import ConcentratedLiquidityPool
from solver import dto
from solver.cli import main
from solver.engines import make_engine
from solver.model import Auction, Order, Solution, now
from tests.solver.engine_fixtures import GAS_PRICE, PRICES, A, B, C, model_auction, order, pool
from tests.solver.test_solve_api import _auction

E18 = 10**18
ENGINES = ["baseline", "optimal", "batch"]
SANE = pool("sane", A, B, 1000 * E18, 2000 * E18)
"""A/B at the reference rate (PRICES: 2 B per A)."""
LIQUIDITY = 10**23
BROKEN_TICKS = 200_000
"""A factor 1.0001**200000 ~ 4.8e8 between the price the pool's ``sqrtPrice`` says and the
price of its ``tick``."""


def _reference_tick() -> int:
    """The tick of the reference price of token1 (B) per token0 (A): 2."""
    return tick_at_sqrt_ratio(math.isqrt(2 * 2**192))


def v3(ident: str, *, sqrt_ticks_off: int = 0, tick_off: int = 0) -> ConcentratedLiquidityPool:
    """Deep A/B liquidity around the reference price; its ``sqrtPrice`` and/or ``tick``
    moved away from it (a contract-consistent pool moves both together)."""
    tick = _reference_tick()
    spacing = 60
    low, high = (tick // spacing - 100) * spacing, (tick // spacing + 100) * spacing
    return ConcentratedLiquidityPool(
        PoolId(ident),
        (A, B),
        sqrt_ratio_at_tick(tick + sqrt_ticks_off),
        LIQUIDITY,
        tick + tick_off,
        {low: LIQUIDITY, high: -LIQUIDITY},
        3000,
    )


def _auction_of(
    orders: Sequence[Order],
    pools: Sequence[Pool],
    prices: dict[TokenAddress, int | None] | None = None,
    gas_price: int = GAS_PRICE,
) -> Auction:
    return model_auction(
        orders,
        pools,
        prices or PRICES,  # type: ignore[arg-type]
        gas_price,
        now() + timedelta(seconds=60),
    )


def _pools_used(solutions: Sequence[Solution]) -> set[str]:
    return {str(leg.pool) for s in solutions for leg in s.legs}


def _messages(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(record.getMessage() for record in caplog.records)


def test_the_broken_pools_are_what_they_claim() -> None:
    # sqrtPrice off: the pool pays ~1e8 times the reference for one A, and even the
    # direction its spot rate calls cheap pays absurdly (the swap steps run backwards)
    broken = v3("broken", sqrt_ticks_off=BROKEN_TICKS)
    assert broken.amount_out(A, B, E18) > 10**6 * 2 * E18
    assert broken.amount_out(B, A, E18) > 10**6 * E18 // 2
    consistent = v3("consistent")
    assert consistent.amount_out(A, B, E18) < 2 * E18


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("sell", "buy"), [(A, B), (B, A)])
def test_a_v3_pool_whose_sqrt_price_contradicts_its_tick_is_not_routed_through(
    engine: str, sell: TokenAddress, buy: TokenAddress, caplog: pytest.LogCaptureFixture
) -> None:
    amount = 10 * E18
    fair = SANE.amount_out(sell, buy, amount)
    o = order(sell, buy, amount, fair * 99 // 100, tag=f"sqrt-{engine}")
    broken = v3(f"v3-sqrt-{engine}-{sell[:6]}", sqrt_ticks_off=BROKEN_TICKS)
    with caplog.at_level(logging.INFO, logger="solver.engines.sanity"):
        solutions = make_engine(engine).solve(_auction_of([o], [SANE, broken]))
    assert solutions, "the sane pool still fills the order"
    assert _pools_used(solutions) == {"sane"}
    (trade,) = solutions[0].trades
    assert solutions[0].prices[sell] == fair  # exactly what the sane pool pays
    assert trade.executed == amount
    log = _messages(caplog)
    assert f"pool {broken.id} skipped: PriceDeviation: sqrtPrice rate" in log
    assert f"{B} per {A}" in log  # the tokens, then spot vs reference


@pytest.mark.parametrize("engine", ENGINES)
def test_a_v3_pool_whose_tick_contradicts_its_sqrt_price_is_not_routed_through(
    engine: str, caplog: pytest.LogCaptureFixture
) -> None:
    # the price its math starts from is right, the tick it walks from is not: the first
    # swap step then runs backwards and pays the reverse direction's rate (4 times the
    # reference here, price**2 in general). On chain both move together, so the snapshot
    # is wrong and the pool is not trusted.
    broken = v3(f"v3-tick-{engine}", tick_off=-BROKEN_TICKS)
    amount = 10 * E18
    fair = SANE.amount_out(B, A, amount)
    assert broken.amount_out(B, A, amount) > 3 * fair  # tempting
    o = order(B, A, amount, fair * 99 // 100, tag=f"tick-{engine}")
    with caplog.at_level(logging.INFO, logger="solver.engines.sanity"):
        solutions = make_engine(engine).solve(_auction_of([o], [SANE, broken]))
    assert _pools_used(solutions) == {"sane"}
    assert f"pool {broken.id} skipped: PriceDeviation: tick rate" in _messages(caplog)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_pair_far_off_the_reference_is_not_routed_through(
    engine: str, caplog: pytest.LogCaptureFixture
) -> None:
    # a pair nearly drained of A (0.01 A for 1000 B: 5e4 times the reference rate), deep
    # enough not to be pruned as dust: it would pay ~90 B for 0.001 A
    drained = pool(f"drained-{engine}", A, B, 10**16, 1000 * E18)
    amount = 10**15
    assert drained.amount_out(A, B, amount) > 10**4 * SANE.amount_out(A, B, amount)
    o = order(A, B, amount, amount, tag=f"drained-{engine}")
    # gas at 0.01 gwei: the small market order's surplus pays it (else it is screened out)
    cheap_gas = _auction_of([o], [SANE, drained], gas_price=10**7)
    with caplog.at_level(logging.INFO, logger="solver.engines.sanity"):
        solutions = make_engine(engine).solve(cheap_gas)
    assert _pools_used(solutions) == {"sane"}
    assert f"pool {drained.id} skipped: PriceDeviation: spot rate" in _messages(caplog)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_pool_off_by_less_than_the_bound_is_kept(engine: str) -> None:
    # a stale pool 50 times the reference rate is real (if lucky) liquidity, not broken data
    stale = pool(f"stale-{engine}", A, B, 1000 * E18, 100_000 * E18)
    o = order(A, B, E18, 2 * E18, tag=f"stale-{engine}")
    auction = _auction_of([o], [SANE, stale])
    solutions = make_engine(engine).solve(auction)
    assert stale.id in _pools_used(solutions)
    # ... unless the bound says 50 is too far
    tight = make_engine(engine, max_price_deviation=Fraction(10)).solve(auction)
    assert stale.id not in _pools_used(tight)


@pytest.mark.parametrize("engine", ENGINES)
def test_pools_of_unpriced_tokens_are_not_judged(engine: str) -> None:
    # C without a reference price: any A/C rate may be right
    prices: dict[TokenAddress, int | None] = {A: PRICES[A], B: PRICES[B], C: None}
    odd = pool(f"odd-{engine}", A, C, 1000 * E18, 10**12 * E18)
    o = order(A, C, E18, E18, tag=f"unpriced-{engine}")
    solutions = make_engine(engine).solve(_auction_of([o], [SANE, odd], prices))
    assert _pools_used(solutions) == {odd.id}


@pytest.mark.parametrize("engine", ["optimal", "batch"])  # baseline: C is no base token
def test_a_route_whose_realised_rate_is_absurd_is_not_proposed(
    engine: str, caplog: pytest.LogCaptureFixture
) -> None:
    # A -> C and C -> B are each 50 times the reference rate (within the bound), so the
    # route A -> C -> B realises 2500 times it
    ac = pool(f"ac-{engine}", A, C, 1000 * E18, 25_000 * E18)  # reference: 0.5 C per A
    cb = pool(f"cb-{engine}", C, B, 1000 * E18, 200_000 * E18)  # reference: 4 B per C
    o = order(A, B, E18, 2 * E18, tag=f"route-{engine}")
    auction = _auction_of([o], [ac, cb])
    unchecked = make_engine(engine, max_price_deviation=None).solve(auction)
    assert unchecked and _pools_used(unchecked) == {ac.id, cb.id}
    with caplog.at_level(logging.WARNING, logger="solver.engines.sanity"):
        assert make_engine(engine).solve(auction) == []
    log = _messages(caplog)
    assert f"order 0x{o.uid.hex()}: realised rate" in log
    assert "PriceDeviation" in log


# -- the command line ----------------------------------------------------------------------


def _broken_v3_entry(pool_id: str) -> dict[str, Any]:
    broken = v3(pool_id, sqrt_ticks_off=BROKEN_TICKS)
    return {
        "kind": "concentratedLiquidity",
        "id": pool_id,
        "address": "0x" + "99" * 20,
        "router": "0x" + "88" * 20,
        "gasEstimate": "110000",
        "tokens": [A, B],
        "sqrtPrice": str(broken.sqrt_price_x96),
        "liquidity": str(broken.liquidity),
        "tick": broken.tick,
        "liquidityNet": {str(t): str(n) for t, n in broken.liquidity_net.items()},
        "fee": "0.003",
    }


def _solve_file(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes], *flags: str
) -> set[str]:
    doc = _auction()
    doc["liquidity"].append(_broken_v3_entry("broken-v3"))
    path = tmp_path / "auction.json"
    path.write_text(json.dumps(doc))
    code = main(["solve", "--auction", str(path), "--engine", "baseline", *flags])
    assert code == 0
    response = dto.decode_solver_response(capsysbinary.readouterr().out)
    return {
        i.id
        for s in response.solutions
        for i in s.interactions
        if isinstance(i, dto.LiquidityInteraction)
    }


def test_solve_skips_the_broken_pool_unless_told_otherwise(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    assert _solve_file(tmp_path, capsysbinary) == {"7"}
    assert _solve_file(tmp_path, capsysbinary, "--max-price-deviation", "1e10") == {"broken-v3"}
    assert _solve_file(tmp_path, capsysbinary, "--max-price-deviation", "0") == {"broken-v3"}


@pytest.mark.parametrize("command", ["solve", "solve-engine", "serve"])
def test_every_solving_command_takes_the_bound(command: str) -> None:
    from solver.cli import _build_parser

    required = ["--auction", "x.json"] if command == "solve" else []
    parse = _build_parser().parse_args
    assert parse([command, *required]).max_price_deviation == 100
    args = parse([command, *required, "--max-price-deviation", "2.5"])
    assert args.max_price_deviation == Fraction(5, 2)
    assert parse([command, *required, "--max-price-deviation", "off"]).max_price_deviation is None
    with pytest.raises(SystemExit):
        parse([command, *required, "--max-price-deviation", "0.5"])


def test_serve_threads_the_bound_to_its_engines() -> None:
    from solver.network import settings_from_args

    args = argparse.Namespace(engines="baseline", max_price_deviation=Fraction(7))
    settings = settings_from_args(args, "deployment.json")
    assert settings is not None and settings.max_price_deviation == 7
