"""Joint routing of orders that share a directed pair: one route for the group's total.

The merge (``solver.merge``) settles the orders of one directed pair at one uniform rate, but
each order's route was found alone, on the untouched pools, and is replayed after the
others': several orders on WETH->USDC each take the pool that was best for them alone, and
the later ones meet the price impact of the earlier ones (the *greedy sequence*). Here the
orders of one pair and kind are routed as one aggregate order instead (the multi-order
routing problem reduces to this when all orders share one clearing rate): the router's
split optimizer (``routing.optimizer``, piecewise-linear curves with OR-Tools, exact
re-simulation) splits the summed amount across the pools and paths once.

* **sell orders** (each sells its candidate's ``executed``): the route sells the total; the
  pair's rate is ``solver.merge_prices.pair_ratio`` of what it produces, so the rounded-up
  payouts never exceed it;
* **buy orders** (each buys its ``executed``): the route buys the total; the rate is the one
  at which the rounded-down payments still cover what the route spends.

Each order keeps its candidate's executed amount and solver fee (a ``limit`` order's fee
covered a settlement of its own; it over-covers its share of this one). Orders whose limit
the group's rate misses are dropped and the rest routed again (``MAX_ROUNDS``). The result
is one solution, checked as a whole (``solver.checks.check_solution``: legs re-simulated in
order, limits, token balances) and scored (``solver.scoring``, CIP-38).

It is measured against the greedy sequence on the same orders (``merge_solutions`` of their
candidates into one settlement, or the best of them alone when they do not merge) and kept
only when it scores more (``JointGroup.better``). The route is found over the pools the
orders' own routes use (``own_pools_router``): merged solutions are disjoint on pools, and a
route over all of them gains more per group but claims pools other orders need (measured in
``bench joint``). ``merge_with_joint`` merges the candidates with and without the kept joint
solutions (building blocks, pooled at their pair's rate, not bids of their own) and keeps
the merge that scores more in total.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from intents.order import OrderKind
from intents.types import OrderUid
from routing.graph import TokenGraph
from routing.optimizer import Router
from routing.pool import TokenAddress
from routing.route import NoRoute
from routing.route import OrderKind as RouteKind
from solver.checks import CheckedTrade, SolutionRejected, check_limit, check_solution
from solver.merge import PRICE_BITS_MARGIN, merge_solutions
from solver.merge_legs import legs_gas, net_flow
from solver.merge_prices import PairFlow, component_prices, pair_ratio
from solver.merge_units import Unit, units_of
from solver.model import MAX_SETTLEMENT_GAS, Auction, Solution, settlement_gas
from solver.scoring import ScoringError, score_trades

logger = logging.getLogger(__name__)

MAX_ROUNDS = 4
"""Times a group is routed again without the orders its rate missed."""
MIN_ORDERS = 2
"""A group has at least this many orders (one order is its own candidate)."""

GroupKey = tuple[TokenAddress, TokenAddress, OrderKind]
"""A group: sell token, buy token, order kind."""


@dataclass(frozen=True, slots=True)
class Scored:
    """A solution of a group with its score (native wei) and what it took to find it."""

    solution: Solution | None
    score: int
    seconds: float

    @property
    def orders(self) -> int:
        return 0 if self.solution is None else len(self.solution.trades)

    @property
    def gas(self) -> int:
        return 0 if self.solution is None else self.solution.gas


@dataclass(frozen=True, slots=True)
class JointGroup:
    """One group's joint solution and the greedy sequence on the same orders."""

    key: GroupKey
    members: int
    joint: Scored
    greedy: Scored

    @property
    def better(self) -> Solution | None:
        """The joint solution if it scores more than the greedy sequence, else ``None``."""
        return self.joint.solution if self.joint.score > self.greedy.score else None


