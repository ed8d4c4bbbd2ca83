"""``tributary bench routing``: routing quality and latency on a real auction's liquidity.

Every order of the auction is routed at its full amount with each strategy — best single
pool, the CoW baseline, ours (``optimal``) — and compared with the convex optimum over the
same pools (``bench.convex``). Written to ``--report DIR``: ``results.json`` (per order and
aggregate), ``report.md`` and PNG plots.

Net amounts are after gas (gas priced in the objective token). The gap to the convex optimum
is measured on the gas-free variant of our router (``optimal`` with gas price 0 and no MIP),
because the convex problem has no gas term; the gas-aware route may give up gross output
on purpose to save more gas, which the report shows separately.

Three kinds of order are kept apart from the figures they would distort:

* *failed*: a strategy raised something other than ``NoRoute`` (the exception is the
  order's recorded reason; the benchmark goes on);
* *reference failures*: our route beats the convex reference by more than ``TOLERANCE_BP``,
  which an optimum over the same pools cannot allow — the reference is wrong for that order
  (the report says why, as far as it can tell); it is neither "within 1 bp" nor "solved to
  full accuracy";
* *dust* (``DUST``): excluded from the extremes (max and median improvement over the
  baseline, largest gaps to the reference) and given separately in the quality shares.

``--perturb SEED`` runs on a reproducibly rescaled copy of the liquidity
(``bench.perturb``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from bench.perturb import perturb_pools
from routing.baseline import baseline_route, best_single_pool_route
from routing.graph import TokenGraph
from routing.optimizer import Router, RouterConfig
from routing.pool import TokenAddress, token_address
from routing.route import NoRoute, OrderKind, Route
from solver.route_cli import build_graph, load_snapshot

logger = logging.getLogger(__name__)

TOLERANCE_BP = 1.0
DUST_GAS = 100_000
"""An order worth less than one swap's gas (this many gas units at the auction's gas price,
about what one Uniswap pool costs) is dust: no solver would settle it, and its gap to the
real-valued convex optimum is rounding of a few base units, not routing quality."""
DUST = (
    f"dust: the order's amount is worth less than {DUST_GAS:,} gas at the auction's gas price "
    "and reference prices, or a route for it (ours or the baseline's) costs at least its whole "
    "amount in gas (a sell's output after gas <= 0, a buy's gas >= its input)"
)


@dataclass(frozen=True, slots=True)
class OrderCase:
    index: str
    uid: str
    sell: TokenAddress
    buy: TokenAddress
    kind: OrderKind
    amount: int


@dataclass(slots=True)
class Outcome:
    """One order's results; amounts are decimal strings in JSON, ``None`` = no route."""

    index: str
    uid: str
    kind: str
    sell: str
    buy: str
    amount: int
    single_pool_net: int | None = None
    baseline_net: int | None = None
    optimal_net: int | None = None
    optimal_gross: int | None = None
    optimal_pools: int = 0
    optimal_gas_cost: int = 0
    gas_free_gross: int | None = None
    convex: float | None = None
    convex_status: str = ""
    routing_ms: float = 0.0
    vs_baseline_bp: float | None = None
    vs_single_pool_bp: float | None = None
    gap_to_convex_bp: float | None = None
    gas_free_pools: list[str] = field(default_factory=list)
    gas_free_legs: list[tuple[str, str, str]] = field(default_factory=list)
    """``(pool, token in, token out)`` of the gas-free route's legs."""
    convex_note: str = ""
    value_wei: int | None = None
    """The order's amount (sell amount of a sell order, buy amount of a buy order) in wei
    at the auction's reference prices; ``None`` if its token has no price."""
    dust: bool = False
    dust_reason: str = ""
    errors: list[str] = field(default_factory=list)
    """Exceptions other than ``NoRoute``, one per strategy that raised: a failed order."""
    reference_failure: str = ""
    """Why the convex reference cannot be right for this order (we beat it), or ``""``."""
    outlier: str = ""


