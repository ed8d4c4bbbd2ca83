"""The per-order engines' candidate loop in worker processes over one snapshot of the auction.

``fill_in_workers`` runs ``OrderFiller.fill`` over the ranked candidates in ``count``
processes. Candidates are handed out in ranked order from one shared counter (each worker
takes the next index when it is free), so the most valuable are solved first whatever the
number of workers. Each worker sends every fill as soon as it has it (anytime): at the
deadline the parent keeps what arrived and ends the workers; a worker that is late or dies
loses only the order it was on (the others take the rest). The fills come back in ranked
order, each the fill the in-process loop finds for that order (``OrderFiller.fill`` depends
only on the order and the snapshot), so N workers return what 1 does for the orders reached.

Two ways to share the snapshot:

* ``fork`` (the CLI, any process with one thread): the auction, its token graph and the
  filler are built, and the candidates screened, before the fork; the children share them
  copy-on-write (``gc.freeze`` first, so the collector does not touch, and copy, the
  pages);
* ``forkserver`` (a process with threads, such as the node and the solver-engine API, where
  forking would copy locks other threads hold): the snapshot (the filler's recipe, the
  auction, the ranked uids) is pickled once and each worker builds its token graph from it.

The count is process-wide: ``set_workers`` (``--workers`` of ``tributary solve``,
``solve-engine`` and ``serve``); by default every core the process may use.
"""

from __future__ import annotations

import copyreg
import gc
import logging
import multiprocessing
import os
import pickle
import threading
import time
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import TYPE_CHECKING, Any, Protocol

from routing.graph import TokenGraph
from solver.engines.base import Deadline, token_graph
from solver.model import Auction, Order

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

logger = logging.getLogger(__name__)

PRELOAD = ["solver.engines.single_order", "routing.optimizer"]
"""Imported once by the fork server, not by every worker."""

_count: int | None = None


def _proxy(items: dict[Any, Any]) -> types.MappingProxyType[Any, Any]:
    return types.MappingProxyType(items)


def _reduce_proxy(proxy: types.MappingProxyType[Any, Any]) -> tuple[Any, ...]:
    return _proxy, (dict(proxy),)


copyreg.pickle(types.MappingProxyType, _reduce_proxy)
"""The model's read-only mappings travel to a fork server's workers as copies."""


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def set_workers(count: int | None) -> None:
    """The worker processes of every per-order engine of this process (``None``: every
    core; 1: the engines' loop runs in-process)."""
    global _count
    if count is not None and count < 1:
        raise ValueError(f"at least one worker, not {count}")
    _count = count


def worker_count() -> int:
    return _count if _count is not None else cores()


class Filler(Protocol):
    """What a worker uses of ``single_order.OrderFiller``."""

    auction: Auction
    deadline: Deadline

    def fill_safely(self, order: Order) -> Any: ...


class Recipe(Protocol):
    """How a worker builds its filler (``single_order.FillerSpec``; picklable)."""

    def build(self, auction: Auction, graph: TokenGraph, deadline: Deadline) -> Filler: ...


@dataclass(frozen=True, slots=True)
class Outcome:
    fills: list[Any]
    """In ranked order."""
    routed: int
    """Orders whose routing finished before the deadline."""


def warm_up() -> None:
    """Start the fork server now (its imports take about half a second), not in the first
    auction's budget: the node calls it at start when it runs workers."""
    from multiprocessing import forkserver

    forkserver.set_forkserver_preload(PRELOAD)
    forkserver.ensure_running()


MIN_BUDGET_S = {"fork": 0.2, "forkserver": 1.0}
"""Less time left than this, and the loop runs in-process: starting workers (a fork of the
built snapshot: a few milliseconds; a fork server's worker: about 0.3 s to unpickle the
snapshot and build its token graph) would eat the budget."""


def worth_starting(deadline: Deadline) -> bool:
    """Is there time enough left for workers to pay for their start?"""
    return deadline.left() >= MIN_BUDGET_S[start_method()]


def start_method() -> str:
    """``fork`` when this process runs one thread, else ``forkserver``."""
    return "fork" if threading.active_count() == 1 else "forkserver"


