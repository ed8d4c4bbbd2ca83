"""Exact re-simulation: integer legs, in topological order, for a model's flows.

Each token's inflow is split over its live edges in proportion to the model's flows (a
sell order forward from its amount; a buy order first backward from its amount, each edge
planned the least input that buys its share, then forward); every leg is the exact pool
math. The legs conserve tokens: at an intermediate token the legs' inflow equals their
outflow.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace

from routing.pool import PoolMathError, TokenAddress
from routing.route import Leg, OrderKind
from routing.split.curves import Curve, CurveCache, enough
from routing.split.model import Solution, SplitModel

logger = logging.getLogger(__name__)

_SHARE_BITS = 2**52
_Run = Callable[[int], tuple[int, tuple[Leg, ...]] | None]
"""A forward re-simulation from a sell input: (amount bought, legs), or ``None``."""


class _Overflow(Exception):
    """A token received more than its edges can take (``resimulate`` scales it back)."""

    def __init__(self, token: TokenAddress, capacity: int, inflow: int) -> None:
        super().__init__(f"{token}: {inflow} in, edges take {capacity}")
        self.token = token
        self.capacity = capacity
        self.inflow = inflow


def live_edges(model: SplitModel, solution: Solution) -> list[int]:
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


def resimulate(curves: CurveCache, model: SplitModel, solution: Solution) -> tuple[Leg, ...] | None:
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
            return _once(curves, model, Solution(flow_in, solution.flow_out, 0.0))
        except _Overflow as full:
            if model.kind is not OrderKind.SELL:
                return None
            # concave curves give back less than they are scaled by, so a proportional
            # cut leaves part of the excess: cut harder each attempt
            factor = (full.capacity / full.inflow) ** (1 << attempt) * (1 - 1e-9)
            if factor <= 0 or not cut(full.token, factor):
                return None
    return None


def _once(curves: CurveCache, model: SplitModel, solution: Solution) -> tuple[Leg, ...] | None:
    """One exact pass; raises ``_Overflow`` when a token's edges cannot take its inflow."""
    edges = model.network.edges
    live = live_edges(model, solution)
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
        plan = _plan_buy(curves, model, solution, incoming)
        if plan is None:
            return None
        start, planned = plan
    inflow: dict[TokenAddress, int] = {model.sell: start}
    legs: list[Leg] = []
    for token in model.network.order:
        available = inflow.get(token, 0)
        outs = outgoing.get(token)
        if token == model.buy or not outs or available <= 0:
            continue
        if model.kind is OrderKind.SELL:
            amounts = split(available, [solution.flow_in[i] for i in outs])
        else:
            amounts = [planned.get(i, 0) for i in outs]
            surplus = available - sum(amounts)
            if surplus < 0:
                logger.debug("re-simulation: planned more than available")
                return None
            biggest = max(range(len(outs)), key=lambda k: amounts[k])
            amounts[biggest] += surplus
        outs, fitted = _fitted(curves, model, token, outs, amounts, outgoing, available)
        for i, amount_in in zip(outs, fitted, strict=True):
            if amount_in <= 0:
                continue
            e = edges[i]
            out = curves.curve(e).out(amount_in)
            if out is None or out <= 0:
                logger.debug("re-simulation: leg pays nothing")
                return None
            legs.append(Leg(e.pool.id, e.token_in, e.token_out, amount_in, out))
            inflow[e.token_out] = inflow.get(e.token_out, 0) + out
    if model.kind is OrderKind.BUY and inflow.get(model.buy, 0) < model.amount:
        logger.debug("re-simulation: short of the buy amount")
        return None
    return tuple(legs)