def load_orders(doc: dict[str, Any]) -> list[OrderCase]:
    """Orders of an auction file, legacy (``orders`` map) or solver format (list)."""
    raw = doc.get("orders") or {}
    items = raw.items() if isinstance(raw, dict) else enumerate(raw)
    cases: list[OrderCase] = []
    for key, order in items:
        if "sell_token" in order:  # legacy instance format
            kind = OrderKind.SELL if order["is_sell_order"] else OrderKind.BUY
            sell, buy = order["sell_token"], order["buy_token"]
            amount = order["sell_amount"] if kind is OrderKind.SELL else order["buy_amount"]
            uid = order.get("id") or str(key)
        else:
            kind = OrderKind(order["kind"])
            sell, buy = order["sellToken"], order["buyToken"]
            amount = order["sellAmount"] if kind is OrderKind.SELL else order["buyAmount"]
            uid = order.get("uid") or str(key)
        cases.append(
            OrderCase(
                str(key), str(uid), token_address(sell), token_address(buy), kind, int(amount)
            )
        )
    return cases


def _better_bp(route: Route | None, reference: Route | None) -> float | None:
    """How much better ``route`` is than ``reference`` net of gas, in bp of the reference's
    gross amount (positive = better)."""
    if route is None or reference is None:
        return None
    if route.kind is OrderKind.SELL:
        return (route.net - reference.net) / max(reference.amount_out, 1) * 1e4
    return (reference.net - route.net) / max(reference.amount_in, 1) * 1e4


def _try(strategy: str, errors: list[str], fn: Any, *args: Any) -> Route | None:
    """``fn(*args)``, ``None`` on ``NoRoute``; any other exception is recorded in ``errors``
    (a failed order) instead of ending the benchmark."""
    try:
        route: Route = fn(*args)
    except NoRoute:
        return None
    except Exception as exc:  # a router bug must cost one order, not the report
        logger.warning("%s raised on %s", strategy, args[:2], exc_info=True)
        errors.append(f"{strategy}: {type(exc).__name__}: {exc}")
        return None
    return route


def _gas_eats_it(route: Route | None) -> bool:
    """The route's gas costs at least the whole amount it trades."""
    if route is None:
        return False
    gross = route.amount_out if route.kind is OrderKind.SELL else route.amount_in
    return route.gas_cost >= gross


def route_order(
    case: OrderCase,
    graph: TokenGraph,
    router: Router,
    gas_free: Router,
) -> Outcome:
    """Route one order with every strategy and compare them."""
    out = Outcome(case.index, case.uid, case.kind.value, case.sell, case.buy, case.amount)
    token = case.sell if case.kind is OrderKind.SELL else case.buy
    price = graph.prices.get(token)
    order = (case.sell, case.buy, case.amount, case.kind)
    errors = out.errors
    single = _try("single pool", errors, best_single_pool_route, graph, *order)
    base = _try("baseline", errors, baseline_route, graph, *order)
    started = time.perf_counter()
    optimal = _try("optimal", errors, router.route, *order)
    out.routing_ms = (time.perf_counter() - started) * 1e3
    free = _try("optimal (gas-free)", errors, gas_free.route, *order)
    if price:
        out.value_wei = case.amount * price // 10**18
        if out.value_wei < DUST_GAS * graph.gas_price:
            out.dust_reason = f"worth {out.value_wei} wei, less than {DUST_GAS:,} gas"
    if not out.dust_reason and (_gas_eats_it(optimal) or _gas_eats_it(base)):
        out.dust_reason = "a route's gas costs at least the whole amount it trades"
    out.dust = bool(out.dust_reason)
    out.single_pool_net = None if single is None else single.net
    out.baseline_net = None if base is None else base.net
    if optimal is not None:
        out.optimal_net = optimal.net
        out.optimal_gross = optimal.amount_out if case.kind is OrderKind.SELL else optimal.amount_in
        out.optimal_pools = len(optimal.pools)
        out.optimal_gas_cost = optimal.gas_cost
    if free is not None:
        out.gas_free_gross = free.amount_out if case.kind is OrderKind.SELL else free.amount_in
        out.gas_free_pools = sorted(free.pools)
        out.gas_free_legs = sorted({(leg.pool, leg.token_in, leg.token_out) for leg in free.legs})
    out.vs_baseline_bp = _better_bp(optimal, base)
    out.vs_single_pool_bp = _better_bp(optimal, single)
    out.outlier = _outlier_reason(out)
    return out


