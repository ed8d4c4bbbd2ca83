"""``tributary bench routing``: what it counts as a pass, a failure and dust, and that it
finishes on perturbed liquidity."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

import routing.optimizer  # noqa: F401  (OR-Tools before cvxpy: their HiGHS copies clash)
from bench.routing import (
    OrderCase,
    Outcome,
    compare_with_convex,
    main,
    route_order,
    summarise,
)
from routing.graph import TokenGraph
from routing.optimizer import Router, RouterConfig
from routing.pool import InsufficientLiquidity, Pool, PoolId, PoolMathError, TokenAddress
from routing.route import OrderKind
from tests.data import MAINNET_AUCTION
from tests.routing.market import E18, A, B, pair


@dataclass(frozen=True, slots=True)
class ConstantSumPool:
    """A pool kind the convex reference does not know: pays ``rate`` B per A up to its
    balance."""

    id: PoolId
    tokens: tuple[TokenAddress, TokenAddress]
    balance: int
    rate_num: int
    rate_den: int
    gas: int = 50_000

    def amount_out(self, token_in: TokenAddress, token_out: TokenAddress, amount_in: int) -> int:
        if (token_in, token_out) != self.tokens:
            raise PoolMathError("one way only")
        out = amount_in * self.rate_num // self.rate_den
        if out > self.balance:
            raise InsufficientLiquidity("empty")
        return out

    def amount_in(self, token_in: TokenAddress, token_out: TokenAddress, amount_out: int) -> int:
        if (token_in, token_out) != self.tokens:
            raise PoolMathError("one way only")
        if amount_out > self.balance:
            raise InsufficientLiquidity("empty")
        return -(-amount_out * self.rate_den // self.rate_num)

    def spot_price(self, token_in: TokenAddress, token_out: TokenAddress) -> float:
        return self.rate_num / self.rate_den


@dataclass(frozen=True, slots=True)
class BrokenPool(ConstantSumPool):
    """Pool math with a bug beyond the graph's depth probes: a ``ValueError``, as the
    router once raised on unseen liquidity."""

    def amount_out(self, token_in: TokenAddress, token_out: TokenAddress, amount_in: int) -> int:
        if amount_in > 10**4 * E18:
            raise ValueError("repeats may not contain negative values")
        return ConstantSumPool.amount_out(self, token_in, token_out, amount_in)


def _routed(graph: TokenGraph, amount: int, index: str = "0") -> tuple[OrderCase, Outcome]:
    case = OrderCase(index, f"uid{index}", A, B, OrderKind.SELL, amount)
    router = Router(graph, RouterConfig())
    gas_free = Router(graph.with_gas_price(0), RouterConfig(gas_aware=False))
    return case, route_order(case, graph, router, gas_free)


def test_beating_the_reference_is_a_reference_failure_not_a_pass() -> None:
    # the router trades through a pool kind the reference leaves out, at a better price
    pools: list[Pool] = [
        pair("v2", A, B, 1000 * E18, 1000 * E18),
        ConstantSumPool(PoolId("sum"), (A, B), 500 * E18, 1001, 1000),
    ]
    graph = TokenGraph(pools, {A: E18, B: E18})
    case, out = _routed(graph, 100 * E18)
    compare_with_convex(out, case, graph)
    assert out.gap_to_convex_bp is not None and out.gap_to_convex_bp < -1
    assert "reference failure" in out.reference_failure
    assert "sum" in out.reference_failure  # the pool it left out is named
    assert "not modelled: ConstantSumPool" in out.reference_failure
    assert out.reference_failure in out.outlier
    summary = summarise([out], 0.0)
    assert summary["convex_compared"] == 1
    assert summary["convex_reference_failures"] == 1
    assert summary["convex_within_1bp"] == 0
    assert summary["convex_non_dust_within_1bp"] == 0
    assert summary["convex_reliable"] == 0


def test_an_order_the_reference_bounds_is_a_pass() -> None:
    graph = TokenGraph([pair("v2", A, B, 1000 * E18, 1000 * E18)], {A: E18, B: E18})
    case, out = _routed(graph, 10 * E18)
    compare_with_convex(out, case, graph)
    assert out.reference_failure == ""
    summary = summarise([out], 0.0)
    assert summary["convex_within_1bp"] == summary["convex_reliable_within_1bp"] == 1


def test_a_router_exception_is_a_failed_order_with_its_reason() -> None:
    pools: list[Pool] = [
        pair("v2", A, B, 10**6 * E18, 10**6 * E18),
        BrokenPool(PoolId("broken"), (A, B), 10**9 * E18, 1001, 1000),
    ]
    graph = TokenGraph(pools, {A: E18, B: E18})
    fine_case, fine = _routed(graph, E18, "0")
    broken_case, broken = _routed(graph, 10**5 * E18, "1")
    assert fine.errors == []
    assert broken.errors, "the broken pool's ValueError should reach the benchmark"
    assert all("ValueError: repeats may not contain negative values" in e for e in broken.errors)
    assert "failed: " in broken.outlier
    for case, out in ((fine_case, fine), (broken_case, broken)):
        compare_with_convex(out, case, graph)
    summary = summarise([fine, broken], 0.0)
    assert summary["orders"] == 2
    assert summary["failed_orders"] == 1
    assert any(o["index"] == "1" and "ValueError" in o["reason"] for o in summary["outliers"])


def test_dust_is_flagged_and_kept_out_of_the_extremes() -> None:
    # at 10**6 gwei a swap's gas costs more than a 1e-3 token order pays out
    pools = [pair("p", A, B, 1000 * E18, 1000 * E18), pair("q", A, B, 3000 * E18, 3000 * E18)]
    graph = TokenGraph(pools, {A: E18, B: E18}, gas_price=10**15)
    _, dust = _routed(graph, 10**15, "0")
    _, real = _routed(graph, 300 * E18, "1")
    assert dust.dust and dust.dust_reason
    assert not real.dust
    dust.vs_baseline_bp = 1e9  # what a negative net against a tiny gross looks like
    summary = summarise([dust, real], 0.0)
    assert summary["dust_orders"] == 1
    assert summary["vs_baseline_bp_max"] == real.vs_baseline_bp
    assert summary["vs_baseline_bp_median"] == real.vs_baseline_bp


def test_dust_by_value_alone() -> None:
    graph = TokenGraph([pair("p", A, B, 1000 * E18, 1000 * E18)], {A: E18, B: E18}, gas_price=1)
    _, out = _routed(graph, 99_999)  # worth 99,999 wei < 100,000 gas at 1 wei
    assert out.dust and "worth 99999 wei" in out.dust_reason


@pytest.mark.skipif(not MAINNET_AUCTION.exists(), reason="shared mainnet auction not found")
def test_bench_completes_on_perturbed_liquidity(tmp_path: Path) -> None:
    report = tmp_path / "routing"
    argv = ["--auction", str(MAINNET_AUCTION), "--orders", "5", "--perturb", "11"]
    assert main([*argv, "--report", str(report)]) == 0
    results = json.loads((report / "results.json").read_text())
    assert results["summary"]["orders"] == len(results["orders"]) == 5
    assert "--perturb 11" in (report / "report.md").read_text()
    for order in results["orders"]:
        # each order is routed and compared, or says why not
        compared = order["gap_to_convex_bp"] is not None
        assert compared or order["optimal_net"] is None or order["outlier"]
