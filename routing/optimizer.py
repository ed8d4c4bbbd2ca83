"""Split routing with OR-Tools: a generalized network flow over piecewise-linear pool curves.

The ``Router`` runs the stages of ``routing.split`` for one order, sharing one
``CurveCache`` (exact pool-math samples per pool and direction) across stages and orders:

1. ``candidates``: the candidate network (``routing.paths``: best token paths by marginal
   rate plus the base-token paths, as a DAG of (pool, direction) edges) and the wider
   pricing network;
2. ``fast_path``: prices the best single path exactly (best pool per hop, net of gas) and
   returns it at once when no split can beat it: every other edge path's marginal rate,
   with the single path's own pools at their post-trade marginal rates, is no better than
   the single path's marginal rate (the KKT condition of the concave problem), or the most
   any split could gain is below the gas of one more pool;
3. ``model`` and ``solve``: otherwise solves a linear program (GLOP): each edge's output is
   a concave piecewise-linear function of its input whose breakpoints are the exact pool
   math at a geometric grid of inputs, flow is conserved at intermediate tokens, output is
   maximised (sell orders) or input minimised (buy orders); breakpoints are added around
   the solution and the LP re-solved until the exact re-simulation (``resimulate``) agrees
   with the model within ``tolerance_bp``; each round ``pricing`` adds the pools outside
   the model that would pay;
4. when the LP splits, solves the mixed-integer variant (SCIP) with one binary per edge that
   charges the pool's gas in the objective token, so splits that cost more gas than they
   earn are dropped (SCIP's gap is closed to a fraction of the cheapest gas: on a large
   order one pool's gas is a few millionths of the output);
5. re-simulates every answer with the exact integer math (legs in topological order that
   conserve tokens), then ``prune`` greedily drops any pool whose exact gain is below its
   gas (its flow re-routed through the remaining pools) and the flows over the pools kept
   are re-balanced with the LP; returns the best net of gas, never worse than the best
   single path, with the reasons (``explain``).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from routing.baseline import base_token_paths, best_path_route, make_route
from routing.graph import Edge, TokenGraph
from routing.paths import (
    DEFAULT_MAX_HOPS,
    DEFAULT_MAX_PARALLEL,
    DEFAULT_MAX_PATHS,
    DEFAULT_MAX_POOLS,
    CandidateNetwork,
)
from routing.pool import TokenAddress
from routing.route import NoRoute, OrderKind, Route
from routing.split.candidates import Candidates, Limits, order_candidates
from routing.split.curves import CurveCache
from routing.split.explain import drop_note, explain, relabel
from routing.split.fast_path import single_is_optimal
from routing.split.model import (
    Order,
    Sampling,
    Solution,
    SplitModel,
    add_edges,
    build_model,
    padded,
    refine,
    restrict,
    sub_model,
)
from routing.split.pricing import price
from routing.split.prune import prune
from routing.split.resimulate import resimulate
from routing.split.solve import solve

logger = logging.getLogger(__name__)

MIN_ROUNDS = 4
"""Refinement rounds (spacing 1/4 ... 1/64 around the flows) before a split may stop."""


@dataclass(frozen=True, slots=True)
class RouterConfig:
    """Knobs of the optimizer (defaults tuned on the mainnet auction)."""

    max_hops: int = DEFAULT_MAX_HOPS
    max_paths: int = DEFAULT_MAX_PATHS
    max_parallel: int = DEFAULT_MAX_PARALLEL
    max_pools: int = DEFAULT_MAX_POOLS
    time_limit_ms: int = 50
    """Per LP solve."""
    mip_time_limit_ms: int = 15
    """For the MIP; past it SCIP's best incumbent is used (and still re-simulated)."""
    tolerance_bp: float = 1.0
    """Stop refining when the exact re-simulation is within this of the model."""
    max_refinements: int = 8
    grid_span_bits: int = 12
    """Breakpoints cover inputs from ``cap / 2**span`` to ``cap`` in powers of two."""
    gas_aware: bool = True
    """Solve the MIP that charges each pool's gas when the LP splits."""
    pricing_paths: int = 24
    """Column generation: pools on the best this many token paths (every parallel pool, no
    cap) are priced at the LP's solution and join the model when they would pay; 0 keeps
    the LP on the candidate network."""


