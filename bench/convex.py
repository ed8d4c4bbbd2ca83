"""The reference "best possible" route: the convex optimal-routing problem solved by cvxpy.

Following Angeris et al. ("Optimal Routing for Constant Function Market Makers"), each pool
used in a direction ``u -> v`` is tendered ``d >= 0`` of ``u`` and pays out ``l >= 0`` of
``v``; its reserves after the trade, with the fee taken from the tendered side
(``g = 1 - fee``), must stay on or above its trading curve. In normalised form every piece
is one power cone ``(1 + k_u*g*d)^a * (1 - k_v*l)^(1-a) >= 1``:

* Uniswap V2: ``a = 1/2`` over the reserves;
* Uniswap V3: each initialized tick range is a constant-product piece over its virtual
  reserves (``x + L/sqrt(pb)``, ``y + L*sqrt(pa)``) whose real reserves cannot be
  overdrawn; the ranges a swap in that direction walks through are modelled until they hold
  more than the order could take;
* Balancer weighted: ``a = w_u / (w_u + w_v)`` (the other balances do not move), with the
  30% ratio cap of the swap kind the order's legs use: on the input after the fee for a
  sell (``GIVEN_IN``: ``amount_in * (1 - fee) <= 0.3 * balance_in``; the output is not
  capped), on the output for a buy (``GIVEN_OUT``);
* Balancer stable (StableSwap): exactly, see below;
* foreign limit orders: linear, ``l <= d * maker/taker`` with ``d <= taker``.

Stable pools. With ``n`` tokens, upscaled balances ``x``, Curve's ``alpha = A*n^n``
(Balancer's ``amp * n``) and the pool's invariant ``D``, the balances that keep at least
``D`` are ``F(x) = alpha*sum(x) + D*(1 - alpha) - D^(n+1) / (n^n * prod(x)) >= 0`` (``F``
falls in ``D``, so this is ``D(x) >= D``) — a convex set, ``1/prod(x)`` being convex. Moving
only ``x_u -> x_u*(1 + u)`` (``u = k_in*g*d``, fee off the input) and ``x_v -> x_v*(1 - w)``
(``w = k_out*l``) and dividing by ``R = D^(n+1) / (n^n * prod(x))`` gives, exactly,
``(1 + u) * (1 - w) * (1 + c_u*u - c_v*w) >= 1`` with ``c_i = alpha * x_i / R``: a
constant-product piece (``c = 0``) tilted toward the line, expressed as two cones
(``t^2 <= (1 + u)(1 - w)`` and ``t^2 * (1 + c_u*u - c_v*w) >= 1``). The scaling factors
(decimals, rate providers) cancel from ``u`` and ``w`` and enter only through ``c``. The
reference uses the real-valued curve through the pool's integer invariant
(``routing.stable.calculate_invariant``); the pool math rounds against the trader, so the
reference pays a few base units more, never less.

Clarabel solves the cones directly. Where it stalls or flags its answer inaccurate (it does
on networks mixing weighted pools with the hub's many V3 ranges), the same problem is solved
as a linear relaxation refined by tangent cuts (Kelley): every curve is replaced by tangent
lines at a grid of points plus, each round, the tangent at the last solution, until no piece
pays out more than ``CUT_TOLERANCE`` of the optimum beyond its curve. That value bounds the
optimum from the optimistic side (status ``outer bound``), so a route within 1 bp of it is
within 1 bp of the optimum. Pieces the order barely moves are replaced by their tangent at
the current state, which is optimistic too (every curve is concave).

The network is every pool (all parallel ones, not just the router's best few) on the best
``max_paths`` token paths for the order's size and the best ``max_paths`` at the margin,
oriented acyclically the way the router orients its candidates (paths best first; a path
that would close a cycle is skipped). Without that orientation the
"optimum" would include pure arbitrage loops through stale pools, a profit no route for the
order itself can claim. Gas is not part of the convex problem. Floats are fine here: this is
a yardstick, not an amount.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import cvxpy
import numpy as np
from scipy import sparse

from routing.balancer_weighted import WeightedPool
from routing.baseline import base_token_paths
from routing.fixed_point import mul_down
from routing.graph import PRICE_UNIT, Edge, TokenGraph
from routing.limit_order import LimitOrderPool
from routing.paths import CandidateNetwork, TokenPath, candidate_network, candidate_paths
from routing.pool import Pool, PoolId, PoolMathError, TokenAddress
from routing.route import OrderKind
from routing.stable import AMP_PRECISION, StablePool, calculate_invariant
from routing.tick_math import MAX_TICK, MIN_TICK
from routing.uniswap_v2 import ConstantProductPool
from routing.uniswap_v3 import ConcentratedLiquidityPool

cp: Any = cvxpy  # cvxpy's partial type hints do not cover its atoms
Q96 = 2**96
MAX_RATIO = 0.3
MAX_RANGES = 400
"""At most this many V3 tick ranges per pool and direction."""
VERBOSE = False
SOLVER_OPTIONS: dict[str, Any] = {
    "equilibrate_min_scaling": 1e-9,
    "equilibrate_max_scaling": 1e9,
    "max_iter": 400,
}
UNLIMITED = 10**9
RETRIES: tuple[dict[str, Any], ...] = (
    {},
    {"static_regularization_constant": 1e-6},
    {"max_step_fraction": 0.9},
    {"static_regularization_constant": 1e-6, "max_step_fraction": 0.8},
)
"""Clarabel settings tried in turn when the interior-point method stalls."""
RANGE_COVER = 4.0
"""V3 ranges are modelled until they hold this many order values (more only slows the
solver: a 100-value cover changed no reference by more than 1e-5 bp) — unless the optimum
drains the outermost one: then that edge's cover grows by ``COVER_GROWTH`` and the problem
is solved again, up to ``COVER_ROUNDS`` times (flows through arbitrage loops between pools
that disagree can be many order values)."""
COVER_GROWTH = 8.0
COVER_ROUNDS = 3
DRAINED = 0.999
"""An outermost range paying out this share of its reserves is drained (up to the solvers'
tolerance): the optimum may want the ranges beyond it."""
FLOW_BOUND = 100.0
"""No piece carries more than this many times the order's value."""
MAX_K = 1e6
"""Pieces whose (virtual) reserves are below 1/MAX_K of the order's value are left out."""
LINEAR_BELOW = 1e-6
"""Order-to-reserve ratio under which a piece is modelled by its tangent line, provided that
the tangent overstates the output of one order value by less than this share, too."""
CUT_GRID = 16
"""Initial tangent points per piece in the cutting-plane fallback."""
CUT_ROUNDS = 40
CUT_TOLERANCE = 1e-7
"""The cutting-plane fallback stops when the pieces pay out at most this share of the
optimum more than their curves allow (1e-7 = 0.001 bp)."""


