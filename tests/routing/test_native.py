"""The compiled routing modules (``routing.native``, built by ``setup.py`` with mypyc) and
their pure-Python source compute the same: every pool of the shared mainnet auction, at a
ladder of amounts both ways, and the baseline's routes along base-token paths, give the
same answers with ``TRIBUTARY_PURE_PYTHON=1`` as without it. Pools copy and pickle in
either (``ConcentratedLiquidityPool.after``, the fork server's workers)."""

from __future__ import annotations

import copy
import json
import os
import pickle
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from routing import native
from routing.liquidity import parse_snapshot
from routing.pool import Pool, PoolMathError
from tests.data import MAINNET_AUCTION

pytestmark = pytest.mark.skipif(not MAINNET_AUCTION.exists(), reason="shared auction absent")

ROOT = Path(__file__).resolve().parents[2]

_ANSWERS = """
import json, sys
from routing import native
from routing.baseline import baseline_route
from routing.graph import TokenGraph
from routing.liquidity import parse_snapshot
from routing.pool import PoolMathError
from routing.route import NoRoute, OrderKind
snapshot = parse_snapshot(json.loads(open(sys.argv[1]).read()))
answers = []
for pool in snapshot.pools:
    tokens = pool.tokens
    for amount in (10**3, 10**9, 10**15, 10**21, 10**27):
        for fn in (pool.amount_out, pool.amount_in):
            try:
                answers.append(fn(tokens[0], tokens[1], amount))
            except PoolMathError as error:
                answers.append(type(error).__name__)
prices = {t: info.reference_price for t, info in snapshot.tokens.items()}
graph = TokenGraph(snapshot.pools, prices, gas_price=snapshot.gas_price)
tokens = sorted(graph.graph.nodes)
for sell, buy in zip(tokens[::5], tokens[3::5]):
    for kind in OrderKind:
        try:
            route = baseline_route(graph, sell, buy, 10**18, kind)
            answers.append(repr(route.legs))
        except NoRoute:
            answers.append("NoRoute")
print(json.dumps({"compiled": native.compiled(), "answers": answers}))
"""


def _answers(pure: bool) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != native.PURE_ENV}
    if pure:
        env[native.PURE_ENV] = "1"
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-c", _ANSWERS, str(MAINNET_AUCTION)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_pure_python_answers_as_the_compiled_modules() -> None:
    pure, default = _answers(pure=True), _answers(pure=False)
    assert pure["compiled"] == []  # the switch loads every module from its .py file
    assert len(pure["answers"]) > 1000  # type: ignore[arg-type]
    built = any((ROOT / "routing").glob("baseline.*.so")) and not native.stale_modules()
    assert bool(default["compiled"]) == built  # compiled where built: two variants compared
    assert pure["answers"] == default["answers"]


@cache
def _pools() -> list[Pool]:
    return list(parse_snapshot(json.loads(MAINNET_AUCTION.read_text())).pools)


def _quotes(pool: Pool) -> list[int | str]:
    tokens = pool.tokens
    found: list[int | str] = []
    for amount in (10**6, 10**18):
        try:
            found.append(pool.amount_out(tokens[0], tokens[1], amount))
        except PoolMathError as error:
            found.append(type(error).__name__)
    return found


def test_every_pool_kind_copies_and_pickles() -> None:
    kinds = {type(pool).__name__ for pool in _pools()}
    assert {"ConstantProductPool", "ConcentratedLiquidityPool", "WeightedPool"} <= kinds
    for pool in _pools():
        for twin in (copy.copy(pool), pickle.loads(pickle.dumps(pool))):
            assert twin == pool
            assert _quotes(twin) == _quotes(pool)
