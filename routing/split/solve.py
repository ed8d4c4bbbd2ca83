"""Solve a split model: the LP (GLOP) or the gas-aware MIP (SCIP), in the convex-combination
form. The only module of ``routing`` that imports OR-Tools and scipy.

Per edge, weights ``w_k >= 0`` on its breakpoints ``(a_k, o_k)`` with ``sum w_k <= 1``
(``<= used_e`` in the MIP, ``used_e`` binary and charged the pool's gas); the edge takes
``sum w_k a_k`` and gives ``sum w_k o_k`` (concave curves make the weights pick adjacent
breakpoints). Rows are flow conservation per token, scaled per token so the coefficients
are of order one, then one convexity row per edge.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from ortools.linear_solver.python import model_builder_helper as mbh
from scipy import sparse

from routing.route import OrderKind
from routing.split.model import Solution, SplitModel

logger = logging.getLogger(__name__)

_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class _Columns:
    """The weight columns of a model: the edge owning each, its breakpoint's input and
    output, and the sparse matrix with its objective and bounds."""

    owner: npt.NDArray[np.int64]
    a: npt.NDArray[np.float64]
    o: npt.NDArray[np.float64]
    matrix: Any
    """``scipy.sparse.csr_matrix``, token rows then convexity rows."""
    objective: npt.NDArray[np.float64]
    upper: npt.NDArray[np.float64]
    n_weights: int


def solve(model: SplitModel, *, mip: bool, time_limit_ms: int) -> Solution | None:
    """The model's optimum (``None`` if the solver finds no solution within the limit)."""
    columns = _columns(model, mip=mip)
    lower_rows, upper_rows = _row_bounds(model, mip=mip)
    n_cols = columns.matrix.shape[1]
    builder = mbh.ModelBuilderHelper()
    builder.fill_model_from_sparse_data(
        _floats(np.zeros(n_cols)),
        _floats(columns.upper),
        _floats(columns.objective),
        _floats(lower_rows),
        _floats(upper_rows),
        columns.matrix,
    )
    builder.set_maximize(True)
    for col in range(columns.n_weights, n_cols):
        builder.set_var_integrality(col, True)
    solver = mbh.ModelSolverHelper("scip" if mip else "glop")
    solver.set_time_limit_in_seconds(time_limit_ms / 1000)
    solver.set_solver_specific_parameters(_parameters(model, mip=mip))
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
    return _solution(model, columns, solver.variable_values())


def _columns(model: SplitModel, *, mip: bool) -> _Columns:
    """One weight column per breakpoint but the origin, built as arrays over all edges;
    in the MIP one binary per edge after them."""
    net = model.network
    scale = model.scale
    token_row = {t: i for i, t in enumerate(net.order)}
    n_tokens = len(token_row)
    n_edges = len(net.edges)
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
    if model.kind is OrderKind.SELL:
        pays = np.array([e.token_out == model.buy for e in net.edges])[owner]
        objective = [np.where(pays, o / s_out, 0.0)]
    else:
        pays = np.array([e.token_in == model.sell for e in net.edges])[owner]
        objective = [np.where(pays, -a / s_in, 0.0)]
    if mip:
        # one binary per edge: its weights sum to at most it, and it costs its gas
        rows.append(n_tokens + np.arange(n_edges))
        cols.append(n_weights + np.arange(n_edges))
        vals.append(-np.ones(n_edges))
        objective.append(-np.array(model.gas_cost, dtype=np.float64))
    n_cols = n_weights + (n_edges if mip else 0)
    matrix = sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_tokens + n_edges, n_cols),
        dtype=np.float64,
    )
    return _Columns(owner, a, o, matrix, np.concatenate(objective), np.ones(n_cols), n_weights)


def _row_bounds(model: SplitModel, *, mip: bool) -> tuple[list[float], list[float]]:
    """Bounds of the token rows (a sell order spends exactly its amount, a buy order
    receives at least its amount, intermediate tokens give out at most what they get) and
    of the convexity rows (``<= 1``; ``<= 0`` beside the binary in the MIP)."""
    sell_order = model.kind is OrderKind.SELL
    lower_rows: list[float] = []
    upper_rows: list[float] = []
    for token in model.network.order:
        if token == model.sell:
            # a sell order spends exactly its amount; a buy order whatever it needs
            fixed = -model.amount / model.scale[token] if sell_order else None
            lower_rows.append(-math.inf if fixed is None else fixed)
            upper_rows.append(math.inf if fixed is None else fixed)
        elif token == model.buy:
            lower_rows.append(-math.inf if sell_order else model.amount / model.scale[token])
            upper_rows.append(math.inf)
        else:
            lower_rows.append(0.0)  # outflow <= inflow
            upper_rows.append(math.inf)
    n_edges = len(model.network.edges)
    lower_rows += [-math.inf] * n_edges
    upper_rows += [0.0 if mip else 1.0] * n_edges
    return lower_rows, upper_rows


def _parameters(model: SplitModel, *, mip: bool) -> str:
    if mip:
        # a pool's gas is a few millionths of a large order's output: a relative gap
        # would stop SCIP before it weighs them, so close the gap to a fraction of
        # the cheapest gas instead
        charged = [g for g in model.gas_cost if g > 0]
        absgap = min(charged) / 8 if charged else 1e-9
        return f"limits/gap = 0\nlimits/absgap = {absgap:.6g}"
    # small, well-scaled LPs: presolve costs more than it saves; primal simplex
    # solves the wide splits (1,000+ breakpoint columns) 2.4x faster than dual
    return "use_dual_simplex:false use_preprocessing:false"


def _solution(model: SplitModel, columns: _Columns, values: Any) -> Solution:
    """Per-edge flows from the weights, and the objective in base units."""
    net = model.network
    n_edges = len(net.edges)
    weights = np.asarray(values[: columns.n_weights], dtype=np.float64)
    weights = np.where(weights > _EPS, weights, 0.0)
    flow_in = np.bincount(columns.owner, weights=weights * columns.a, minlength=n_edges).tolist()
    flow_out = np.bincount(columns.owner, weights=weights * columns.o, minlength=n_edges).tolist()
    if model.kind is OrderKind.SELL:
        value = sum(f for f, e in zip(flow_out, net.edges, strict=True) if e.token_out == model.buy)
    else:
        value = sum(f for f, e in zip(flow_in, net.edges, strict=True) if e.token_in == model.sell)
    return Solution(flow_in, flow_out, value)


def _floats(values: Any) -> Any:
    """A float64 column vector for the model builder (its stubs want an exact dtype)."""
    return np.asarray(values, dtype=np.float64)