@dataclass(frozen=True, slots=True)
class ConvexResult:
    """``value``: optimal output (sell order) or input (buy order) in base units, ``None``
    when no solution; ``pools``: pools that traded; ``note``: what the model left out;
    ``network``: the pools it modelled."""

    value: float | None
    status: str
    pools: frozenset[PoolId]
    note: str
    network: frozenset[PoolId] = frozenset()
    pairs: frozenset[tuple[PoolId, TokenAddress, TokenAddress]] = frozenset()
    """``(pool, token in, token out)`` of every modelled edge (a multi-token pool serves
    one pair of its tokens in the network)."""


@dataclass(slots=True)
class _Pieces:
    """Directed pieces over the normalised input ``a = k_in*g*d`` and output ``b = k_out*l``
    (``d``, ``l`` in units of the order's scale per token), with caps on ``d`` and ``l``:

    * power pieces: ``(1 + a)^alpha * (1 - b)^(1-alpha) >= 1``;
    * stable pieces (``stable``): ``(1 + a) * (1 - b) * (1 + c_in*a - c_out*b) >= 1``;
    * linear pieces (``linear``): ``b <= a``."""

    pool: list[PoolId] = field(default_factory=list)
    token_in: list[TokenAddress] = field(default_factory=list)
    token_out: list[TokenAddress] = field(default_factory=list)
    k_in: list[float] = field(default_factory=list)
    k_out: list[float] = field(default_factory=list)
    gamma: list[float] = field(default_factory=list)
    alpha: list[float] = field(default_factory=list)
    c_in: list[float] = field(default_factory=list)
    c_out: list[float] = field(default_factory=list)
    stable: list[bool] = field(default_factory=list)
    linear: list[bool] = field(default_factory=list)
    cap_in: list[float] = field(default_factory=list)
    cap_out: list[float] = field(default_factory=list)
    scale: dict[TokenAddress, float] = field(default_factory=dict)
    frontier: dict[int, tuple[PoolId, TokenAddress, TokenAddress]] = field(default_factory=dict)
    """The outermost modelled range of each V3 edge whose further ranges were left out."""

    def add(
        self,
        edge: Edge,
        curve: tuple[float, float],
        scale: tuple[float, float],
        gamma: float,
        *,
        alpha: float = 0.5,
        stable: tuple[float, float] | None = None,
        linear: bool = False,
        cap_in: float = math.inf,
        cap_out: float = math.inf,
    ) -> None:
        """``curve``: the (virtual) reserves of the input and output token (for a linear
        piece: the most it takes and the most it pays); ``stable``: ``(c_in, c_out)``."""
        if cap_out <= 0 or cap_in <= 0:
            return  # this side of the range holds nothing to pay out
        if max(scale[0] / curve[0], scale[1] / curve[1]) > MAX_K:
            return  # reserves under 1/MAX_K of the order: negligible, and they stall the solver
        self.pool.append(edge.pool.id)
        self.token_in.append(edge.token_in)
        self.token_out.append(edge.token_out)
        self.k_in.append(scale[0] / curve[0])
        self.k_out.append(scale[1] / curve[1])
        self.gamma.append(gamma)
        self.alpha.append(alpha)
        self.c_in.append(0.0 if stable is None else stable[0])
        self.c_out.append(0.0 if stable is None else stable[1])
        self.stable.append(stable is not None)
        self.linear.append(linear)
        self.cap_in.append(cap_in / scale[0])
        self.cap_out.append(min(cap_out, curve[1]) / scale[1])

    def spot_slope(self) -> Any:
        """``db/da`` at ``a = 0`` of every piece."""
        alpha = np.array(self.alpha)
        slope = alpha / (1 - alpha)
        stable = np.array(self.stable, dtype=bool)
        c_in, c_out = np.array(self.c_in), np.array(self.c_out)
        slope[stable] = (1 + c_in[stable]) / (1 + c_out[stable])
        slope[np.array(self.linear, dtype=bool)] = 1.0
        return slope