def fill_in_workers(
    spec: Recipe,
    filler: Filler,
    ranked: Sequence[Order],
    count: int,
    method: str | None = None,
) -> Outcome:
    """The fills of ``ranked`` by ``count`` worker processes until ``filler``'s deadline
    (``method``: ``fork`` or ``forkserver``, by default ``start_method()``)."""
    method = method or start_method()
    ctx: Any = multiprocessing.get_context(method)
    next_index: Any = ctx.Value("l", 0)
    if method == "fork":
        target: Callable[..., None] = _forked
        args: tuple[Any, ...] = (filler, ranked)
        gc.freeze()  # the children's collections leave the shared pages alone
    else:
        warm_up()
        target = _spawned
        uids = [order.uid for order in ranked]
        args = (pickle.dumps((spec, filler.auction, uids, filler.deadline.stop_at), protocol=5),)
        logger.debug("snapshot of %d bytes pickled", len(args[0]))
    started = time.perf_counter()
    procs: dict[Connection, BaseProcess] = {}
    try:
        for _ in range(count):
            reader, writer = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=target, args=(*args, next_index, writer), daemon=True)
            proc.start()
            writer.close()  # the worker holds it: its end closes when the worker ends
            procs[reader] = proc
    finally:
        if method == "fork":
            gc.unfreeze()
    logger.debug("%d %s workers started in %.3f s", count, method, time.perf_counter() - started)
    found = _collect(procs, filler.deadline)
    _stop(procs)
    fills = [fill for _, fill in sorted(found.items()) if fill is not None]
    return Outcome(fills, len(found))


def _collect(procs: dict[Connection, BaseProcess], deadline: Deadline) -> dict[int, Any]:
    """Index -> fill (``None``: not fillable) for every order a worker finished, until all
    are done or gone, or the deadline. Each worker sends on its own pipe, synchronously: a
    fill sent is a fill received, whatever becomes of the worker after."""
    found: dict[int, Any] = {}
    open_ = set(procs)
    while open_ and not deadline.passed():
        for ready in wait(list(open_), timeout=max(deadline.left(), 0.0)):
            reader = ready if isinstance(ready, Connection) else None
            assert reader is not None
            try:
                index, fill = reader.recv()
            except (EOFError, OSError, pickle.UnpicklingError):  # ended, or died mid-send
                open_.discard(reader)
                procs[reader].join(timeout=0.1)
                code = procs[reader].exitcode
                if code:
                    logger.error("worker %d died (exit code %s)", procs[reader].pid, code)
                continue
            found[index] = fill
    if open_:
        logger.warning("deadline reached after %d orders, %d workers busy", len(found), len(open_))
    return found


def _stop(procs: dict[Connection, BaseProcess]) -> None:
    for proc in procs.values():
        if proc.exitcode is None:
            proc.kill()  # late: its unfinished order is lost
    for reader, proc in procs.items():
        proc.join(timeout=0.5)
        reader.close()


def _forked(filler: Filler, ranked: Sequence[Order], next_index: Any, out: Connection) -> None:
    _serve(filler, ranked, next_index, out)


def _spawned(snapshot: bytes, next_index: Any, out: Connection) -> None:
    started = time.perf_counter()
    spec, auction, uids, stop_at = pickle.loads(snapshot)
    deadline = Deadline.at(stop_at)
    filler = spec.build(auction, token_graph(auction), deadline)
    orders = {order.uid: order for order in auction.orders}
    logger.debug("worker %d: snapshot built in %.3f s", os.getpid(), time.perf_counter() - started)
    _serve(filler, [orders[uid] for uid in uids], next_index, out)


def _serve(filler: Filler, ranked: Sequence[Order], next_index: Any, out: Connection) -> None:
    """Take the next ranked order until none is left or the deadline, send each fill."""
    while not filler.deadline.passed():
        with next_index.get_lock():
            index = next_index.value
            next_index.value += 1
        if index >= len(ranked):
            break
        out.send((index, filler.fill_safely(ranked[index])))
    out.close()