def pair_groups(auction: Auction, candidates: Iterable[Solution]) -> dict[GroupKey, list[Unit]]:
    """One-order candidates grouped by pair and kind, the best valid one per order (only
    pairs with several orders are checked), groups of at least ``MIN_ORDERS`` orders, the
    most valuable first (by summed score)."""
    orders = {order.uid: order for order in auction.orders}
    by_key: dict[GroupKey, list[Solution]] = {}
    for solution in candidates:
        order = orders.get(solution.trades[0].order) if len(solution.trades) == 1 else None
        if order is not None:
            key = (order.sell_token, order.buy_token, order.kind)
            by_key.setdefault(key, []).append(solution)
    groups: list[tuple[GroupKey, list[Unit]]] = []
    for key, found in by_key.items():
        if len({s.trades[0].order for s in found}) < MIN_ORDERS:
            continue
        best: dict[OrderUid, Unit] = {}
        for unit in units_of(auction, found)[0]:  # best first
            uid = unit.checked[0].order.uid
            if unit.score > 0 and uid not in best:
                best[uid] = unit
        if len(best) >= MIN_ORDERS:
            groups.append((key, list(best.values())))
    groups.sort(key=lambda kg: -sum(u.score for u in kg[1]))
    return dict(groups)


def joint_solution(
    auction: Auction,
    router: Router,
    members: Sequence[CheckedTrade],
    *,
    gas_limit: int = MAX_SETTLEMENT_GAS,
    engine: str = "batch",
) -> tuple[Solution, int] | None:
    """The members (trades of one pair and kind, at their candidates' executed amounts and
    fees) routed as one order and settled at one rate, with its score; members whose limit
    the rate misses are left out. ``None`` if fewer than ``MIN_ORDERS`` remain."""
    active = list(members)
    for _ in range(MAX_ROUNDS):
        if len(active) < MIN_ORDERS:
            return None
        settled = _settle(auction, router, active)
        if settled is None:
            return None
        solution, missed = settled
        if missed:
            active = [c for c in active if c.order.uid not in missed]
            continue
        try:
            checked = check_solution(auction, solution, solver=engine, gas_limit=gas_limit)
            score = score_trades(checked, auction).total
        except (SolutionRejected, ScoringError) as exc:
            logger.warning("joint: a group solution fails the checks: %s", exc)
            return None
        return solution, score
    return None


def _settle(
    auction: Auction, router: Router, active: Sequence[CheckedTrade]
) -> tuple[Solution, set[OrderUid]] | None:
    """The group routed once and priced: its solution and the orders whose limit the rate
    misses (the solution is valid only when there are none)."""
    first = active[0].order
    sell, buy, kind = first.sell_token, first.buy_token, first.kind
    total = sum(c.trade.executed for c in active)
    route_kind = RouteKind.SELL if kind is OrderKind.SELL else RouteKind.BUY
    try:
        legs = router.route(sell, buy, total, route_kind).legs
    except NoRoute:
        return None
    net = net_flow(legs)
    spent, produced = -net.pop(sell, 0), net.pop(buy, 0)
    if any(v < 0 for v in net.values()) or spent <= 0 or produced <= 0:
        return None
    # pair_ratio needs only the group's totals: the legs' flows go with the first member
    flows = [
        PairFlow(kind, c.trade.executed, spent if i == 0 else 0, produced if i == 0 else 0)
        for i, c in enumerate(active)
    ]
    ratio = pair_ratio(flows)
    if ratio is None:
        return None
    largest = max(spent, produced, *(max(c.sold, c.bought) for c in active))
    bits = largest.bit_length() + PRICE_BITS_MARGIN
    prices = component_prices({(sell, buy): ratio}, None, min(sell, buy), bits)
    missed: set[OrderUid] = set()
    for c in active:
        try:
            check_limit(c.order, c.trade, prices)
        except SolutionRejected:
            missed.add(c.order.uid)
    pools = {pool.id: pool for pool in auction.liquidity.pools}
    solution = Solution(
        id=0,
        prices=prices,
        trades=tuple(c.trade for c in active),
        legs=legs,
        gas=settlement_gas(len(active), legs_gas(legs, pools, set())),
        engine="batch",
    )
    return solution, missed


def greedy_solution(
    auction: Auction, group: Sequence[Unit], *, gas_limit: int = MAX_SETTLEMENT_GAS
) -> tuple[Solution | None, int]:
    """The greedy sequence on the group's orders: their candidates merged into one
    settlement (``merge_solutions``, each route replayed after the earlier ones), or the
    best candidate alone when that scores more (one pair wins once per auction)."""
    best = max(group, key=lambda u: u.score)
    merged = merge_solutions(auction, [u.solution for u in group], gas_limit=gas_limit, max_bins=1)
    if merged:
        units, _ = units_of(auction, merged)
        if units and units[0].score > best.score:
            return merged[0], units[0].score
    return best.solution, best.score


