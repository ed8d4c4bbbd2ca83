"""Split routing with OR-Tools: a generalized network flow over piecewise-linear pool curves.

For one order the router

1. takes the candidate network (``routing.paths``: best token paths by marginal rate plus the
   base-token paths, as a DAG of (pool, direction) edges);
2. prices the best single path exactly (best pool per hop, net of gas) and returns it at once
   when no split can beat it: every other edge path's marginal rate, with the single path's
   own pools at their post-trade marginal rates, is no better than the single path's marginal
   rate (the KKT condition of the concave problem), or the most any split could gain is below
   the gas of one more pool;
3. otherwise solves a linear program (GLOP): each edge's output is a concave piecewise-linear
   function of its input whose breakpoints are the exact pool math at a geometric grid of
   inputs (cached per pool and direction across orders), flow is conserved at intermediate
   tokens, output is maximised (sell orders) or input minimised (buy orders); breakpoints are
   added around the solution and the LP re-solved until the exact re-simulation agrees with
   the model within ``tolerance_bp``;
4. when the LP splits, solves the mixed-integer variant (SCIP) with one binary per edge that
   charges the pool's gas in the objective token, so splits that cost more gas than they
   earn are dropped (SCIP's gap is closed to a fraction of the cheapest gas: on a large
   order one pool's gas is a few millionths of the output);
5. re-simulates every answer with the exact integer math (legs in topological order that
   conserve tokens), then greedily drops any pool whose exact gain is below its gas (its
   flow re-routed through the remaining pools) and re-balances the flows over the pools
   kept with the LP; returns the best net of gas, never worse than the best single path.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from ortools.linear_solver.python import model_builder_helper as mbh
from scipy import sparse

from routing.baseline import base_token_paths, best_path_route, make_route
from routing.graph import Edge, TokenGraph
from routing.paths import (
    DEFAULT_MAX_HOPS,
    DEFAULT_MAX_PARALLEL,
    DEFAULT_MAX_PATHS,
    DEFAULT_MAX_POOLS,
    CandidateNetwork,
    candidate_network,
    candidate_paths,
)
from routing.pool import PoolId, PoolMathError, TokenAddress
from routing.route import Leg, NoRoute, OrderKind, Route

logger = logging.getLogger(__name__)

_EPS = 1e-9
MIP_SPAN = 4.0
MIN_ROUNDS = 4
"""Refinement rounds (spacing 1/4 ... 1/64 around the flows) before a split may stop."""
_SHARE_BITS = 2**52
_EXACT = 10**6
"""Inputs and outputs at least this large (base units) give average rates that integer
rounding moves by less than ``PRICING_MARGIN``."""
_SHALLOW_POINTS = 4
_Key = tuple[PoolId, TokenAddress, TokenAddress]
_Candidates = tuple[list[tuple[TokenAddress, ...]], CandidateNetwork, CandidateNetwork | None]
VALUE_SLACK = 16.0
"""A token's flow is modelled up to this many times the order's value in it (reference
prices); refinement extends a pool's breakpoints past that if the LP fills it."""
PRICING_MARGIN = 1e-6
"""A priced pool joins the LP when it beats the route's marginal value by this much."""


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


class _Curve:
    """Exact ``amount_out`` of one edge at the inputs asked so far, and where it fails."""

    __slots__ = ("edge", "failed_at", "points")

    def __init__(self, edge: Edge) -> None:
        self.edge = edge
        self.points: dict[int, int] = {0: 0}
        self.failed_at: int | None = None

    def out(self, amount_in: int) -> int | None:
        known = self.points.get(amount_in)
        if known is not None:
            return known
        if self.failed_at is not None and amount_in >= self.failed_at:
            return None
        edge = self.edge
        try:
            value = edge.pool.amount_out(edge.token_in, edge.token_out, amount_in)
        except PoolMathError:
            self.failed_at = amount_in
            return None
        self.points[amount_in] = value
        return value

    def last_feasible(self, low: int, high: int) -> int:
        """Bisect for (nearly) the largest input in ``[low, high)`` the pool can take."""
        for _ in range(24):
            mid = (low + high) // 2
            if mid in (low, high):
                break
            if self.out(mid) is None:
                high = mid
            else:
                low = mid
        return low


@dataclass(slots=True)
class _Model:
    """The edges of one order's LP with their breakpoints and per-token scales."""

    network: CandidateNetwork
    kind: OrderKind
    sell: TokenAddress
    buy: TokenAddress
    amount: int
    scale: dict[TokenAddress, float]
    breakpoints: list[list[tuple[int, int]]]
    gas_cost: list[float]
    """Per edge, the pool's gas in the objective token, in that token's scaled units."""


@dataclass(slots=True)
class _Solution:
    flow_in: list[float]
    flow_out: list[float]
    objective: float
    """Model output (sell) or input (buy) in base units, gas excluded."""