def _sqrt_at(tick: int) -> float:
    return math.pow(1.0001, tick / 2)


def _v3_ranges(
    pool: ConcentratedLiquidityPool, zero_for_one: bool, out_scale: float, cover: float
) -> tuple[list[tuple[float, float, float]], bool]:
    """``(sqrt lower, sqrt upper, liquidity)`` of the ranges a swap in the given direction
    walks through, from the current one outward, until their real reserves of the output
    token exceed ``cover`` order values (or ``MAX_RANGES`` ranges); past the last
    initialized tick the liquidity holds to the end of the tick range, as in the pool math.
    The flag: ranges were left out (the walk stopped before the end)."""
    ticks = sorted(pool.liquidity_net)
    s = pool.sqrt_price_x96 / Q96
    ranges: list[tuple[float, float, float]] = []
    liquidity = pool.liquidity
    paid = 0.0
    if zero_for_one:  # price falls: ranges below, then the rest down to MIN_TICK
        stops = [*(t for t in reversed(ticks) if t <= pool.tick), MIN_TICK]
        upper = math.inf  # the current range's upper end does not matter going down
        for i, tick in enumerate(stops):
            lower = _sqrt_at(tick)
            if liquidity > 0 and lower < min(s, upper):
                ranges.append((lower, upper, float(liquidity)))
                paid += liquidity * (min(s, upper) - lower)
            if i == len(stops) - 1:
                break
            liquidity -= pool.liquidity_net[tick]
            upper = lower
            if paid >= cover * out_scale or len(ranges) >= MAX_RANGES:
                return ranges, True
    else:  # price rises: ranges above, then the rest up to MAX_TICK
        stops = [*(t for t in ticks if t > pool.tick), MAX_TICK]
        lower = 0.0
        for i, tick in enumerate(stops):
            upper = _sqrt_at(tick)
            if liquidity > 0 and upper > max(s, lower):
                ranges.append((lower, upper, float(liquidity)))
                paid += liquidity * (1 / max(s, lower) - 1 / upper)
            if i == len(stops) - 1:
                break
            liquidity += pool.liquidity_net[tick]
            lower = upper
            if paid >= cover * out_scale or len(ranges) >= MAX_RANGES:
                return ranges, True
    return ranges, False