def compare_with_convex(out: Outcome, case: OrderCase, graph: TokenGraph) -> None:
    """Fill in the convex optimum and our gap to it (after all orders were timed)."""
    if out.gas_free_gross is None:
        return
    # imported late: cvxpy loads highspy, whose HiGHS symbols clash with OR-Tools' own
    # copy unless OR-Tools' library is loaded first
    from bench.convex import convex_optimum

    try:
        result = convex_optimum(graph, case.sell, case.buy, case.amount, case.kind)
    except Exception as exc:  # the reference's bug: no reference for this order
        logger.warning("convex reference raised on order %s", case.index, exc_info=True)
        out.convex_status = f"error: {type(exc).__name__}: {exc}"
        out.outlier = _outlier_reason(out)
        return
    out.convex_status = result.status + (f"; {result.note}" if result.note else "")
    out.convex_note = result.note
    out.convex = result.value
    if result.value:
        if case.kind is OrderKind.SELL:
            out.gap_to_convex_bp = (result.value - out.gas_free_gross) / result.value * 1e4
        else:
            out.gap_to_convex_bp = (out.gas_free_gross - result.value) / result.value * 1e4
    if out.gap_to_convex_bp is not None and out.gap_to_convex_bp < -TOLERANCE_BP:
        why = []
        outside = sorted(set(out.gas_free_pools) - result.network)
        if outside:
            shown = ", ".join(outside[:3]) + (", ..." if len(outside) > 3 else "")
            why.append(f"our route uses {len(outside)} pool(s) the reference left out: {shown}")
        served: dict[str, tuple[str, str]] = {pool: (u, v) for pool, u, v in result.pairs}
        other = sorted(
            (pool, u, v)
            for pool, u, v in out.gas_free_legs
            if pool in served and served[pool] != (u, v)
        )
        if other:
            pool, u, v = other[0]
            a, b = served[pool]
            why.append(
                f"our route uses {len(other)} multi-token pool(s) on another pair than the "
                f"one they serve in the reference's network (e.g. {pool} for {u} -> {v}, "
                f"there {a} -> {b})"
            )
        if result.note:
            why.append(result.note)
        if not _solved(result.status):
            why.append(f"reference status: {result.status}")
        if not why:
            why.append("unexplained: over the same pools the reference bounds every route")
        out.reference_failure = (
            f"reference failure: our route beats the convex reference by "
            f"{-out.gap_to_convex_bp:.2f} bp ({'; '.join(why)})"
        )
    out.outlier = _outlier_reason(out)


def _outlier_reason(out: Outcome) -> str:
    reasons = [f"failed: {e}" for e in out.errors]
    if out.vs_baseline_bp is not None and out.vs_baseline_bp < 0:
        reasons.append(f"worse than baseline by {-out.vs_baseline_bp:.3f} bp")
    if out.convex is None and out.convex_status:
        reasons.append(f"convex reference not solved ({out.convex_status})")
    if out.reference_failure:
        reasons.append(out.reference_failure + (f" [{out.dust_reason}]" if out.dust else ""))
    if out.gap_to_convex_bp is not None and out.gap_to_convex_bp > TOLERANCE_BP:
        why = "candidate pruning or piecewise-linear error"
        if out.dust:
            why = f"dust: {out.dust_reason}"
        elif not _reliable(out):
            why = f"reference not fully accurate: {out.convex_status}"
        reasons.append(f"{out.gap_to_convex_bp:.2f} bp from the convex optimum ({why})")
    return "; ".join(reasons)