class Router:
    """Routes orders over one token graph; keeps exact curve samples across orders."""

    def __init__(self, graph: TokenGraph, config: RouterConfig | None = None) -> None:
        self.graph = graph
        self.config = config or RouterConfig()
        self._curves: dict[tuple[str, str, str], _Curve] = {}
        self._networks: dict[tuple[TokenAddress, TokenAddress, int | None, int], _Candidates] = {}

    def _curve(self, edge: Edge) -> _Curve:
        curve = self._curves.get(edge.key)
        if curve is None:
            curve = self._curves[edge.key] = _Curve(edge)
        return curve

    # -- public ------------------------------------------------------------------------

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
        cfg = self.config
        hops = max_hops or cfg.max_hops
        # the baseline's base-token paths are always candidates: never worse than it
        include = [p for p in base_token_paths(sell, buy) if len(p) - 1 <= hops]
        level = self.graph.level(sell if kind is OrderKind.SELL else buy, amount)
        tried, network, wide = self._candidates(sell, buy, level, hops, include)
        single = best_path_route(self.graph, tried, sell, buy, amount, kind)
        if single is not None:
            reason = self._single_is_optimal(single, wide or network, amount, kind)
            if reason is not None:
                return _relabel(single, (*single.explanation, reason))
        best = single
        for candidate in self._optimize(network, wide, sell, buy, amount, kind, single):
            if candidate.better_than(best):
                best = candidate
        if best is None:
            raise NoRoute(f"no route from {sell} to {buy} fills {amount} ({kind.value})")
        if best is single:
            why = "no LP/MIP split beat the best single path net of gas after exact re-simulation"
            return _relabel(best, (*best.explanation, why))
        return best

    def _candidates(
        self,
        sell: TokenAddress,
        buy: TokenAddress,
        level: int | None,
        hops: int,
        include: list[tuple[TokenAddress, ...]],
    ) -> _Candidates:
        """The token paths to price as single paths, the candidate network and the pricing
        network (``None`` without column generation); cached per pair, size level and hop
        limit (the graph never changes)."""
        key = (sell, buy, level, hops)
        cached = self._networks.get(key)
        if cached is not None:
            return cached
        cfg = self.config
        paths = candidate_paths(
            self.graph,
            sell,
            buy,
            max_hops=hops,
            max_paths=cfg.max_paths,
            level=level,
            include=include,
        )
        if not paths and level is not None:
            # no pool takes an order this size in one go: rank by spot rate instead
            paths = candidate_paths(
                self.graph, sell, buy, max_hops=hops, max_paths=cfg.max_paths, include=include
            )
        tried = list(dict.fromkeys([*(p.tokens for p in paths), *include]))
        network = candidate_network(
            self.graph,
            paths,
            max_parallel=cfg.max_parallel,
            max_pools=cfg.max_pools,
            level=level,
        )
        wide = None
        if cfg.pricing_paths > 0:
            wide_paths = candidate_paths(
                self.graph,
                sell,
                buy,
                max_hops=hops,
                max_paths=max(cfg.pricing_paths, cfg.max_paths),
                level=level,
                include=[*(p.tokens for p in paths), *include],
            )
            unlimited = len(self.graph.pools) + 1
            wide = candidate_network(
                self.graph, wide_paths, max_parallel=unlimited, max_pools=unlimited, level=level
            )
            # the LP starts from the candidate network's pools that fit the pricing DAG
            keys = {e.key for e in network.edges}
            start = tuple(e for e in wide.edges if e.key in keys)
            if start:
                network = CandidateNetwork(network.paths, start, wide.order)
            else:
                wide = None
        self._networks[key] = (tried, network, wide)
        return tried, network, wide

    # -- fast path ---------------------------------------------------------------------

    def _single_is_optimal(
        self, single: Route, network: CandidateNetwork, amount: int, kind: OrderKind
    ) -> str | None:
        """Why no split can beat ``single`` (a sentence), or ``None`` if one might."""
        marginal: dict[tuple[str, str, str], float] = {}
        rate = 1.0
        for leg in single.legs:
            edge = next(
                (e for e in self.graph.edges(leg.token_in, leg.token_out) if e.pool.id == leg.pool),
                None,
            )
            if edge is None:
                return None
            step = max(leg.amount_in // 100_000, 1)
            lower = self._curve(edge).out(leg.amount_in - step)
            if lower is None:
                return None
            m = (leg.amount_out - lower) / step
            marginal[edge.key] = m
            rate *= m
        # best marginal rate over edge paths of the network at the single route's state
        best_at = _best_products(
            network, single.sell_token, lambda edge: marginal.get(edge.key, edge.rate)
        )
        used = {leg.pool for leg in single.legs}
        cheapest_gas = min(
            (e.pool.gas for e in network.edges if e.pool.id not in used), default=None
        )
        best_rate = best_at.get(single.buy_token, 0.0)
        if best_rate <= rate * (1 + 1e-9):
            return (
                "single path is optimal: no other candidate path's marginal rate "
                f"({best_rate:.6g}) beats its marginal rate after the trade ({rate:.6g})"
            )
        if kind is OrderKind.SELL and cheapest_gas is not None:
            bound = (best_rate - rate) * amount
            gas = self.graph.gas_cost(cheapest_gas, single.buy_token)
            if gas > 0 and bound < gas:
                return (
                    f"a split could gain at most {bound:.0f} of the buy token, less than the "
                    f"gas of one more pool ({gas})"
                )
        return None

    # -- LP / MIP ------------------------------------------------------------------------

    def _optimize(
        self,
        network: CandidateNetwork,
        wide: CandidateNetwork | None,
        sell: TokenAddress,
        buy: TokenAddress,
        amount: int,
        kind: OrderKind,
        single: Route | None,
    ) -> list[Route]:
        if not network.edges:
            return []
        model = self._model(network, wide or network, sell, buy, amount, kind, single)
        if model is None:
            return []
        cfg = self.config
        lp_route, lp_solution = self._refined_lp(model, wide)
        if lp_route is None or lp_solution is None:
            return []
        found: list[tuple[_Model, Route]] = [(model, lp_route)]
        if cfg.gas_aware and self._split_may_pay(lp_route, single):
            restricted = self._restrict(model, lp_solution, single)
            mip = self._solve(restricted, mip=True)
            legs = None if mip is None else self._resimulate(restricted, mip)
            if legs is not None:
                mip_route = make_route(self.graph, "optimal", kind, sell, buy, legs)
                why = self._explain(restricted, legs, gas_aware=True)
                if set(mip_route.pools) < set(lp_route.pools):
                    why.append(_drop_note(lp_route, mip_route, "the gas-aware MIP"))
                found.append((restricted, _relabel(mip_route, why)))
        routes: list[Route] = []
        for m, route in reversed(found):  # the MIP's first: it explains a tie
            pruned = self._prune(m, route)
            routes.append(pruned)
            if len(pruned.pools) < len(lp_route.pools):
                routes.append(self._rebalance(m, pruned))
        return routes

    def _refined_lp(
        self, model: _Model, wide: CandidateNetwork | None = None, min_rounds: int = MIN_ROUNDS
    ) -> tuple[Route | None, _Solution | None]:
        """The LP's best exact route and its solution, refining the breakpoints around the
        flows until the exact re-simulation agrees with the model; with ``wide``, each
        round also adds the pools of ``wide`` that ``_price`` finds would pay."""
        cfg = self.config
        kind = model.kind
        extra: list[set[int]] = [set() for _ in model.network.edges]
        lp_route: Route | None = None
        lp_solution: _Solution | None = None
        previous: Route | None = None
        price_next = True
        joined = 0
        for round_ in range(cfg.max_refinements + 1):
            solution = self._solve(model, mip=False)
            if solution is None:
                break
            legs = self._resimulate(model, solution)
            if legs is None:
                break
            current = make_route(
                self.graph, "optimal", kind, model.sell, model.buy, legs, self._explain(model, legs)
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
                priced = self._price(model.buy, present, current, wide)
            price_next = bool(priced)
            if priced:
                logger.debug("LP round %d: %d priced pool edges join", round_, len(priced))
                joined = round_ + 1  # the refinement schedule starts over for them
                self._add_edges(model, priced)
                extra += [set() for _ in priced]
            elif done:
                break
            previous = current
            self._refine(model, solution, extra, 0.5 ** (round_ - joined + 2))
        if lp_solution is not None:  # no flow on the edges priced in after it
            pad = [0.0] * (len(model.network.edges) - len(lp_solution.flow_in))
            lp_solution = _Solution(
                lp_solution.flow_in + pad, lp_solution.flow_out + pad, lp_solution.objective
            )
        return lp_route, lp_solution

    def _price(
        self,
        buy: TokenAddress,
        present: set[_Key],
        route: Route,
        wide: CandidateNetwork,
    ) -> list[Edge]:
        """Column generation: the pool edges of ``wide`` outside the model that would pay at
        the route's state (positive reduced cost), with the edges that lead on from them.

        Token values in buy-token units: 1 for the buy token; for a token the route uses,
        the best marginal rate of its legs times the next token's value, taken both from
        the right (what one more unit earns: ``lo``) and from the left (what the last unit
        earned: ``hi``; the LP's dual lies between them); for a token it does not use, the
        best spot rate on to a valued token (every piece of a concave curve lies below its
        spot line, so no flow through it earns more). An edge ``u -> v`` pays when its spot
        rate times ``hi[v]`` beats ``lo[u]``; into an unused token, its edges join in
        turn when they pay at the path's break-even value. An edge whose gain is bounded
        (``_gain_bound``) below its pool's gas or ``PRICING_MARGIN`` of the output stays
        out."""
        legs_from: dict[TokenAddress, list[Leg]] = {}
        for leg in route.legs:
            legs_from.setdefault(leg.token_in, []).append(leg)
        by_key = {e.key: e for e in wide.edges}
        out_edges: dict[TokenAddress, list[Edge]] = {}
        for edge in wide.edges:
            out_edges.setdefault(edge.token_in, []).append(edge)
        lo: dict[TokenAddress, float] = {buy: 1.0}
        hi: dict[TokenAddress, float] = {buy: 1.0}
        for token in reversed(wide.order):
            if token == buy:
                continue
            legs = legs_from.get(token)
            if legs:
                for leg in legs:
                    right, left = self._slopes(by_key[(leg.pool, leg.token_in, leg.token_out)], leg)
                    v_lo = right * lo.get(leg.token_out, 0.0)
                    v_hi = left * hi.get(leg.token_out, 0.0)
                    lo[token] = max(lo.get(token, 0.0), v_lo)
                    hi[token] = max(hi.get(token, 0.0), v_hi)
                continue
            for edge in out_edges.get(token, ()):
                value = edge.rate * hi.get(edge.token_out, 0.0)
                hi[token] = max(hi.get(token, 0.0), value)
        added: dict[_Key, Edge] = {}
        cheapest: dict[TokenAddress, float] = {}  # lowest break-even value explored per token
        gas_aware = self.config.gas_aware

        def extend(token: TokenAddress, value: float, flow: int) -> None:
            """Add the edges out of ``token`` that pay at ``value`` a unit, and on through
            unused tokens at the break-even value of the path so far."""
            for edge in out_edges.get(token, ()):
                target = hi.get(edge.token_out, 0.0)
                if edge.rate * target <= value * (1 + PRICING_MARGIN):
                    continue
                if edge.key not in present:
                    gas = self.graph.gas_cost(edge.pool.gas, buy) if gas_aware else 0
                    floor = max(route.amount_out * PRICING_MARGIN, gas)
                    if self._gain_bound(edge, flow, value, target) < floor:
                        continue
                    added[edge.key] = edge
                nxt = edge.token_out
                need = value / edge.rate
                if nxt != buy and nxt not in legs_from and need < cheapest.get(nxt, math.inf):
                    cheapest[nxt] = need
                    extend(nxt, need, int(flow * edge.rate))

        for token, value in lo.items():
            if token != buy and token in legs_from:
                extend(token, value, sum(leg.amount_in for leg in legs_from[token]))
        return list(added.values())

    def _gain_bound(self, edge: Edge, flow: int, value: float, target: float) -> float:
        """At most how much (buy-token units) ``edge`` can add to a route sending ``flow``
        into its input token worth ``value`` a unit, its output worth ``target``: past the
        smallest probe input ``x`` whose average rate no longer beats ``value / target``
        its (concave) curve's slope does not either, so the gain is below ``x`` times the
        spot advantage."""
        curve = self._curve(edge)
        advantage = edge.rate * target - value
        for shift in range(20, 1, -2):
            x = 1 << max(flow.bit_length() - shift, 0)  # powers of two: cached across calls
            if x < _EXACT or x * edge.rate < _EXACT:
                continue  # integer rounding would dominate the average rate
            out = curve.out(x)
            if out is None or out * target <= x * value:
                return x * advantage
        return 2 * flow * advantage

    def _slopes(self, edge: Edge, leg: Leg) -> tuple[float, float]:
        """Exact secant rates of ``edge`` over 1/256 of the leg's input above and below it
        (0.0 above when the pool takes no more): by concavity at most the marginal rate
        above and at least the one below, so pricing errs towards adding pools, and wide
        enough that integer rounding does not swamp them."""
        curve = self._curve(edge)
        step = max(leg.amount_in >> 8, 1)
        above = curve.out(leg.amount_in + step)
        below = curve.out(leg.amount_in - step) if leg.amount_in > step else 0
        right = 0.0 if above is None else (above - leg.amount_out) / step
        left = edge.rate if below is None else (leg.amount_out - below) / min(step, leg.amount_in)
        return right, left

    def _rebalance(self, model: _Model, route: Route) -> Route:
        """``route`` (pools dropped from a split) with its flows re-optimised by the LP over
        the pools it kept, pruned again; ``route`` itself if that is not better."""
        used = {(leg.pool, leg.token_in) for leg in route.legs}
        keep = [i for i, e in enumerate(model.network.edges) if (e.pool.id, e.token_in) in used]
        sub = _sub_model(model, keep, [list(model.breakpoints[i]) for i in keep])
        # the breakpoints are already refined around the flows: one more round suffices
        balanced, _ = self._refined_lp(sub, min_rounds=1)
        if balanced is None:
            return route
        balanced = self._prune(sub, balanced)
        if not balanced.better_than(route):
            return route
        notes = [t for t in route.explanation if "dropped pool" in t]
        why = (*balanced.explanation, *notes, "flows re-balanced by the LP over the pools kept")
        return _relabel(balanced, why)

    def _prune(self, model: _Model, route: Route) -> Route:
        """Drop pools whose removal improves the exact net of gas (their flow re-routed
        through the remaining pools in proportion to their flows, then re-simulated
        exactly; for a buy order both backward from the amount and forward from the least
        input that buys it) until no removal improves it: the model's breakpoints can leave
        a tiny split whose gain is below its pool's gas. Pools are tried smallest share first and
        the first improvement is taken (a wide split has dozens of slivers; trying every
        pool before each drop cost a re-simulation per pool per drop)."""
        index = {(e.pool.id, e.token_in): i for i, e in enumerate(model.network.edges)}
        kind, sell, buy = route.kind, route.sell_token, route.buy_token
        notes: list[str] = []
        improved = True
        while improved and len(route.pools) > 1:
            improved = False
            share: dict[str, float] = {}
            for leg in route.legs:
                value = leg.amount_out / model.scale.get(leg.token_out, 1.0)
                share[leg.pool] = share.get(leg.pool, 0.0) + value
            for pool in sorted(route.pools, key=lambda p: share.get(p, 0.0)):
                flow_in = [0.0] * len(index)
                flow_out = [0.0] * len(index)
                for leg in route.legs:
                    if leg.pool != pool:
                        i = index[(leg.pool, leg.token_in)]
                        flow_in[i] = float(leg.amount_in)
                        flow_out[i] = float(leg.amount_out)
                solution = _Solution(flow_in, flow_out, 0.0)
                tries = [self._resimulate(model, solution)]
                if kind is OrderKind.BUY:
                    # backward, each token's need is split over the edges into it, so the
                    # flow of a pool before the last hop only moves to its parallel pools;
                    # forward (as for a sell order) it spreads over every remaining path
                    tries.append(self._least_input(model, solution, route.amount_in))
                pruned = None
                for legs in tries:
                    if legs is None:
                        continue
                    candidate = make_route(self.graph, "optimal", kind, sell, buy, legs)
                    if candidate.better_than(pruned):
                        pruned = candidate
                if pruned is not None and pruned.better_than(route):
                    notes.append(_drop_note(route, pruned, "pruning after exact re-simulation"))
                    route = pruned
                    improved = True
                    break
        if not notes:
            return route
        return _relabel(route, (*self._explain(model, route.legs), *notes))

    def _least_input(
        self, model: _Model, solution: _Solution, guess: int
    ) -> tuple[Leg, ...] | None:
        """A buy order's legs re-simulated forward, each token's inflow split over its edges
        in proportion to ``solution.flow_in`` as for a sell order, from the least sell input
        (searched from ``guess``) that still buys ``model.amount``; ``None`` if none does."""
        forward = replace(model, kind=OrderKind.SELL)
        runs: dict[int, tuple[int, tuple[Leg, ...]] | None] = {}

        def run(amount_in: int) -> tuple[int, tuple[Leg, ...]] | None:
            if amount_in in runs:
                return runs[amount_in]
            legs = None
            if amount_in > 0:
                legs = self._resimulate(replace(forward, amount=amount_in), solution)
            bought = sum(leg.amount_out for leg in legs or () if leg.token_out == model.buy)
            runs[amount_in] = None if legs is None else (bought, legs)
            return runs[amount_in]

        def buys(amount_in: int) -> bool:
            done = run(amount_in)
            return done is not None and done[0] >= model.amount

        # secant steps on the (concave, nearly linear) output, from the origin and the guess
        x0, y0, x1 = 0, 0, guess
        for _ in range(16):
            done = run(x1)
            if done is None or done[0] == y0:
                return None
            y1 = done[0]
            x0, y0, x1 = x1, y1, x1 + (model.amount - y1) * (x1 - x0) // (y1 - y0)
            if x1 <= 0:
                return None
            if abs(x1 - x0) <= 1:
                break
        # bracket the least input that buys the amount around the estimate, then bisect
        step = 1
        if buys(x1):
            high, low = x1, max(x1 - step, 0)
            while low > 0 and buys(low):
                high, step = low, step * 2
                low = max(high - step, 0)
        else:
            low, high = x1, x1 + step
            while not buys(high):
                if step > guess:
                    return None
                low, step = high, step * 2
                high = low + step
        while high - low > 1:
            mid = (low + high) // 2
            if buys(mid):
                high = mid
            else:
                low = mid
        done = run(high)
        return None if done is None else done[1]

    def _restrict(self, model: _Model, solution: _Solution, single: Route | None) -> _Model:
        """The model over the edges the LP used and those of the single path: the MIP then
        decides which of them are worth their gas."""
        keep_pools = set(single.pools) if single is not None else set()
        keep = [
            i
            for i, edge in enumerate(model.network.edges)
            if solution.flow_in[i] > 0 or edge.pool.id in keep_pools
        ]
        return _sub_model(
            model, keep, [_near(model.breakpoints[i], solution.flow_in[i]) for i in keep]
        )

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

    def _model(
        self,
        network: CandidateNetwork,
        wide: CandidateNetwork,
        sell: TokenAddress,
        buy: TokenAddress,
        amount: int,
        kind: OrderKind,
        single: Route | None,
    ) -> _Model | None:
        # potential: best spot product from the sell token over the pricing network (flow
        # at a token is at most sell input x potential, since every curve lies below its
        # spot line); the scales then hold while priced pools join the model. A chain of
        # stale pools can make that bound absurd (order 15 of the mainnet auction: 0.01
        # WETH "worth" 5.9e11 DAI through three mispriced shallow pools), which scales the
        # rows so far that the LP's coefficients vanish; so a token's potential is also
        # held to VALUE_SLACK times the sell token's worth of it at reference prices.
        potential = _best_products(wide, sell, lambda edge: edge.rate)
        if buy not in potential:
            return None
        sell_price = self.graph.prices.get(sell)
        if sell_price:
            for token, bound in potential.items():
                price = self.graph.prices.get(token)
                if price:
                    potential[token] = min(bound, VALUE_SLACK * sell_price / price)
        # edges out of tokens the sell token cannot reach carry nothing: leave them out;
        # the single path's pools are in where the pricing network reaches them, so the LP
        # starts no worse than it (a hop of it through a multi-token pool that the network
        # gave to another pair leaves the tokens after it unreached: those edges stay out)
        edges = [e for e in network.edges if e.token_in in potential]
        if single is not None:
            legs = {(leg.pool, leg.token_in, leg.token_out) for leg in single.legs}
            present = {e.key for e in edges}
            edges += [
                e
                for e in wide.edges
                if e.key in legs and e.key not in present and e.token_in in potential
            ]
        network = CandidateNetwork(
            network.paths, tuple(edges), tuple(t for t in network.order if t in potential)
        )
        if kind is OrderKind.SELL:
            sell_input = float(amount)
        elif single is not None:
            sell_input = float(single.amount_in)
        else:
            sell_input = amount / potential[buy] * 64
        scale = {t: max(sell_input * p, 1.0) for t, p in potential.items()}
        model = _Model(network, kind, sell, buy, amount, scale, [], [])
        model.network = CandidateNetwork(network.paths, (), network.order)
        self._add_edges(model, network.edges)
        return model

    def _add_edges(self, model: _Model, edges: Sequence[Edge]) -> None:
        """Append ``edges`` to the model with their breakpoint grids and gas."""
        objective_token = model.buy if model.kind is OrderKind.SELL else model.sell
        for edge in edges:
            cap = model.scale.get(edge.token_in)
            model.breakpoints.append([] if cap is None else self._grid(edge, cap, ()))
            gas = self.graph.gas_cost(edge.pool.gas, objective_token)
            model.gas_cost.append(gas / model.scale[objective_token])
        net = model.network
        model.network = CandidateNetwork(net.paths, (*net.edges, *edges), net.order)

    def _grid(self, edge: Edge, cap: float, extra: Sequence[int]) -> list[tuple[int, int]]:
        """Breakpoints ``(amount_in, amount_out)`` from 0 to the power of two above ``cap``
        (or the pool's limit), plus ``extra`` inputs; exact outputs, concave slopes."""
        curve = self._curve(edge)
        top_bits = max(int(cap).bit_length(), 1)
        low_bits = max(top_bits - self.config.grid_span_bits, 0)
        xs = sorted({*(1 << b for b in range(low_bits, top_bits + 1)), *extra})
        points: list[tuple[int, int]] = [(0, 0)]
        for x in xs:
            if x <= points[-1][0]:
                continue
            out = curve.out(x)
            if out is None:
                limit = curve.last_feasible(points[-1][0], x)
                out = curve.out(limit) if limit > points[-1][0] else None
                if out is not None and out > points[-1][1]:
                    points.append((limit, out))
                break
            if out > points[-1][1]:
                points.append((x, out))
        top = points[-1][0]
        if len(points) <= _SHALLOW_POINTS and top > 1 and top >> _SHALLOW_POINTS not in extra:
            # a shallow pool ends within the grid's first steps: its useful range gets
            # breakpoints of its own, else the LP sees one chord far below its spot rate
            return self._grid(edge, cap, sorted({*extra, *(top >> k for k in range(1, 8))}))
        return points

    def _refine(
        self, model: _Model, solution: _Solution, extra: list[set[int]], delta: float
    ) -> None:
        for i, x in enumerate(solution.flow_in):  # edges added since have no flow yet
            edge = model.network.edges[i]
            if x <= 0:
                continue
            # earlier rounds' points outside the new spacing only grow the LP: drop them
            near = {p for p in extra[i] if x * (1 - delta) <= p <= x * (1 + delta)}
            extra[i] = near | {max(int(p), 1) for p in (x, x * (1 - delta), x * (1 + delta))}
            cap = model.scale[edge.token_in]
            model.breakpoints[i] = self._grid(edge, cap, sorted(extra[i]))

    def _solve(self, model: _Model, *, mip: bool) -> _Solution | None:
        """Solve the LP (GLOP) or the gas-aware MIP (SCIP) in the convex-combination form:
        per edge, weights ``w_k >= 0`` on its breakpoints ``(a_k, o_k)`` with
        ``sum w_k <= 1`` (``<= used_e`` in the MIP); the edge takes ``sum w_k a_k`` and gives
        ``sum w_k o_k`` (concave curves make the weights pick adjacent breakpoints). Rows
        are scaled per token so the coefficients are of order one."""
        net = model.network
        scale = model.scale
        sell_order = model.kind is OrderKind.SELL
        token_row = {t: i for i, t in enumerate(net.order)}
        n_tokens = len(token_row)
        n_edges = len(net.edges)
        # one weight column per breakpoint but the origin, built as arrays over all edges
        counts = [len(points) - 1 for points in model.breakpoints]
        owner = np.repeat(np.arange(n_edges), counts)  # edge of each weight column
        n_weights = len(owner)
        ao = np.array(
            [p for points in model.breakpoints for p in points[1:]], dtype=np.float64
        ).reshape(n_weights, 2)
        a, o = ao[:, 0], ao[:, 1]
        s_in = np.array([scale[e.token_in] for e in net.edges])[owner]
        s_out = np.array([scale[e.token_out] for e in net.edges])[owner]
        row_in = np.array([token_row[e.token_in] for e in net.edges], dtype=np.int64)[owner]
        row_out = np.array([token_row[e.token_out] for e in net.edges], dtype=np.int64)[owner]
        weight_cols = np.arange(n_weights)
        rows = [n_tokens + owner, row_in, row_out]
        cols = [weight_cols] * 3
        vals = [np.ones(n_weights), -a / s_in, o / s_out]
        if sell_order:
            pays = np.array([e.token_out == model.buy for e in net.edges])[owner]
            objective = [np.where(pays, o / s_out, 0.0)]
        else:
            pays = np.array([e.token_in == model.sell for e in net.edges])[owner]
            objective = [np.where(pays, -a / s_in, 0.0)]
        convexity_upper = [1.0] * n_edges
        if mip:
            # one binary per edge: its weights sum to at most it, and it costs its gas
            rows.append(n_tokens + np.arange(n_edges))
            cols.append(n_weights + np.arange(n_edges))
            vals.append(-np.ones(n_edges))
            objective.append(-np.array(model.gas_cost, dtype=np.float64))
            convexity_upper = [0.0] * n_edges
        n_cols = n_weights + (n_edges if mip else 0)
        upper = np.ones(n_cols)
        lower_rows: list[float] = []
        upper_rows: list[float] = []
        for token in net.order:
            if token == model.sell:
                # a sell order spends exactly its amount; a buy order whatever it needs
                fixed = -model.amount / scale[token] if sell_order else None
                lower_rows.append(-math.inf if fixed is None else fixed)
                upper_rows.append(math.inf if fixed is None else fixed)
            elif token == model.buy:
                lower_rows.append(-math.inf if sell_order else model.amount / scale[token])
                upper_rows.append(math.inf)
            else:
                lower_rows.append(0.0)  # outflow <= inflow
                upper_rows.append(math.inf)
        lower_rows += [-math.inf] * n_edges
        upper_rows += convexity_upper
        matrix = sparse.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(n_tokens + n_edges, n_cols),
            dtype=np.float64,
        )
        builder = mbh.ModelBuilderHelper()
        builder.fill_model_from_sparse_data(
            _floats(np.zeros(n_cols)),
            _floats(upper),
            _floats(np.concatenate(objective)),
            _floats(lower_rows),
            _floats(upper_rows),
            matrix,
        )
        builder.set_maximize(True)
        for col in range(n_weights, n_cols):
            builder.set_var_integrality(col, True)
        solver = mbh.ModelSolverHelper("scip" if mip else "glop")
        limit = self.config.mip_time_limit_ms if mip else self.config.time_limit_ms
        solver.set_time_limit_in_seconds(limit / 1000)
        if mip:
            # a pool's gas is a few millionths of a large order's output: a relative gap
            # would stop SCIP before it weighs them, so close the gap to a fraction of
            # the cheapest gas instead
            charged = [g for g in model.gas_cost if g > 0]
            absgap = min(charged) / 8 if charged else 1e-9
            solver.set_solver_specific_parameters(f"limits/gap = 0\nlimits/absgap = {absgap:.6g}")
        else:
            # small, well-scaled LPs: presolve costs more than it saves; primal simplex
            # solves the wide splits (1,000+ breakpoint columns) 2.4x faster than dual
            solver.set_solver_specific_parameters("use_dual_simplex:false use_preprocessing:false")
        t0 = time.perf_counter()
        solver.solve(builder)
        logger.debug(
            "%s solve %.2f ms, %d columns",
            "MIP" if mip else "LP",
            (time.perf_counter() - t0) * 1e3,
            n_cols,
        )
        if not solver.has_solution():
            return None
        weights = np.asarray(solver.variable_values()[:n_weights], dtype=np.float64)
        weights = np.where(weights > _EPS, weights, 0.0)
        flow_in = np.bincount(owner, weights=weights * a, minlength=n_edges).tolist()
        flow_out = np.bincount(owner, weights=weights * o, minlength=n_edges).tolist()
        if sell_order:
            value = sum(
                f for f, e in zip(flow_out, net.edges, strict=True) if e.token_out == model.buy
            )
        else:
            value = sum(
                f for f, e in zip(flow_in, net.edges, strict=True) if e.token_in == model.sell
            )
        return _Solution(flow_in, flow_out, value)

    # -- exact re-simulation -------------------------------------------------------------

    def _live_edges(self, model: _Model, solution: _Solution) -> list[int]:
        """Edges carrying flow, without dead ends (a token other than the buy token with no
        outgoing flow, or other than the sell token with no incoming flow)."""
        edges = model.network.edges
        # flows compared in scaled units (fractions of the order's value), not base units
        live = {
            i
            for i, f in enumerate(solution.flow_in)
            if f >= 1.0 and f > model.scale[edges[i].token_in] * 1e-7
        }
        changed = True
        while changed:
            changed = False
            sources = {edges[i].token_in for i in live}
            sinks = {edges[i].token_out for i in live}
            for i in list(live):
                e = edges[i]
                dead_out = e.token_out != model.buy and e.token_out not in sources
                dead_in = e.token_in != model.sell and e.token_in not in sinks
                if dead_out or dead_in:
                    live.discard(i)
                    changed = True
        return sorted(live)

    def _resimulate(self, model: _Model, solution: _Solution) -> tuple[Leg, ...] | None:
        """Conserving exact legs for the solution's flows (``None`` if the math refuses).

        The exact outputs lie above the model's chords, so a token whose edges the LP
        filled to capacity can receive more than they take: the flows into it are then
        scaled down to its capacity (the freed input goes to their siblings upstream; a
        token with no sibling edge would hand its edge all of its inflow again, so the cut
        goes on upstream from there) and the re-simulation repeated."""
        edges = model.network.edges
        flow_in = list(solution.flow_in)

        def cut(token: TokenAddress, factor: float) -> bool:
            """Scale the flows into ``token``; ``False`` if nothing upstream can give way."""
            into = [i for i, e in enumerate(edges) if e.token_out == token and flow_in[i] > 0]
            if not into:
                return False
            for i in into:
                flow_in[i] *= factor
                source = edges[i].token_in
                alone = not any(
                    flow_in[j] > 0 and j != i for j, e in enumerate(edges) if e.token_in == source
                )
                if alone and (source == model.sell or not cut(source, factor)):
                    return False
            return True

        for attempt in range(6):
            try:
                return self._resimulate_once(model, _Solution(flow_in, solution.flow_out, 0.0))
            except _OverflowError as full:
                if model.kind is not OrderKind.SELL:
                    return None
                # concave curves give back less than they are scaled by, so a proportional
                # cut leaves part of the excess: cut harder each attempt
                factor = (full.capacity / full.inflow) ** (1 << attempt) * (1 - 1e-9)
                if factor <= 0 or not cut(full.token, factor):
                    return None
        return None

    def _resimulate_once(self, model: _Model, solution: _Solution) -> tuple[Leg, ...] | None:
        edges = model.network.edges
        live = self._live_edges(model, solution)
        if not live:
            return None
        outgoing: dict[TokenAddress, list[int]] = {}
        incoming: dict[TokenAddress, list[int]] = {}
        for i in live:
            outgoing.setdefault(edges[i].token_in, []).append(i)
            incoming.setdefault(edges[i].token_out, []).append(i)
        planned: dict[int, int] = {}
        if model.kind is OrderKind.SELL:
            start = model.amount
        else:
            need: dict[TokenAddress, int] = {model.buy: model.amount}
            for token in reversed(model.network.order):
                if token == model.sell or token not in incoming or need.get(token, 0) <= 0:
                    continue
                ins = incoming[token]
                shares = _split(need[token], [solution.flow_out[i] for i in ins])
                for i, share in zip(ins, shares, strict=True):
                    if share == 0:
                        continue
                    e = edges[i]
                    try:
                        paid = e.pool.amount_in(e.token_in, e.token_out, share)
                    except PoolMathError:
                        logger.debug("re-simulation: amount_in refused")
                        return None
                    enough = _enough(self._curve(e), paid, share)
                    if enough is None:
                        logger.debug("re-simulation: no input buys the share")
                        return None
                    planned[i] = enough
                    need[e.token_in] = need.get(e.token_in, 0) + enough
            start = need.get(model.sell, 0)
            if start <= 0:
                logger.debug("re-simulation: no sell input")
                return None
        inflow: dict[TokenAddress, int] = {model.sell: start}
        legs: list[Leg] = []
        for token in model.network.order:
            available = inflow.get(token, 0)
            outs = outgoing.get(token)
            if token == model.buy or not outs or available <= 0:
                continue
            if model.kind is OrderKind.SELL:
                amounts = _split(available, [solution.flow_in[i] for i in outs])
            else:
                amounts = [planned.get(i, 0) for i in outs]
                surplus = available - sum(amounts)
                if surplus < 0:
                    logger.debug("re-simulation: planned more than available")
                    return None
                biggest = max(range(len(outs)), key=lambda k: amounts[k])
                amounts[biggest] += surplus
            fitted = self._fit([self._curve(edges[i]) for i in outs], amounts)
            if fitted is None:
                # every edge the LP used is at capacity and the exact upstream outputs
                # (above the model's chords) overflow them: spill into the token's other
                # candidate edges that lead on, best spot rate first
                spill = sorted(
                    (
                        i
                        for i, e in enumerate(edges)
                        if e.token_in == token
                        and i not in outs
                        and (e.token_out == model.buy or e.token_out in outgoing)
                    ),
                    key=lambda i: -edges[i].rate,
                )
                outs = [*outs, *spill]
                fitted = self._fit(
                    [self._curve(edges[i]) for i in outs], [*amounts, *([0] * len(spill))]
                )
                if fitted is None:
                    curves = [self._curve(edges[i]) for i in outs]
                    capacity = sum(
                        c.last_feasible(0, c.failed_at) if c.failed_at else a
                        for c, a in zip(curves, [*amounts, *([0] * len(spill))], strict=True)
                    )
                    raise _OverflowError(token, capacity, available)
            for i, amount_in in zip(outs, fitted, strict=True):
                if amount_in <= 0:
                    continue
                e = edges[i]
                out = self._curve(e).out(amount_in)
                if out is None or out <= 0:
                    logger.debug("re-simulation: leg pays nothing")
                    return None
                legs.append(Leg(e.pool.id, e.token_in, e.token_out, amount_in, out))
                inflow[e.token_out] = inflow.get(e.token_out, 0) + out
        if model.kind is OrderKind.BUY and inflow.get(model.buy, 0) < model.amount:
            logger.debug("re-simulation: short of the buy amount")
            return None
        return tuple(legs)

    @staticmethod
    def _fit(curves: Sequence[_Curve], amounts: Sequence[int]) -> list[int] | None:
        """``amounts`` with each edge held to what its pool can take and pay out for: an
        edge the LP filled to its capacity breakpoint can be handed a hair more once the
        flows are rounded to integers (or an exact upstream output exceeds the model's),
        and one failing leg used to void the whole split. The excess goes to the edge with
        the largest amount among those not capped; ``None`` if none is left."""
        fitted = list(amounts)
        capped: set[int] = set()
        for _ in range(len(fitted)):
            failing = [
                k
                for k, a in enumerate(fitted)
                if a > 0 and k not in capped and not (curves[k].out(a) or 0) > 0
            ]
            if not failing:
                return fitted
            for k in failing:
                cap = curves[k].last_feasible(0, fitted[k])
                if not (curves[k].out(cap) or 0) > 0:
                    cap = 0
                excess = fitted[k] - cap
                fitted[k] = cap
                capped.add(k)
                rest = [j for j in range(len(fitted)) if j not in capped]
                if not rest:
                    return None
                fitted[max(rest, key=lambda j: fitted[j])] += excess
        return None

    def _explain(self, model: _Model, legs: Sequence[Leg], *, gas_aware: bool = False) -> list[str]:
        """One sentence per leg: its share of the token's flow and its realised rate."""
        flow: dict[TokenAddress, int] = {}
        for leg in legs:
            flow[leg.token_in] = flow.get(leg.token_in, 0) + leg.amount_in
        texts = [
            "split by the "
            + ("gas-aware MIP (SCIP)" if gas_aware else "LP (GLOP)")
            + f" over {len(model.network.edges)} candidate pool edges"
        ]
        for leg in legs:
            share = leg.amount_in / flow[leg.token_in] * 100
            edge = next(
                e
                for e in model.network.edges
                if e.pool.id == leg.pool and e.token_in == leg.token_in
            )
            rate = leg.amount_out / leg.amount_in
            texts.append(
                f"{share:.1f}% of {leg.token_in} via pool {leg.pool} to {leg.token_out}: "
                f"realised rate {rate:.6g} vs spot {edge.rate:.6g}; more would drop its "
                "marginal rate below the other pools'"
                if share < 99.95
                else f"all of {leg.token_in} via pool {leg.pool} to {leg.token_out}"
            )
        return texts


class _OverflowError(Exception):
    """A token received more than its edges can take (``_resimulate`` scales it back)."""

    def __init__(self, token: TokenAddress, capacity: int, inflow: int) -> None:
        super().__init__(f"{token}: {inflow} in, edges take {capacity}")
        self.token = token
        self.capacity = capacity
        self.inflow = inflow


def _enough(curve: _Curve, paid: int, wanted: int) -> int | None:
    """``paid`` raised until the edge's exact output for it is at least ``wanted``: the
    contracts round amount-in-given-out and amount-out-given-in each in the pool's favour
    (and Balancer's ``pow`` approximations differ between them), so paying exactly the
    quoted input can give back a few units short; ``None`` if the pool cannot pay it."""
    step = 1
    for _ in range(64):
        out = curve.out(paid)
        if out is None:
            return None
        if out >= wanted:
            return paid
        paid += step
        step *= 2
    return None


def _best_products(
    network: CandidateNetwork, source: TokenAddress, rate: Callable[[Edge], float]
) -> dict[TokenAddress, float]:
    """Per token reachable from ``source``, the best product of ``rate`` over the edge
    paths leading to it (the network is a DAG: one pass in topological order)."""
    by_source: dict[TokenAddress, list[Edge]] = {}
    for edge in network.edges:
        by_source.setdefault(edge.token_in, []).append(edge)
    best: dict[TokenAddress, float] = {source: 1.0}
    for token in network.order:
        here = best.get(token)
        if here is None:
            continue
        for edge in by_source.get(token, ()):
            r = here * rate(edge)
            # a product that underflows to 0.0 still marks the token reachable
            if edge.token_out not in best or r > best[edge.token_out]:
                best[edge.token_out] = r
    return best


def _sub_model(
    model: _Model, keep: Sequence[int], breakpoints: list[list[tuple[int, int]]]
) -> _Model:
    """``model`` over its edges ``keep`` only, with their ``breakpoints``."""
    net = model.network
    return _Model(
        CandidateNetwork(net.paths, tuple(net.edges[i] for i in keep), net.order),
        model.kind,
        model.sell,
        model.buy,
        model.amount,
        model.scale,
        breakpoints,
        [model.gas_cost[i] for i in keep],
    )


def _near(points: list[tuple[int, int]], flow: float) -> list[tuple[int, int]]:
    """The origin and the breakpoints within a factor ``MIP_SPAN`` of ``flow``: enough for
    the MIP to keep a pool near its LP flow, absorb a dropped neighbour's share, or drop
    it, in a model a fraction of the LP's size."""
    if flow <= 0:
        return points
    near = [p for p in points[1:] if flow / MIP_SPAN <= p[0] <= flow * MIP_SPAN]
    return [points[0], *near] if near else points


def _floats(values: Any) -> Any:
    """A float64 column vector for the model builder (its stubs want an exact dtype)."""
    return np.asarray(values, dtype=np.float64)


def _gain_bp(current: Route, previous: Route | None) -> float:
    """How much ``current`` improved on ``previous`` (infinite for the first round)."""
    if previous is None:
        return math.inf
    if current.kind is OrderKind.SELL:
        return (current.amount_out - previous.amount_out) / max(previous.amount_out, 1) * 1e4
    return (previous.amount_in - current.amount_in) / max(previous.amount_in, 1) * 1e4


def _split(total: int, weights: Sequence[float]) -> list[int]:
    """``total`` in integer parts proportional to ``weights``; the remainder goes to the
    largest part so the parts sum to ``total`` exactly."""
    weight_sum = sum(weights)
    if weight_sum <= 0:
        return [total] + [0] * (len(weights) - 1)
    units = [int(w / weight_sum * _SHARE_BITS) for w in weights]
    parts = [total * u // _SHARE_BITS for u in units]
    biggest = max(range(len(parts)), key=lambda k: weights[k])
    parts[biggest] += total - sum(parts)
    return parts


def _drop_note(before: Route, after: Route, how: str) -> str:
    """Why ``how`` dropped the pools of ``before`` missing from ``after``."""
    dropped = ", ".join(p for p in before.pools if p not in after.pools)
    if before.kind is OrderKind.SELL:
        token = before.buy_token
        effect = f"with them the split gave only {before.amount_out - after.amount_out} more"
    else:
        token = before.sell_token
        effect = f"with them the split saved only {after.amount_in - before.amount_in}"
    return (
        f"{how} dropped pool {dropped}: {effect} of {token}, less than their gas "
        f"({before.gas - after.gas} units = {before.gas_cost - after.gas_cost}); "
        "the flow goes through the remaining pools"
    )


def _relabel(route: Route, explanation: Sequence[str]) -> Route:
    """``route`` as the optimizer's answer, with ``explanation``."""
    return replace(route, strategy="optimal", explanation=tuple(explanation))