def _add_edge(
    pieces: _Pieces,
    edge: Edge,
    scale: dict[TokenAddress, float],
    kind: OrderKind,
    cover: float = RANGE_COVER,
) -> bool:
    """Add the pieces of one directed pool edge; ``False`` if there is no convex form."""
    pool: Pool = edge.pool
    sc = (scale[edge.token_in], scale[edge.token_out])
    forward = edge.token_in == pool.tokens[0]
    if isinstance(pool, ConstantProductPool):
        r0, r1 = (float(r) for r in pool.reserves)
        curve = (r0, r1) if forward else (r1, r0)
        if min(curve) > 0:
            pieces.add(edge, curve, sc, 1 - pool.fee_num / pool.fee_den)
        return True
    if isinstance(pool, ConcentratedLiquidityPool):
        gamma = 1 - pool.fee_pips / 1_000_000
        s = pool.sqrt_price_x96 / Q96
        ranges, truncated = _v3_ranges(pool, forward, sc[1], cover)
        before = len(pieces.pool)
        for sa, sb, liq in ranges:
            here = min(max(s, sa), sb)
            x_curve, y_curve = liq / here, liq * here
            if forward:  # token0 in, token1 out
                pieces.add(edge, (x_curve, y_curve), sc, gamma, cap_out=liq * (here - sa))
            else:
                pieces.add(edge, (y_curve, x_curve), sc, gamma, cap_out=liq * (1 / here - 1 / sb))
        if truncated and len(pieces.pool) > before:
            pieces.frontier[len(pieces.pool) - 1] = edge.key
        return True
    if isinstance(pool, WeightedPool):
        by_token = {t.address: t for t in pool.reserves}
        a, b = by_token[edge.token_in], by_token[edge.token_out]
        if min(a.balance, b.balance) <= 0:
            return True
        gamma = 1 - pool.fee / 10**18
        given_in = kind is OrderKind.SELL
        pieces.add(
            edge,
            (float(a.balance), float(b.balance)),
            sc,
            gamma,
            alpha=a.weight / (a.weight + b.weight),
            cap_in=MAX_RATIO * a.balance / gamma if given_in else math.inf,
            cap_out=math.inf if given_in else MAX_RATIO * b.balance,
        )
        return True
    if isinstance(pool, StablePool):
        coefficients = _stable_coefficients(pool)
        if coefficients is None:
            return True  # an empty balance or no invariant: the pool cannot trade
        tokens = {
            t.address: (t.balance, c) for t, c in zip(pool.reserves, coefficients, strict=True)
        }
        (x_in, c_in), (x_out, c_out) = tokens[edge.token_in], tokens[edge.token_out]
        pieces.add(
            edge,
            (float(x_in), float(x_out)),
            sc,
            1 - pool.fee / 10**18,
            stable=(c_in, c_out),
        )
        return True
    if isinstance(pool, LimitOrderPool):
        pieces.add(
            edge,
            (float(pool.taker_amount), float(pool.maker_amount)),
            sc,
            1.0,
            linear=True,
            cap_in=float(pool.taker_amount),
            cap_out=float(pool.maker_amount),
        )
        return True
    return False


def _stable_coefficients(pool: StablePool) -> list[float] | None:
    """``c_i = alpha * x_i / R`` of every token (upscaled balances ``x``, Curve's
    ``alpha = A*n^n``, ``R = D^(n+1) / (n^n * prod(x))`` at the pool's integer invariant
    ``D``); ``None`` if a balance is empty or the invariant does not converge."""
    upscaled = [mul_down(t.balance, t.scaling_factor) for t in pool.reserves]
    if min(upscaled) <= 0:
        return None
    try:
        invariant = calculate_invariant(pool.amp, tuple(upscaled))
    except PoolMathError:
        return None
    if invariant <= 0:
        return None
    n = len(upscaled)
    alpha = pool.amp * n / AMP_PRECISION
    # in logarithms: prod(x) of a 4-token pool of 1e27-unit balances overflows a float
    log_d = math.log(invariant)
    log_r = log_d + sum(log_d - math.log(n) - math.log(x) for x in upscaled)
    return [alpha * math.exp(math.log(x) - log_r) for x in upscaled]


def _incidence(tokens: list[TokenAddress], index: dict[TokenAddress, int]) -> Any:
    n = len(tokens)
    rows = [index[t] for t in tokens]
    return sparse.csr_matrix((np.ones(n), (rows, range(n))), shape=(len(index), n))


def _carry_scale(
    scale: dict[TokenAddress, float],
    edges: Sequence[Edge],
    tokens: set[TokenAddress],
    level: int | None,
) -> None:
    """One order value in each of ``tokens`` the graph has no price for, carried from a
    scaled neighbour over its best pool (realised rate at the order's size), so that the
    token's pieces are sized like the others (not dropped as "negligible", not held down by
    the flow bound)."""
    while True:
        found: dict[TokenAddress, float] = {}
        for edge in edges:
            rate = edge.depth[level] if level is not None and edge.depth else edge.rate
            if not rate > 0:
                continue
            if edge.token_in in scale and edge.token_out not in scale:
                carried, token = scale[edge.token_in] * rate, edge.token_out
            elif edge.token_out in scale and edge.token_in not in scale:
                carried, token = scale[edge.token_out] / rate, edge.token_in
            else:
                continue
            if token in tokens and carried > 0 and math.isfinite(carried):
                found[token] = max(found.get(token, 0.0), carried)
        if not found:
            return
        scale.update(found)