def _plan_buy(
    curves: CurveCache,
    model: SplitModel,
    solution: Solution,
    incoming: dict[TokenAddress, list[int]],
) -> tuple[int, dict[int, int]] | None:
    """A buy order backward: each token's need split over the edges into it by the
    model's outputs, each edge planned the least input that buys its share; the sell
    input needed and the plan (``None`` if a pool cannot pay its share)."""
    edges = model.network.edges
    planned: dict[int, int] = {}
    need: dict[TokenAddress, int] = {model.buy: model.amount}
    for token in reversed(model.network.order):
        if token == model.sell or token not in incoming or need.get(token, 0) <= 0:
            continue
        ins = incoming[token]
        shares = split(need[token], [solution.flow_out[i] for i in ins])
        for i, share in zip(ins, shares, strict=True):
            if share == 0:
                continue
            e = edges[i]
            try:
                paid = e.pool.amount_in(e.token_in, e.token_out, share)
            except PoolMathError:
                logger.debug("re-simulation: amount_in refused")
                return None
            bought = enough(curves.curve(e), paid, share)
            if bought is None:
                logger.debug("re-simulation: no input buys the share")
                return None
            planned[i] = bought
            need[e.token_in] = need.get(e.token_in, 0) + bought
    start = need.get(model.sell, 0)
    if start <= 0:
        logger.debug("re-simulation: no sell input")
        return None
    return start, planned


def _fitted(
    curves: CurveCache,
    model: SplitModel,
    token: TokenAddress,
    outs: list[int],
    amounts: list[int],
    outgoing: dict[TokenAddress, list[int]],
    available: int,
) -> tuple[list[int], list[int]]:
    """The edges out of ``token`` and their inputs, each held to what its pool can take.

    When every edge the LP used is at capacity and the exact upstream outputs (above the
    model's chords) overflow them, the excess spills into the token's other candidate
    edges that lead on, best spot rate first; raises ``_Overflow`` if even they cannot
    take it."""
    edges = model.network.edges
    fitted = fit([curves.curve(edges[i]) for i in outs], amounts)
    if fitted is not None:
        return outs, fitted
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
    padded = [*amounts, *([0] * len(spill))]
    fitted = fit([curves.curve(edges[i]) for i in outs], padded)
    if fitted is None:
        spill_curves = [curves.curve(edges[i]) for i in outs]
        capacity = sum(
            c.last_feasible(0, c.failed_at) if c.failed_at else a
            for c, a in zip(spill_curves, padded, strict=True)
        )
        raise _Overflow(token, capacity, available)
    return outs, fitted


def fit(curves: Sequence[Curve], amounts: Sequence[int]) -> list[int] | None:
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


def split(total: int, weights: Sequence[float]) -> list[int]:
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


def least_input(
    curves: CurveCache, model: SplitModel, solution: Solution, guess: int
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
            legs = resimulate(curves, replace(forward, amount=amount_in), solution)
        bought = sum(leg.amount_out for leg in legs or () if leg.token_out == model.buy)
        runs[amount_in] = None if legs is None else (bought, legs)
        return runs[amount_in]

    def buys(amount_in: int) -> bool:
        done = run(amount_in)
        return done is not None and done[0] >= model.amount

    estimate = _secant(run, model.amount, guess)
    if estimate is None:
        return None
    high = _least_buying(buys, estimate, guess)
    if high is None:
        return None
    done = run(high)
    return None if done is None else done[1]


def _secant(run: _Run, amount: int, guess: int) -> int | None:
    """Secant steps on the (concave, nearly linear) output towards ``amount``, from the
    origin and ``guess``; ``None`` when the output stops moving or the input turns
    non-positive."""
    x0, y0, x1 = 0, 0, guess
    for _ in range(16):
        done = run(x1)
        if done is None or done[0] == y0:
            return None
        y1 = done[0]
        x0, y0, x1 = x1, y1, x1 + (amount - y1) * (x1 - x0) // (y1 - y0)
        if x1 <= 0:
            return None
        if abs(x1 - x0) <= 1:
            break
    return x1


def _least_buying(buys: Callable[[int], bool], x1: int, guess: int) -> int | None:
    """Bracket the least input that buys the amount around the estimate ``x1`` (steps
    doubling), then bisect; ``None`` if the bracket grows past ``guess``."""
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
    return high