def own_pools_router(auction: Auction, group: Sequence[Unit]) -> Router:
    """A router over the pools the group's own candidates swap, and no others: the joint
    route then claims no pool the greedy sequence would not (merged solutions are disjoint
    on pools, so a wider split can cost the merge more than it gains)."""
    used = {leg.pool for u in group for leg in u.solution.legs}
    prices = {token: info.reference_price for token, info in auction.tokens.items()}
    pools = [p for p in auction.liquidity.pools if p.id in used]
    return Router(TokenGraph(pools, prices, gas_price=auction.gas_price))


def route_jointly(
    auction: Auction,
    candidates: Iterable[Solution],
    router: Router | None = None,
    *,
    stop: Callable[[], bool] | None = None,
    gas_limit: int = MAX_SETTLEMENT_GAS,
) -> list[JointGroup]:
    """Every group of one-order candidates on one pair and kind (``pair_groups``), the most
    valuable first until ``stop``: its joint solution and the greedy sequence on it. The
    joint route is found by ``router`` (all the auction's pools), by default over the
    group's own pools (``own_pools_router``)."""
    found: list[JointGroup] = []
    for key, group in pair_groups(auction, candidates).items():
        if stop is not None and stop():
            logger.info("joint: stopped, %d groups done", len(found))
            break
        started = time.perf_counter()
        routes = router or own_pools_router(auction, group)
        joint = joint_solution(auction, routes, [u.checked[0] for u in group], gas_limit=gas_limit)
        middle = time.perf_counter()
        greedy, greedy_score = greedy_solution(auction, group, gas_limit=gas_limit)
        ended = time.perf_counter()
        found.append(
            JointGroup(
                key,
                len(group),
                Scored(
                    None if joint is None else joint[0],
                    0 if joint is None else joint[1],
                    middle - started,
                ),
                Scored(greedy, greedy_score, ended - middle),
            )
        )
    return found


@dataclass(frozen=True, slots=True)
class JointMerge:
    """The merged solutions ``merge_with_joint`` keeps, and how it chose them."""

    groups: tuple[JointGroup, ...]
    merged: tuple[Solution, ...]
    greedy_score: int
    """Summed score of the merged solutions of the greedy sequence."""
    joint_score: int | None
    """The same with the kept joint solutions merged in (``None``: none was kept)."""
    seconds: float
    """The joint groups and the second merge."""

    @property
    def joint_kept(self) -> bool:
        return self.joint_score is not None and self.joint_score > self.greedy_score


def merge_with_joint(
    auction: Auction,
    candidates: Sequence[Solution],
    *,
    joint: bool = True,
    joint_stop: Callable[[], bool] | None = None,
    greedy_stop: Callable[[], bool] | None = None,
    stop: Callable[[], bool] | None = None,
) -> JointMerge:
    """The candidates merged (``merge_solutions``) as the greedy sequence first (until
    ``greedy_stop``: it is what the time reserved for the merge is for), then with the joint
    solutions of their same-pair groups (``route_jointly``, until ``joint_stop``; skipped
    unless ``joint``) as building blocks, until ``stop``; the merge whose solutions score
    more in total is kept (the packing is greedy too: measured, groups that each beat their
    greedy sequence can still make the worse merge)."""
    merged = merge_solutions(auction, candidates, stop=greedy_stop)
    greedy_score = _total(auction, merged)
    started = time.perf_counter()
    groups = route_jointly(auction, candidates, stop=joint_stop) if joint else []
    jointly = [s for g in groups if (s := g.better) is not None]
    joint_score = None
    if jointly and not (stop is not None and stop()):
        # merged, not offered: as bids of their own they would raise their pairs'
        # references above what a merged solution holding them scores there
        with_joint = merge_solutions(auction, candidates, stop=stop, unoffered=jointly)
        joint_score = _total(auction, with_joint)
        if joint_score > greedy_score:
            merged = with_joint
    seconds = time.perf_counter() - started
    return JointMerge(tuple(groups), tuple(merged), greedy_score, joint_score, seconds)


def _total(auction: Auction, solutions: Iterable[Solution]) -> int:
    return sum(u.score for u in units_of(auction, solutions)[0])


__all__ = [
    "JointGroup",
    "JointMerge",
    "Scored",
    "greedy_solution",
    "joint_solution",
    "merge_with_joint",
    "pair_groups",
]