def _network(graph: TokenGraph, paths: Sequence[TokenPath], level: int | None) -> CandidateNetwork:
    """Every pool on ``paths``, oriented acyclically. A multi-token pool serves the first
    pair that claims it, so a path may be left with a hop no pool serves (a three-token
    stable pool claimed by ``A -> C`` on ``A -> C -> B`` cannot serve ``A -> B`` or
    ``C -> B``): the best such path is dropped and the network rebuilt, until none is left."""
    while True:
        network = candidate_network(
            graph, paths, max_parallel=UNLIMITED, max_pools=UNLIMITED, level=level
        )
        served = {(e.token_in, e.token_out) for e in network.edges}
        broken = next((p for p in network.paths if not served.issuperset(p.hops)), None)
        if broken is None:
            return network
        paths = [p for p in paths if p != broken]


def convex_optimum(
    graph: TokenGraph,
    sell: TokenAddress,
    buy: TokenAddress,
    amount: int,
    kind: OrderKind,
    *,
    max_hops: int = 3,
    max_paths: int = 24,
) -> ConvexResult:
    """Solve the convex routing problem for one order over the pools near its paths."""
    level = graph.level(sell if kind is OrderKind.SELL else buy, amount)
    # the best paths for the order's size, then the best at the margin: a pool too shallow
    # for the whole order (rate 0 at its size) can still take a slice of a split
    sized = candidate_paths(
        graph,
        sell,
        buy,
        max_hops=max_hops,
        max_paths=max_paths,
        level=level,
        include=[p for p in base_token_paths(sell, buy) if len(p) - 1 <= max_hops],
    )
    taken = {p.tokens for p in sized}
    spot = candidate_paths(graph, sell, buy, max_hops=max_hops, max_paths=max_paths)
    paths = [*sized, *(p for p in spot if p.tokens not in taken)]
    network = _network(graph, paths, level)
    # only edges the sell token can feed: a piece that can never be tendered anything has no
    # strictly feasible point, which stalls interior-point solvers
    reachable = {sell}
    for token in network.order:
        if token in reachable:
            reachable.update(e.token_out for e in network.edges if e.token_in == token)
    edges = [e for e in network.edges if e.token_in in reachable]
    if not edges or buy not in reachable:
        return ConvexResult(None, "no-path", frozenset(), "")
    order_token = sell if kind is OrderKind.SELL else buy
    price = graph.prices.get(order_token)
    value = amount * price / PRICE_UNIT if price else None
    scale: dict[TokenAddress, float] = {}
    for token in reachable:
        p = graph.prices.get(token)
        if value and p:
            scale[token] = value * PRICE_UNIT / p
    scale[order_token] = float(amount)
    _carry_scale(scale, edges, reachable, level)
    for token in reachable:
        scale.setdefault(token, float(amount))
    index = {t: i for i, t in enumerate(t for t in network.order if t in reachable)}
    covers: dict[tuple[PoolId, TokenAddress, TokenAddress], float] = {}
    for attempt in range(COVER_ROUNDS + 1):
        pieces = _Pieces(scale=scale)
        skipped = sorted(
            {
                type(e.pool).__name__
                for e in edges
                if not _add_edge(pieces, e, scale, kind, covers.get(e.key, RANGE_COVER))
            }
        )
        note = f"not modelled: {', '.join(skipped)}" if skipped else ""
        if not pieces.pool:
            return ConvexResult(None, "nothing-modelled", frozenset(), note)
        solved = _solve(pieces, index, sell, buy, amount / scale[order_token], kind)
        value_scaled, status, lam = solved[0], solved[1], solved[3]
        if value_scaled is None:
            break
        # ranges fill in price order: the next one is wanted only once the last is drained
        reached = {
            key for i, key in pieces.frontier.items() if lam[i] >= DRAINED * pieces.cap_out[i]
        }
        if not reached:
            break
        if attempt == COVER_ROUNDS:
            truncated = "the optimum drains the last V3 range modelled"
            note = f"{note}; {truncated}" if note else truncated
            break
        for key in reached:
            covers[key] = covers.get(key, RANGE_COVER) * COVER_GROWTH
    modelled = frozenset(pieces.pool)
    pairs = frozenset(zip(pieces.pool, pieces.token_in, pieces.token_out, strict=True))
    if value_scaled is None:
        return ConvexResult(None, status, frozenset(), note, modelled, pairs)
    d_value, result_scale = solved[2], solved[4]
    flow = np.maximum(d_value, lam)
    used = frozenset(pid for pid, on in zip(pieces.pool, flow > 1e-7, strict=True) if on)
    if flow.max() >= FLOW_BOUND * (1 - 1e-6):
        # the bound, not a curve, limits the optimum: it may be low
        bound = f"a piece carries the flow bound ({FLOW_BOUND:g} order values)"
        note = f"{note}; {bound}" if note else bound
    return ConvexResult(value_scaled * result_scale, status, used, note, modelled, pairs)