def _solved(status: str) -> bool:
    """Solved to full accuracy: by the cones, or by converged tangent cuts."""
    return status == "optimal" or (
        status.startswith("outer bound") and not status.endswith("not converged")
    )


def _reliable(out: Outcome) -> bool:
    """A reference solved to full accuracy over every pool kind it met (nothing left out,
    no flow bound reached) and not contradicted by our route."""
    status = out.convex_status.split(";")[0]
    return _solved(status) and not out.convex_note and not out.reference_failure


def _percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[k]


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def summarise(outcomes: Sequence[Outcome], graph_ms: float) -> dict[str, Any]:
    """Aggregates; extremes (max, median, largest gaps) are over orders that are not dust."""
    routed = [o for o in outcomes if o.optimal_net is not None]
    both_base = [o for o in outcomes if o.vs_baseline_bp is not None]
    real_base = [o for o in both_base if not o.dust]
    gains = [o.vs_baseline_bp for o in real_base if o.vs_baseline_bp is not None]
    both_convex = [o for o in outcomes if o.gap_to_convex_bp is not None]
    failures = [o for o in both_convex if o.reference_failure]

    def within(group: Sequence[Outcome]) -> int:
        """Within TOLERANCE_BP of the reference, not beating it by more (a reference
        failure is not a pass)."""
        return sum(
            o.gap_to_convex_bp is not None
            and o.gap_to_convex_bp <= TOLERANCE_BP
            and not o.reference_failure
            for o in group
        )

    real = [o for o in both_convex if not o.dust]
    reliable = [o for o in both_convex if _reliable(o)]
    real_gaps = [o.gap_to_convex_bp for o in real if o.gap_to_convex_bp is not None]
    times = [o.routing_ms for o in routed]
    worse = [o for o in both_base if o.vs_baseline_bp < 0]  # type: ignore[operator]
    return {
        "orders": len(outcomes),
        "failed_orders": sum(bool(o.errors) for o in outcomes),
        "routed_optimal": len(routed),
        "routed_baseline": sum(o.baseline_net is not None for o in outcomes),
        "routed_single_pool": sum(o.single_pool_net is not None for o in outcomes),
        "graph_build_ms": round(graph_ms, 1),
        "routing_ms_p50": _percentile(times, 0.5),
        "routing_ms_p99": _percentile(times, 0.99),
        "routing_ms_max": max(times) if times else None,
        "worse_than_baseline": len(worse),
        "improved_over_baseline": sum(o.vs_baseline_bp > 0.01 for o in both_base),  # type: ignore[operator]
        "improved_over_baseline_non_dust": sum(g > 0.01 for g in gains),
        "vs_baseline_bp_median": statistics.median(gains) if gains else None,
        "vs_baseline_bp_max": max(gains, default=None),
        "split_routes": sum(o.optimal_pools > 1 for o in routed),
        "convex_compared": len(both_convex),
        "convex_within_1bp": within(both_convex),
        "convex_within_1bp_share": _share(within(both_convex), len(both_convex)),
        "convex_reference_failures": len(failures),
        "convex_reference_failures_non_dust": sum(not o.dust for o in failures),
        "convex_non_dust": len(real),
        "convex_non_dust_within_1bp": within(real),
        "convex_non_dust_within_1bp_share": _share(within(real), len(real)),
        "gap_to_convex_bp_max_non_dust": max(real_gaps, default=None),
        "gap_to_convex_bp_min_non_dust": min(real_gaps, default=None),
        "dust_orders": sum(o.dust for o in outcomes),
        "convex_reliable": len(reliable),
        "convex_reliable_within_1bp": within(reliable),
        "convex_reliable_within_1bp_share": _share(within(reliable), len(reliable)),
        "convex_unsolved": sum(o.convex is None and o.convex_status != "" for o in outcomes),
        "outliers": [
            {"index": o.index, "uid": o.uid, "reason": o.outlier} for o in outcomes if o.outlier
        ],
    }