class Router:
    """Routes orders over one token graph; keeps exact curve samples across orders."""

    def __init__(self, graph: TokenGraph, config: RouterConfig | None = None) -> None:
        self.graph = graph
        self.config = config or RouterConfig()
        self.curves = CurveCache()  # exact pool-math samples: every stage, every order
        self._sampling = Sampling(graph, self.curves, self.config.grid_span_bits)
        self._networks: dict[tuple[TokenAddress, TokenAddress, int | None, int], Candidates] = {}

    def route(
        self,
        sell: TokenAddress,
        buy: TokenAddress,
        amount: int,
        kind: OrderKind = OrderKind.SELL,
        *,
        max_hops: int | None = None,
    ) -> Route:
        """The best route found for the order, exactly re-simulated; raises ``NoRoute``."""
        if amount <= 0:
            raise NoRoute(f"amount {amount} is not positive")
        hops = max_hops or self.config.max_hops
        # the baseline's base-token paths are always candidates: never worse than it
        include = [p for p in base_token_paths(sell, buy) if len(p) - 1 <= hops]
        level = self.graph.level(sell if kind is OrderKind.SELL else buy, amount)
        tried, network, wide = self._candidates(sell, buy, level, hops, include)
        single = best_path_route(self.graph, tried, sell, buy, amount, kind)
        if single is not None:
            reason = single_is_optimal(
                self.graph, self.curves, single, wide or network, amount, kind
            )
            if reason is not None:
                return relabel(single, (*single.explanation, reason))
        best = single
        order = Order(sell, buy, amount, kind)
        for candidate in self._optimize(network, wide, order, single):
            if candidate.better_than(best):
                best = candidate
        if best is None:
            raise NoRoute(f"no route from {sell} to {buy} fills {amount} ({kind.value})")
        if best is single:
            why = "no LP/MIP split beat the best single path net of gas after exact re-simulation"
            return relabel(best, (*best.explanation, why))
        return best

    def _candidates(
        self,
        sell: TokenAddress,
        buy: TokenAddress,
        level: int | None,
        hops: int,
        include: list[tuple[TokenAddress, ...]],
    ) -> Candidates:
        """``order_candidates``, cached per pair, size level and hop limit (the graph
        never changes)."""
        key = (sell, buy, level, hops)
        cached = self._networks.get(key)
        if cached is None:
            cfg = self.config
            limits = Limits(cfg.max_paths, cfg.max_parallel, cfg.max_pools, cfg.pricing_paths)
            cached = order_candidates(self.graph, limits, (sell, buy), level, hops, include)
            self._networks[key] = cached
        return cached

    # -- LP / MIP ------------------------------------------------------------------------

    def _optimize(
        self,
        network: CandidateNetwork,
        wide: CandidateNetwork | None,
        order: Order,
        single: Route | None,
    ) -> list[Route]:
        """The LP's route, the MIP's when a split may pay its gas, each pruned (and
        re-balanced when pruning dropped pools)."""
        if not network.edges:
            return []
        model = build_model(self._sampling, network, wide or network, order, single)
        if model is None:
            return []
        lp_route, lp_solution = self._refined_lp(model, wide)
        if lp_route is None or lp_solution is None:
            return []
        found: list[tuple[SplitModel, Route]] = [(model, lp_route)]
        if self.config.gas_aware and self._split_may_pay(lp_route, single):
            mip = self._mip_route(model, lp_route, lp_solution, single)
            if mip is not None:
                found.append(mip)
        routes: list[Route] = []
        for m, route in reversed(found):  # the MIP's first: it explains a tie
            pruned = prune(self.graph, self.curves, m, route)
            routes.append(pruned)
            if len(pruned.pools) < len(lp_route.pools):
                routes.append(self._rebalance(m, pruned))
        return routes

    def _mip_route(
        self, model: SplitModel, lp_route: Route, lp_solution: Solution, single: Route | None
    ) -> tuple[SplitModel, Route] | None:
        """The gas-aware MIP over the LP's pools and the single path's, re-simulated."""
        restricted = restrict(model, lp_solution, single)
        mip = solve(restricted, mip=True, time_limit_ms=self.config.mip_time_limit_ms)
        legs = None if mip is None else resimulate(self.curves, restricted, mip)
        if legs is None:
            return None
        mip_route = make_route(self.graph, "optimal", model.kind, model.sell, model.buy, legs)
        why = explain(restricted, legs, gas_aware=True)
        if set(mip_route.pools) < set(lp_route.pools):
            why.append(drop_note(lp_route, mip_route, "the gas-aware MIP"))
        return restricted, relabel(mip_route, why)

    def _refined_lp(
        self, model: SplitModel, wide: CandidateNetwork | None = None, min_rounds: int = MIN_ROUNDS
    ) -> tuple[Route | None, Solution | None]:
        """The LP's best exact route and its solution, refining the breakpoints around the
        flows until the exact re-simulation agrees with the model; with ``wide``, each
        round also adds the pools of ``wide`` that ``price`` finds would pay."""
        cfg = self.config
        kind = model.kind
        extra: list[set[int]] = [set() for _ in model.network.edges]
        lp_route: Route | None = None
        lp_solution: Solution | None = None
        previous: Route | None = None
        price_next = True
        joined = 0
        for round_ in range(cfg.max_refinements + 1):
            solution = solve(model, mip=False, time_limit_ms=cfg.time_limit_ms)
            if solution is None:
                break
            legs = resimulate(self.curves, model, solution)
            if legs is None:
                break
            current = make_route(
                self.graph, "optimal", kind, model.sell, model.buy, legs, explain(model, legs)
            )
            if current.better_than(lp_route):
                lp_route, lp_solution = current, solution
            exact = current.amount_out if kind is OrderKind.SELL else current.amount_in
            gap_bp = abs(exact - solution.objective) / max(exact, 1) * 1e4
            gain_bp = _gain_bp(current, previous)
            logger.debug(
                "LP round %d: model %.6g exact %d gap %.3f bp",
                round_,
                solution.objective,
                exact,
                gap_bp,
            )
            # agreed with the model and refining no longer moves the exact result
            # and the breakpoints around the solution are within 1/64 of its flows
            fine = round_ - joined >= min_rounds or len(current.pools) == 1
            done = gap_bp <= cfg.tolerance_bp and gain_bp <= cfg.tolerance_bp / 10 and fine
            # priced at the first round, after pools joined, and before stopping
            priced: list[Edge] = []
            if wide is not None and (done or price_next):
                present = {e.key for e in model.network.edges}
                priced = price(
                    self.graph, self.curves, current, present, wide, gas_aware=cfg.gas_aware
                )
            price_next = bool(priced)
            if priced:
                logger.debug("LP round %d: %d priced pool edges join", round_, len(priced))
                joined = round_ + 1  # the refinement schedule starts over for them
                add_edges(self._sampling, model, priced)
                extra += [set() for _ in priced]
            elif done:
                break
            previous = current
            refine(self._sampling, model, solution, extra, 0.5 ** (round_ - joined + 2))
        if lp_solution is not None:  # no flow on the edges priced in after it
            lp_solution = padded(lp_solution, len(model.network.edges))
        return lp_route, lp_solution

    def _rebalance(self, model: SplitModel, route: Route) -> Route:
        """``route`` (pools dropped from a split) with its flows re-optimised by the LP over
        the pools it kept, pruned again; ``route`` itself if that is not better."""
        used = {(leg.pool, leg.token_in) for leg in route.legs}
        keep = [i for i, e in enumerate(model.network.edges) if (e.pool.id, e.token_in) in used]
        sub = sub_model(model, keep, [list(model.breakpoints[i]) for i in keep])
        # the breakpoints are already refined around the flows: one more round suffices
        balanced, _ = self._refined_lp(sub, min_rounds=1)
        if balanced is None:
            return route
        balanced = prune(self.graph, self.curves, sub, balanced)
        if not balanced.better_than(route):
            return route
        notes = [t for t in route.explanation if "dropped pool" in t]
        why = (*balanced.explanation, *notes, "flows re-balanced by the LP over the pools kept")
        return relabel(balanced, why)

    def _split_may_pay(self, lp_route: Route, single: Route | None) -> bool:
        """Whether the MIP can beat both the LP and the single path: the LP splits, and its
        gross gain over the single path (about the most any split gains) exceeds the gas of
        one more pool."""
        if single is None:
            return len(lp_route.pools) > 1
        extra = [p for p in lp_route.pools if p not in single.pools]
        if not extra:
            return False
        if lp_route.kind is OrderKind.SELL:
            gain = lp_route.amount_out - single.amount_out
            token = lp_route.buy_token
        else:
            gain = single.amount_in - lp_route.amount_in
            token = lp_route.sell_token
        cheapest = min(self.graph.pools[p].gas for p in extra)
        return gain > self.graph.gas_cost(cheapest, token)


def _gain_bp(current: Route, previous: Route | None) -> float:
    """How much ``current`` improved on ``previous`` (infinite for the first round)."""
    if previous is None:
        return math.inf
    if current.kind is OrderKind.SELL:
        return (current.amount_out - previous.amount_out) / max(previous.amount_out, 1) * 1e4
    return (previous.amount_in - current.amount_in) / max(previous.amount_in, 1) * 1e4