def _solve(
    pieces: _Pieces,
    index: dict[TokenAddress, int],
    sell: TokenAddress,
    buy: TokenAddress,
    order_amount: float,
    kind: OrderKind,
) -> tuple[float | None, str, Any, Any, float]:
    """The optimum over ``pieces``: value (in the order's scale), status, the tendered and
    received amounts of every piece, and the scale of the value."""
    n = len(pieces.pool)
    d = cp.Variable(n, nonneg=True)
    lam = cp.Variable(n, nonneg=True)
    order_side, objective, result_scale = _network_constraints(
        pieces, index, d, lam, sell, buy, order_amount, kind
    )
    value_scaled, status = _solve_cones(pieces, d, lam, order_side, objective)
    start: list[Any] = []
    if value_scaled is not None and status == cp.OPTIMAL:
        # the solver's tolerances hold in the cones' units (shares of each pool's reserves):
        # on a deep pool that can be a large share of the order, so check in order values
        a = np.array(pieces.k_in) * np.array(pieces.gamma) * np.maximum(np.asarray(d.value), 0)
        excess = _overdrawn(pieces, a, np.asarray(lam.value), tangents=_flat(pieces))
        if excess > CUT_TOLERANCE * max(abs(value_scaled), 1e-12):
            status = f"cones overdraw the curves by {excess / abs(value_scaled):.1e}"
            value_scaled, start = None, [a]
    if value_scaled is None or status != cp.OPTIMAL:
        # the interior-point method stalled or is unsure: fall back to the LP relaxation
        # refined with tangent cuts (an outer bound, tightened until within CUT_TOLERANCE)
        value_scaled, status = _solve_cuts(pieces, d, lam, order_side, objective, status, start)
    if value_scaled is None:
        return None, status, None, None, result_scale
    return (
        value_scaled,
        status,
        np.maximum(np.asarray(d.value), 0),
        np.maximum(np.asarray(lam.value), 0),
        result_scale,
    )


def _network_constraints(
    pieces: _Pieces,
    index: dict[TokenAddress, int],
    d: Any,
    lam: Any,
    sell: TokenAddress,
    buy: TokenAddress,
    order_amount: float,
    kind: OrderKind,
) -> tuple[list[Any], Any, float]:
    """Flow conservation, caps and objective (everything but the pools' curves)."""
    constraints: list[Any] = []
    # flows are in units of the order's value, so no piece can carry more than a small
    # multiple of 1; caps beyond that are redundant and only hurt the solver's scaling
    for var, cap in ((d, pieces.cap_in), (lam, pieces.cap_out)):
        constraints.append(var <= np.minimum(np.array(cap), FLOW_BOUND))
    flows = _incidence(pieces.token_out, index) @ lam - _incidence(pieces.token_in, index) @ d
    others = [i for t, i in index.items() if t not in (sell, buy)]
    if others:
        constraints.append(flows[others] >= 0)
    if kind is OrderKind.SELL:
        constraints.append(flows[index[sell]] >= -order_amount)
        return constraints, cp.Maximize(flows[index[buy]]), pieces.scale[buy]
    constraints.append(flows[index[buy]] >= order_amount)
    return constraints, cp.Minimize(-flows[index[sell]]), pieces.scale[sell]