def _plots(outcomes: Sequence[Outcome], out_dir: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    times = [o.routing_ms for o in outcomes if o.optimal_net is not None]
    if times:
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.hist(times, bins=50, log=True)
        ax.set_xlabel("routing time per order (ms)")
        ax.set_ylabel("orders")
        ax.set_title("Optimal router latency (graph built once)")
        fig.tight_layout()
        fig.savefig(out_dir / "latency.png", dpi=120)
        plt.close(fig)
        files.append("latency.png")
    gains = [o.vs_baseline_bp for o in outcomes if o.vs_baseline_bp is not None]
    if gains:
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.hist([min(g, 500.0) for g in gains], bins=50, log=True)
        ax.set_xlabel("net improvement over CoW baseline (bp, capped at 500)")
        ax.set_ylabel("orders")
        fig.tight_layout()
        fig.savefig(out_dir / "vs_baseline.png", dpi=120)
        plt.close(fig)
        files.append("vs_baseline.png")
    gaps = [o.gap_to_convex_bp for o in outcomes if o.gap_to_convex_bp is not None]
    if gaps:
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.hist([max(min(g, 20.0), -20.0) for g in gaps], bins=80, log=True)
        ax.axvline(TOLERANCE_BP, color="red", linestyle="--", label="1 bp")
        ax.set_xlabel("gap to convex optimum (bp, clipped to +-20; negative = we beat it)")
        ax.set_ylabel("orders")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out_dir / "gap_to_convex.png", dpi=120)
        plt.close(fig)
        files.append("gap_to_convex.png")
    return files


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def write_report(
    out_dir: Path, outcomes: Sequence[Outcome], summary: dict[str, Any], command: str
) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(
        json.dumps(
            {"summary": summary, "orders": [asdict(o) for o in outcomes]},
            indent=1,
            default=str,
        )
    )
    plots = _plots(outcomes, out_dir)
    s = summary
    lines = [
        "# Routing benchmark",
        "",
        f"Command: `{command}`",
        "",
        "| metric | value |",
        "|---|---|",
        f"| orders | {s['orders']} (routed: optimal {s['routed_optimal']}, baseline "
        f"{s['routed_baseline']}, single pool {s['routed_single_pool']}) |",
        f"| graph build | {_fmt(s['graph_build_ms'], 1)} ms |",
        f"| routing time p50 / p99 / max | {_fmt(s['routing_ms_p50'])} / "
        f"{_fmt(s['routing_ms_p99'])} / {_fmt(s['routing_ms_max'])} ms |",
        f"| orders that failed (a strategy raised something other than NoRoute) | "
        f"{s['failed_orders']} |",
        f"| worse than baseline (net of gas) | {s['worse_than_baseline']} |",
        f"| better than baseline (non-dust) | {s['improved_over_baseline_non_dust']} orders, "
        f"median {_fmt(s['vs_baseline_bp_median'])} bp, max {_fmt(s['vs_baseline_bp_max'])} bp "
        f"({s['improved_over_baseline']} with dust) |",
        f"| split routes (more than one pool) | {s['split_routes']} |",
        f"| within 1 bp of the convex optimum | {s['convex_within_1bp']} of "
        f"{s['convex_compared']} ({_fmt((s['convex_within_1bp_share'] or 0) * 100, 1)}%) |",
        f"| same, orders that are not dust ({s['dust_orders']} dust) | "
        f"{s['convex_non_dust_within_1bp']} of {s['convex_non_dust']} "
        f"({_fmt((s['convex_non_dust_within_1bp_share'] or 0) * 100, 1)}%) |",
        f"| same, references solved to full accuracy with all pool kinds | "
        f"{s['convex_reliable_within_1bp']} of {s['convex_reliable']} "
        f"({_fmt((s['convex_reliable_within_1bp_share'] or 0) * 100, 1)}%) |",
        f"| reference failures (our route beats the reference by > {TOLERANCE_BP:g} bp; "
        f"counted as misses above) | {s['convex_reference_failures']} "
        f"({s['convex_reference_failures_non_dust']} not dust) |",
        f"| largest / smallest gap to the reference (non-dust; negative: our route is "
        f"better) | {_fmt(s['gap_to_convex_bp_max_non_dust'], 3)} / "
        f"{_fmt(s['gap_to_convex_bp_min_non_dust'], 3)} bp |",
        f"| convex reference not solved | {s['convex_unsolved']} |",
        "",
        f"Dust ({DUST_GAS:,} gas): {DUST}. Dust orders are left out of the extremes (max and "
        "median improvement over the baseline, largest gap and lead over the reference).",
        "",
        *[f"![{p}]({p})" for p in plots],
        "",
        "## Outliers",
        "",
    ]
    if s["outliers"]:
        lines += [
            f"- order {o['index']} (`{o['uid'][:18]}…`): {o['reason']}" for o in s["outliers"]
        ]
    else:
        lines.append("none")
    lines += [
        "",
        "## Per order",
        "",
        "| # | kind | optimal net | baseline net | vs baseline bp | vs single pool bp | "
        "gap to convex bp | pools | ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        lines.append(
            f"| {o.index} | {o.kind} | {_fmt(o.optimal_net)} | {_fmt(o.baseline_net)} | "
            f"{_fmt(o.vs_baseline_bp)} | {_fmt(o.vs_single_pool_bp)} | "
            f"{_fmt(o.gap_to_convex_bp, 3)} | {o.optimal_pools} | {o.routing_ms:.2f} |"
        )
    (out_dir / "report.md").write_text("\n".join(lines) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tributary bench routing")
    parser.add_argument("--auction", required=True, help="auction JSON (legacy or solver)")
    parser.add_argument("--orders", type=int, default=None, help="only the first N orders")
    parser.add_argument("--report", default="bench/out/routing", help="report directory")
    parser.add_argument("--max-hops", type=int, default=3)
    parser.add_argument("--no-convex", action="store_true", help="skip the convex reference")
    parser.add_argument(
        "--perturb",
        type=int,
        default=None,
        metavar="SEED",
        help="rescale every pool's reserves at random (reproducible for a SEED)",
    )
    parser.add_argument(
        "--perturb-spread",
        type=float,
        default=2.0,
        metavar="X",
        help="with --perturb: each factor is log-uniform in [1/X, X] (default 2)",
    )
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    doc = json.loads(Path(args.auction).read_text())
    snapshot = load_snapshot(args.auction)
    if args.perturb is not None:
        pools = perturb_pools(snapshot.pools, args.perturb, args.perturb_spread)
        snapshot = dataclasses.replace(snapshot, pools=pools)
    cases = load_orders(doc)[: args.orders]
    graph = build_graph(snapshot)
    gas_free_graph = graph.with_gas_price(0)
    router = Router(graph, RouterConfig(max_hops=args.max_hops))
    gas_free = Router(gas_free_graph, RouterConfig(max_hops=args.max_hops, gas_aware=False))
    outcomes = [
        route_order(case, graph, router, gas_free)
        for case in tqdm(cases, desc="routing orders", unit="order")
    ]
    if not args.no_convex:
        for case, outcome in tqdm(
            list(zip(cases, outcomes, strict=True)), desc="convex optimum", unit="order"
        ):
            compare_with_convex(outcome, case, graph)
    summary = summarise(outcomes, graph.build_seconds * 1e3)
    command = "tributary bench routing " + " ".join(argv)
    write_report(Path(args.report), outcomes, summary, command)
    print(json.dumps({k: v for k, v in summary.items() if k != "outliers"}, indent=1))
    print(f"{len(summary['outliers'])} outliers; report in {args.report}/report.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
