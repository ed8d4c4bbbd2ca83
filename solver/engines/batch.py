"""The ``batch`` engine: coincidences of wants first, per-order routing for the rest.

1. The per-order ``optimal`` engine solves the auction (one solution per fillable order).
2. CoW groups are found among orders whose tokens have reference prices: every token pair
   with orders both ways, and every directed three-token ring (A->B, B->C, C->A).
3. Each group is cleared by ``solver.engines.cow`` at one uniform price per token: a pair
   with its imbalance sold on AMMs along the path the router picks (the AMM-balanced
   price), or as a pure CoW (fill-or-kill pairs and perfect matches included, every
   order whole); a ring as a pure CoW. The group is one settlement: ``limit`` orders pay a
   fee in their sell token for their equal share of its gas, the shared base and AMM legs
   split over its trades (``solver.engines.group_fees``: the fees cover the declared gas,
   no order pays more than alone). A clearing's fees are made to match its own trades and
   legs: when it fills fewer orders or uses other pools than the fees assumed, the orders
   it fills are charged again and cleared again.
4. Each group's solution is checked (``solver.checks``) and scored (``solver.scoring``). It
   is kept only if it beats routing alone: its score exceeds the sum of the ``optimal``
   scores of the orders it fills, and on every directed pair it scores at least the best
   ``optimal`` solution of that pair (so the fair combinatorial auction would not drop it).
   Kept groups are taken by gain over routing, best first, orders disjoint.
5. The orders of one directed pair and kind are routed jointly, as one aggregate order
   over the pools their own routes use (``solver.merge_joint``); a group's joint solution
   is kept where it scores more than the greedy sequence of those routes.
6. The kept CoW and joint solutions and the ``optimal`` solutions of every other order are
   merged (``solver.merge``) into at most ten solutions that each settle many orders, fair
   against the CoW and ``optimal`` ones (a joint solution is a building block only).
7. Each merged solution is also offered without its thinnest pairs and in parts over
   disjoint pairs and pools (``solver.merge_alternatives``): a pair a rival's single bid
   beats costs a part, not the whole batch.
8. The answer: the merged solutions and their parts, the kept CoW solutions and the
   ``optimal`` solutions of every order not in a CoW (they set the single-pair references
   and may win other pairs).

Time: no CoW group is started after ``COW_SHARE`` of it (one under way finishes); the
greedy merge is kept what merging the fills takes (``solver.engines.budget``, at least
``MERGE_SHARE``), then ``JOINT_SHARE`` and a second ``MERGE_SHARE`` for the joint groups and
the merge with them, then ``ALTERNATIVES_SHARE`` for the alternative merged bids
(``solver.merge_alternatives``); the per-order routing has the
rest. Run after other engines (``solve_all``), it has the time ``reserve`` asks for.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from fractions import Fraction

from intents.order import OrderClass, OrderKind
from intents.types import OrderUid
from routing.graph import TokenGraph
from routing.optimizer import Router, RouterConfig
from routing.pool import TokenAddress
from solver.checks import SolutionRejected, check_solution
from solver.engines.base import Deadline, token_graph
from solver.engines.budget import MAX_RESERVE_SHARE, merge_reserve
from solver.engines.cow import (
    Clearing,
    Offer,
    clear_ring,
    may_clear,
    ranked,
)
from solver.engines.cow_amm import AmmQuotes
from solver.engines.cow_groups import cow_groups, ring_order
from solver.engines.cow_pair import PairBook, clear_pair, clear_whole_pairs
from solver.engines.group_fees import GroupFees
from solver.engines.single_order import (
    OrderFiller,
    SingleOrderEngine,
    best_paths,
    optimal_engine,
    solution_of,
)
from solver.merge_alternatives import alternative_bids
from solver.merge_joint import JointMerge, merge_with_joint
from solver.model import Auction, Order, Solution, Trade, now, settlement_gas
from solver.scoring import ScoringError, score_trades

logger = logging.getLogger(__name__)

Pair = tuple[TokenAddress, TokenAddress]

MAX_CANDIDATES = 8
"""Clearings of one group judged against routing alone, most surplus first."""

FEE_ROUNDS = 3
"""Times a clearing whose fees do not match its own trades and legs is cleared again."""

COW_SHARE = 0.3
"""Share of the time the CoW groups may take: the per-order fills the merged solutions are
built from need the rest."""
MERGE_SHARE = 0.1
"""Share of the time kept for merging the solutions (``solver.merge``) at the end."""
JOINT_SHARE = 0.1
"""Share of the time after the greedy merge for routing same-pair orders jointly
(``solver.merge_joint``); a second ``MERGE_SHARE`` merges with them."""
ALTERNATIVES_SHARE = 0.1
"""Share of the time kept at the end for the alternative merged bids
(``solver.merge_alternatives``)."""


@dataclass(frozen=True, slots=True)
class CowMatch:
    """A CoW group kept over routing alone: its solution, score and what routing alone
    scored for the same orders (native wei)."""

    solution: Solution
    score: int
    routing_score: int
    kind: str

    @property
    def gain(self) -> int:
        return self.score - self.routing_score


@dataclass(frozen=True, slots=True)
class BatchReport:
    """What one ``solve`` found, for logs and benchmarks."""

    groups: int
    beat_routing: int
    matches: tuple[CowMatch, ...]
    merged: tuple[Solution, ...]
    """The merged solutions (``solver.merge``), before renumbering."""
    cow_seconds: float
    """Finding, clearing and comparing the CoW groups."""
    joint: JointMerge
    """Same-pair groups routed jointly and as the greedy sequence, and which merge was
    kept (``solver.merge_joint``)."""
    seconds: float
    """The whole solve, routing the other orders included."""


class BatchEngine:
    """Coincidence of wants over the per-order ``optimal`` engine; never worse than it."""

    def __init__(
        self, config: RouterConfig | None = None, *, route_rest: bool = True, joint: bool = True
    ) -> None:
        self._config = config or RouterConfig()
        self._optimal: SingleOrderEngine = optimal_engine(self._config)
        self._route_rest = route_rest
        """Also route every order outside a kept CoW with ``optimal`` (one solution each)."""
        self._joint = joint
        """Route the orders of one pair and kind jointly where that beats the greedy
        sequence (``solver.merge_joint``); ``False``: the greedy sequence only."""
        self.last_report: BatchReport | None = None

    @property
    def name(self) -> str:
        return "batch"

    def reserve(self, auction: Auction) -> timedelta:
        """The time to keep for it when it runs after other engines (``solve_all``): the
        merge of up to one fill per order (``solver.engines.budget``), the greedy one and
        the one with joint routes, as the share of its time the merge parts get."""
        left = auction.deadline - now()
        passes = 2 if self._joint else 1
        need = merge_reserve(left, len(auction.orders), passes=passes)
        return min(need / (1 - COW_SHARE), left * MAX_RESERVE_SHARE)

    def solve(self, auction: Auction) -> list[Solution]:
        return self.solve_after(auction, ())

    def solve_after(self, auction: Auction, earlier: Sequence[Solution]) -> list[Solution]:
        """Its CoW and per-order solutions and the merged ones; ``earlier`` solutions of
        the auction (other engines', ``solve_all``) are merged too and count as the
        references merged pairs must reach, and the orders they fill are not routed
        again (they are not returned: their engines propose them)."""
        started = time.perf_counter()
        left = auction.deadline - now()
        cow_deadline = Deadline(auction.with_deadline(auction.deadline - left * (1 - COW_SHARE)))
        # the greedy merge first (what the earlier fills need, MERGE_SHARE at least), then the
        # joint groups and the merge with them, then the alternative merged bids
        greedy = max(left * MERGE_SHARE, merge_reserve(left, len(earlier)))
        after = left * ((JOINT_SHARE + MERGE_SHARE if self._joint else 0) + ALTERNATIVES_SHARE)
        routing_deadline = auction.deadline - greedy - after
        merge_end = auction.deadline - after
        alternatives_start = auction.deadline - left * ALTERNATIVES_SHARE
        graph = token_graph(auction)
        router = Router(graph, self._config)
        groups = cow_groups(auction, graph)
        # no new group starts after the CoW share; one under way routes until the merge
        clearer = _Clearer(
            auction, graph, router, Deadline(auction.with_deadline(routing_deadline))
        )
        found: list[CowMatch] = []
        for index, (kind, members) in enumerate(groups):
            if cow_deadline.passed():
                logger.warning(
                    "batch: CoW share of the time spent, %d groups left", len(groups) - index
                )
                break
            match = clearer.clear(kind, members, cow_deadline.passed)
            if match is not None:
                found.append(match)
        chosen: list[CowMatch] = []
        taken: set[OrderUid] = set()
        for match in sorted(found, key=lambda m: -m.gain):
            uids = {t.order for t in match.solution.trades}
            if not uids & taken:
                chosen.append(match)
                taken |= uids
        cow_seconds = time.perf_counter() - started
        solutions = [m.solution for m in chosen]
        if self._route_rest:
            routed = taken | {t.order for s in earlier for t in s.trades}
            rest = replace(
                auction,
                orders=tuple(o for o in auction.orders if o.uid not in routed),
                deadline=routing_deadline,
            )
            solutions += self._optimal.solve(rest)
        joint = merge_with_joint(
            auction,
            [*solutions, *earlier],
            joint=self._joint,
            greedy_stop=Deadline(auction.with_deadline(merge_end)).passed,
            joint_stop=Deadline(
                auction.with_deadline(alternatives_start - left * MERGE_SHARE)
            ).passed,
            stop=Deadline(auction.with_deadline(alternatives_start)).passed,
        )
        merged = list(joint.merged)
        merged += alternative_bids(
            auction, joint.merged, [*solutions, *earlier], stop=Deadline(auction).passed
        )
        solutions = [replace(s, id=i) for i, s in enumerate(merged + solutions)]
        seconds = time.perf_counter() - started
        self.last_report = BatchReport(
            len(groups),
            len(found),
            tuple(chosen),
            tuple(merged),
            cow_seconds,
            joint,
            seconds,
        )
        logger.info(
            "batch: %d CoW groups, %d beat routing alone, %d kept (gain %d wei), CoW part "
            "%.2f s; %d same-pair groups, %s merged in (%.2f s); %d merged solutions of "
            "%d trades; %d solutions in %.2f s",
            len(groups),
            len(found),
            len(chosen),
            sum(m.gain for m in chosen),
            cow_seconds,
            len(joint.groups),
            "joint routes" if joint.joint_kept else "none",
            joint.seconds,
            len(merged),
            sum(len(m.trades) for m in merged),
            len(solutions),
            seconds,
        )
        return solutions


def batch_engine() -> BatchEngine:
    return BatchEngine()


# -- clearing one group ----------------------------------------------------------------------


class _Clearer:
    def __init__(
        self, auction: Auction, graph: TokenGraph, router: Router, deadline: Deadline
    ) -> None:
        self.auction = auction
        self.graph = graph
        self.router = router
        # the auction's reference prices, else the graph's (derived through pools)
        tokens = set(graph.prices) | set(auction.tokens)
        self.reference = {t: auction.reference_price(t) or graph.prices.get(t) or 0 for t in tokens}
        self.filler = OrderFiller(
            auction,
            graph,
            router.route,
            deadline,
            search_paths=best_paths,
            max_hops=router.config.max_hops,
        )
        self.amm = AmmQuotes(graph, router, self.reference)
        self._alone: dict[OrderUid, tuple[int, int | None]] = {}
        self._rejected: set[tuple[object, ...]] = set()
        """Clearings the checks rejected (prices, trades, legs): the same clearing comes
        back from the fee rounds and from groups sharing orders, and is not checked again."""

    def _routed_alone(self, order: Order) -> tuple[int, int | None]:
        """(score, fee) of ``optimal`` routing ``order`` on its own ((0, None) if it cannot)."""
        if order.uid not in self._alone:
            fill = self.filler.fill(order)
            score, fee = 0, None
            if fill is not None:
                solution = solution_of(fill, 0, "optimal")
                score = _scores(self.auction, [solution], "optimal").get(0, 0)
                fee = fill.trade.fee
            self._alone[order.uid] = (score, fee)
        return self._alone[order.uid]

    def alone(self, order: Order) -> int:
        """The score ``optimal`` reaches routing ``order`` on its own (0 if it cannot)."""
        return self._routed_alone(order)[0]

    def fees(self, members: Sequence[Order]) -> GroupFees:
        """The group's fee rule: ``limit`` members pay in their sell token (offer key =
        index in ``members``)."""
        prices = {
            i: self.filler.fee_prices.price(
                o.sell_token, self.auction.reference_price(o.sell_token)
            )
            or 0
            for i, o in enumerate(members)
            if o.order_class is OrderClass.LIMIT
        }
        return GroupFees(
            self.auction.gas_price, prices, lambda key: self._routed_alone(members[key])[1]
        )

    def clear(
        self,
        kind: str,
        members: Sequence[Order],
        stop: Callable[[], bool] | None = None,
    ) -> CowMatch | None:
        """The group's best clearing that beats routing alone; candidates are not judged
        once ``stop`` says the CoW share of the time is spent (one group's candidates,
        each checked and compared with routing alone, took a second on a loaded CPU)."""
        tokens = list(dict.fromkeys(t for o in members for t in (o.sell_token, o.buy_token)))
        fees = self.fees(members)
        base = [o for i, order in enumerate(members) if (o := self._offer(i, order, fees))]
        hops: dict[Pair, list[Offer]] = {}
        for offer in base:
            hops.setdefault((offer.sell, offer.buy), []).append(offer)
        if len(hops) != len(tokens) or not may_clear(list(hops.values())):
            return None  # no uniform price meets a limit on every hop: skip the routing
        pool_gas = 0
        if kind == "pair":
            path = self.amm.path(tokens[0], tokens[1])
            pool_gas = self.amm.path_gas(path)
        offers = fees.charge(base, len(base), pool_gas)
        for clearing in self._clearings(kind, tokens, offers, fees)[:MAX_CANDIDATES]:
            if stop is not None and stop():
                return None
            settled = self._settle_fees(kind, tokens, clearing, fees)
            if settled is None:
                continue
            match = self._judge(kind, tokens, settled, members)
            if match is not None:
                return match
        return None

    def _settle_fees(
        self, kind: str, tokens: Sequence[TokenAddress], clearing: Clearing, fees: GroupFees
    ) -> Clearing | None:
        """``clearing`` with every fee its share of the clearing's own gas: if it fills fewer
        orders or its AMM legs cost other gas than its offers were charged for, the orders
        it fills are charged for that and cleared again (the best candidate), at most
        ``FEE_ROUNDS`` times; ``None`` if the fees do not settle."""
        for _ in range(FEE_ROUNDS):
            if fees.settled(clearing):
                return clearing
            offers = fees.charge(
                (f.offer for f in clearing.fills), len(clearing.fills), clearing.gas
            )
            found = self._clearings(kind, tokens, offers, fees)
            if not found:
                return None
            clearing = found[0]
        return clearing if fees.settled(clearing) else None

    def _judge(
        self,
        kind: str,
        tokens: Sequence[TokenAddress],
        clearing: Clearing,
        members: Sequence[Order],
    ) -> CowMatch | None:
        """The clearing as a solution, if it passes the checks and beats routing alone in
        total and on every directed pair."""
        solution = _solution_of(clearing, members)
        key = (tuple(sorted(solution.prices.items())), solution.trades, solution.legs)
        if key in self._rejected:
            return None
        try:
            checked = check_solution(self.auction, solution, solver="batch")
            score = score_trades(checked, self.auction)
        except (SolutionRejected, ScoringError) as exc:
            logger.warning("batch: %s clearing of %s dropped: %s", kind, tokens, exc)
            self._rejected.add(key)
            return None
        by_uid = {order.uid: order for order in members}
        routing_total = 0
        best_alone: dict[Pair, int] = {}
        for trade in solution.trades:
            order = by_uid[trade.order]
            alone = self.alone(order)
            routing_total += alone
            pair = (order.sell_token, order.buy_token)
            best_alone[pair] = max(best_alone.get(pair, 0), alone)
        fair = all(score.by_pair.get(p, 0) >= s for p, s in best_alone.items())
        if score.total <= routing_total or not fair:
            logger.info(
                "batch: %s of %s at one price scores %d, routing alone %d%s",
                kind,
                tokens,
                score.total,
                routing_total,
                "" if fair else " (a pair does worse than alone: unfair)",
            )
            return None
        return CowMatch(solution, score.total, routing_total, kind)

    def _clearings(
        self,
        kind: str,
        tokens: Sequence[TokenAddress],
        offers: Sequence[Offer],
        fees: GroupFees,
    ) -> list[Clearing]:
        if kind == "pair":
            a, b = tokens[0], tokens[1]
            book = PairBook(
                a,
                b,
                tuple(o for o in offers if o.sell == a),
                tuple(o for o in offers if o.sell == b),
            )
            ref_a, ref_b = self.reference.get(a, 0), self.reference.get(b, 0)
            if not ref_a or not ref_b or not book.forward or not book.backward:
                return []
            quote = self.amm.quote()
            reference_ratio = Fraction(ref_a, ref_b)
            found = clear_pair(
                book,
                reference_ratio,
                self.amm.spot(quote, a, b),
                self.amm.spot(quote, b, a),
                self.reference,
                quote,
                self.amm.split_quote(),
                self.amm.along,
            )
            # every order whole without AMMs, charged for that: the whole group, each two
            whole = fees.charge(offers, len(offers), 0)
            found += clear_whole_pairs(
                PairBook(a, b, *(tuple(o for o in whole if o.sell == t) for t in (a, b))),
                reference_ratio,
                self.reference,
                lambda two: fees.charge(two, 2, 0),
                whole=len(offers) > 2,
            )
            return ranked(found, self.reference)
        ring = ring_order(offers)
        if ring is None:
            return []
        a, b, c = ring
        legs = [[o for o in offers if (o.sell, o.buy) == hop] for hop in ((a, b), (b, c), (c, a))]
        return clear_ring([a, b, c], legs, self.reference)

    def _offer(self, key: int, order: Order, fees: GroupFees) -> Offer | None:
        """The matcher's view of ``order``, before fees (``GroupFees.charge`` charges them);
        ``None`` for a ``limit`` order whose sell token has no price to charge its fee in."""
        if order.order_class is OrderClass.LIMIT and not fees.prices.get(key):
            return None
        remaining = order.remaining
        if remaining <= 0:
            return None
        return Offer(
            key=key,
            sell=order.sell_token,
            buy=order.buy_token,
            sell_amount=order.signed_sell_amount,
            buy_amount=order.signed_buy_amount,
            is_sell=order.kind is OrderKind.SELL,
            partially_fillable=order.partially_fillable,
            remaining=remaining,
        )


def _solution_of(clearing: Clearing, members: Sequence[Order]) -> Solution:
    trades = tuple(Trade(members[f.offer.key].uid, f.executed, f.fee) for f in clearing.fills)
    gas = settlement_gas(len(trades), clearing.gas)
    return Solution(
        id=0,
        prices=dict(clearing.prices),
        trades=trades,
        legs=clearing.swaps,
        gas=gas,
        engine="batch",
    )


def _scores(auction: Auction, solutions: Iterable[Solution], solver: str) -> dict[int, int]:
    """Score of each solution that passes the checks (by solution id)."""
    scores: dict[int, int] = {}
    for solution in solutions:
        try:
            checked = check_solution(auction, solution, solver=solver)
            scores[solution.id] = score_trades(checked, auction).total
        except (SolutionRejected, ScoringError) as exc:
            logger.warning("batch: %s solution %d not scored: %s", solver, solution.id, exc)
    return scores