def _solve_cones(
    pieces: _Pieces, d: Any, lam: Any, network: list[Any], objective: Any
) -> tuple[float | None, str]:
    """The exact problem: one cone per piece (two per stable piece), solved by Clarabel."""
    g = np.array(pieces.gamma)
    k_in = np.array(pieces.k_in)
    k_out = np.array(pieces.k_out)
    alpha = np.array(pieces.alpha)
    stable = np.array(pieces.stable, dtype=bool)
    constraints: list[Any] = list(network)
    # pieces the order barely moves (reserves > LINEAR_BELOW^-1 times the order) are replaced
    # by their tangent, which they follow to within 1e-6 of the flow and never exceed; the
    # cone there is too flat for an interior-point solver. Linear pieces are that already.
    flat_mask = _flat(pieces)
    flat = np.flatnonzero(flat_mask)
    if flat.size:
        rate = pieces.spot_slope()[flat] * k_in[flat] / k_out[flat] * g[flat]
        constraints.append(lam[flat] <= cp.multiply(rate, d[flat]))
    curved = ~flat_mask
    # constant-product pieces: grow * shrink >= 1 as a second-order cone; others: power cone
    for idx, square in (
        (np.flatnonzero(curved & ~stable & (alpha == 0.5)), True),
        (np.flatnonzero(curved & ~stable & (alpha != 0.5)), False),
    ):
        if not idx.size:
            continue
        grow = 1 + cp.multiply(k_in[idx] * g[idx], d[idx])
        shrink = 1 - cp.multiply(k_out[idx], lam[idx])
        if square:
            pair = cp.vstack([2 * np.ones(idx.size), grow - shrink])
            constraints.append(cp.SOC(grow + shrink, pair, axis=0))
        else:
            constraints.append(cp.PowCone3D(grow, shrink, np.ones(idx.size), alpha[idx]))
    idx = np.flatnonzero(curved & stable)
    if idx.size:
        # grow * shrink * tilt >= 1: t^2 <= grow * shrink and t^(2/3) * tilt^(1/3) >= 1
        a = cp.multiply(k_in[idx] * g[idx], d[idx])
        b = cp.multiply(k_out[idx], lam[idx])
        grow, shrink = 1 + a, 1 - b
        tilt = 1 + cp.multiply(np.array(pieces.c_in)[idx], a)
        tilt = tilt - cp.multiply(np.array(pieces.c_out)[idx], b)
        t = cp.Variable(idx.size, nonneg=True)
        constraints.append(cp.SOC(grow + shrink, cp.vstack([2 * t, grow - shrink]), axis=0))
        constraints.append(cp.PowCone3D(t, tilt, np.ones(idx.size), 2 / 3))
    problem = cp.Problem(objective, constraints)
    status = "not solved"
    for retry in RETRIES:
        try:
            with warnings.catch_warnings():
                # "solution may be inaccurate": judged from the status instead
                warnings.simplefilter("ignore", UserWarning)
                problem.solve(solver=cp.CLARABEL, verbose=VERBOSE, **SOLVER_OPTIONS, **retry)
        except cp.SolverError:
            status = "clarabel stalled"
            continue
        status = str(problem.status)
        if problem.status == cp.OPTIMAL and problem.value is not None:
            break
    if problem.value is None or problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
        return None, status
    return float(problem.value), status


def _curve(pieces: _Pieces, a: Any) -> tuple[Any, Any]:
    """Normalised output ``b`` of every piece for the normalised (after-fee) input ``a``
    (the last axis runs over the pieces), and its slope ``db/da``."""
    alpha = np.array(pieces.alpha)
    e = alpha / (1 - alpha)
    log_grow = np.log1p(a)  # not 1 - (1 + a)^-e: it cancels to nothing for tiny a
    b = -np.expm1(-e * log_grow)
    slope = e * np.exp((-e - 1) * log_grow)
    stable = np.array(pieces.stable, dtype=bool)
    if stable.any():
        sb, ss = _stable_curve(
            a[..., stable], np.array(pieces.c_in)[stable], np.array(pieces.c_out)[stable]
        )
        b[..., stable], slope[..., stable] = sb, ss
    linear = np.array(pieces.linear, dtype=bool)
    b[..., linear] = a[..., linear]
    slope[..., linear] = 1.0
    return b, slope


def _flat(pieces: _Pieces) -> Any:
    """Pieces modelled by their tangent at the current state in the cone problem: linear
    ones, and those the order barely moves (reserves > LINEAR_BELOW^-1 times the order)
    where the tangent overstates one order value by less than LINEAR_BELOW."""
    k = np.maximum(np.array(pieces.k_in), np.array(pieces.k_out))
    return np.array(pieces.linear, dtype=bool) | (
        (k < LINEAR_BELOW) & (_tangent_error(pieces) < LINEAR_BELOW)
    )


def _overdrawn(pieces: _Pieces, a: Any, lam: Any, tangents: Any | None = None) -> float:
    """How much (in order values, summed) the pieces pay out beyond their curves for the
    normalised inputs ``a`` (beyond their tangents where ``tangents`` is true)."""
    to_l = 1 / np.array(pieces.k_out)
    allowed = _curve(pieces, a)[0]
    if tangents is not None:
        allowed = np.where(tangents, pieces.spot_slope() * a, allowed)
    return float(np.maximum(lam - to_l * allowed, 0).sum())


def _tangent_error(pieces: _Pieces) -> Any:
    """By how much (relative) the tangent at the current state overstates the output of one
    order value tendered to each piece: ~``k_in`` for a constant-product piece, up to ~10x
    that for a stable piece far off balance."""
    a = np.array(pieces.k_in) * np.array(pieces.gamma)
    b = _curve(pieces, a)[0]
    return 1 - b / np.maximum(pieces.spot_slope() * a, 1e-300)


def _stable_curve(u: Any, c_u: Any, c_v: Any) -> tuple[Any, Any]:
    """The smaller root ``w`` of ``(1 + u)(1 - w)(1 + c_u*u - c_v*w) = 1`` and ``dw/du``, in
    forms that do not cancel: ``w = 2C / (B + sqrt(B^2 - 4*A*C))`` with ``A = (1 + u)*c_v``,
    ``B = (1 + u)(1 + c_u*u + c_v)``, ``C = u*(1 + c_u*(1 + u))``, where
    ``B^2 - 4AC = (1 + u)^2 (1 + c_u*u - c_v)^2 + 4(1 + u)*c_v``."""
    grow = 1 + u
    c = 1 + c_u * u
    root = np.sqrt(grow**2 * (c - c_v) ** 2 + 4 * grow * c_v)
    w = 2 * u * (1 + c_u * grow) / (grow * (c + c_v) + root)
    # 1 - w from the quadratic in s = 1 - w, A s^2 + B s - 1 = 0 with A = (1 + u)*c_v and
    # B = (1 + u)(c - c_v): exact where w is near 1 (a large input drains the pool)
    b = grow * (c - c_v)
    with np.errstate(divide="ignore", invalid="ignore"):
        shrink = np.where(b >= 0, 2 / (b + root), (root - b) / (2 * grow * c_v))
    shrink = np.where(w < 0.5, 1 - w, shrink)
    w = np.where(w < 0.5, w, 1 - shrink)
    with np.errstate(divide="ignore", invalid="ignore"):
        tilt = 1 / (grow * shrink)  # = c - c_v*w on the curve
        slope = shrink * (tilt + grow * c_u) / (grow * (tilt + c_v * shrink))
    return w, np.where(shrink > 0, slope, 0.0)


def _solve_cuts(
    pieces: _Pieces,
    d: Any,
    lam: Any,
    network: list[Any],
    objective: Any,
    why: str,
    start: Sequence[Any] = (),
) -> tuple[float | None, str]:
    """Kelley's cutting planes: each piece's curve replaced by tangent lines (a relaxation,
    so the value bounds the optimum from the optimistic side), adding the tangent at each
    piece's solution until the curves are overdrawn by at most CUT_TOLERANCE of the value.
    ``start``: further points (normalised inputs of every piece) to begin with tangents at."""
    n = len(pieces.pool)
    g = np.array(pieces.gamma)
    to_a = np.array(pieces.k_in) * g  # d -> a
    to_l = 1 / np.array(pieces.k_out)  # b -> l
    top = to_a * np.minimum(np.array(pieces.cap_in), FLOW_BOUND)
    grid = np.concatenate([[0.0], np.geomspace(1e-6, 1.0, CUT_GRID)])
    points = [top * x for x in grid]  # initial tangents, each a vector over the pieces
    points += list(start)
    status = why
    for _ in range(CUT_ROUNDS):
        a0 = np.concatenate(points)
        b0, slope = _curve(pieces, a0.reshape(len(points), n))
        rows = np.tile(np.arange(n), len(points))
        b0, slope = b0.ravel(), slope.ravel()
        cut_rows = (np.arange(rows.size), rows)
        take_l = sparse.csr_matrix((np.ones(rows.size), cut_rows), (rows.size, n))
        take_d = sparse.csr_matrix((to_l[rows] * slope * to_a[rows], cut_rows), (rows.size, n))
        cut = take_l @ lam - take_d @ d <= to_l[rows] * (b0 - slope * a0)
        problem = cp.Problem(objective, [*network, cut])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                problem.solve(solver=cp.CLARABEL, verbose=VERBOSE)
        except cp.SolverError as exc:
            return None, f"{why}; cuts: solver error: {exc}"
        if problem.value is None or problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
            return None, f"{why}; cuts: {problem.status}"
        a = to_a * np.maximum(np.asarray(d.value), 0)
        status = f"outer bound ({why})"
        excess = _overdrawn(pieces, a, np.asarray(lam.value))
        if excess <= CUT_TOLERANCE * max(abs(float(problem.value)), 1e-12):
            return float(problem.value), status
        points.append(a)
    return float(problem.value), f"{status}, not converged"
