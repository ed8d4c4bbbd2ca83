"""Merged solutions: many candidate solutions settled as one, fair by CoW's rules.

The node's winner selection (``solver.competition``, CoW's CIP-67) takes at most ten
winners per auction, disjoint on directed token pairs, and drops a batched bid that scores
below the best single-pair bid on any of its pairs. A solution per order therefore settles
at most ten orders per auction. ``merge_solutions`` packs valid candidates (one-order
fills, coincidences of wants) into at most ``max_bins`` merged solutions, each one valid
settlement:

* **in order on shared pools**: each candidate's legs are replayed (``solver.merge_legs``)
  on the pools as the merged solution's earlier legs left them, with exact pool math;
* **uniform prices**: the orders of one directed pair trade at one rate, the best the
  replayed legs pay for after GPv2's rounding (``solver.merge_prices``); the pairs of a
  merged solution form a forest of tokens (a new pair may not close a cycle; a second
  order on a pair already there is pooled at the pair's rate, as are the orders of a joint
  route, ``solver.merge_joint``), each tree priced from its
  root; a coincidence of wants keeps its own prices (scaled) and roots its tree;
* **nothing kept**: a buy order's legs get the least input that pays its pair's orders
  (``solver.merge_balance``); a pair that would leave the settlement more than rounding
  (``solver.kept.rounding_allowance``) does not take the candidate;
* **one settlement overhead**: gas is ``settlement_gas(trades, legs' gas)``, a pool swapped
  again paying its warm-storage cost (``merge_legs.legs_gas``), at most
  ``gas_limit``; ``limit`` orders keep the fee their candidate charged (it covered a
  settlement of their own, so it over-covers their share of this one);
* **fair**: every directed pair scores (``solver.scoring``) at least the best single-pair
  candidate on it (``competition.reference_scores``, plus any ``references`` given), so
  ``competition.is_fair`` keeps the merged solution; merged solutions are disjoint on
  directed pairs, and one pair's two directions are never in one merged solution (routed
  separately they cannot share a price; their coincidences of wants come as one
  candidate).

Merged solutions are also disjoint on pools: several of them win one auction, and the
node settles its winners one after the other; a second merged solution swapping a pool the
first moved would revert (its exact amounts no longer hold).

Greedy and anytime: candidates are taken by score, best first, each checked only when
taken (``merge_units.Ranked``); each joins the first merged solution it keeps valid and
fair (a pair or pool already in one can only join that one). Each finished merged solution
is checked once more (``solver.checks``); one without which the auction's winners would
score more is not offered (``merge_units.no_worse``).
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction

from intents.order import OrderKind
from intents.types import OrderUid
from routing.pool import Pool, PoolId, TokenAddress
from routing.route import Leg
from solver.checks import CheckedTrade, SolutionRejected, check_limit
from solver.competition import Pair
from solver.kept import declared_fees, rounding_allowance
from solver.merge_balance import least_input
from solver.merge_legs import (
    PoolState,
    Replayed,
    ReplayFailed,
    legs_gas,
    net_flow,
    replay_fixed,
    replay_route,
)
from solver.merge_packing import Packing
from solver.merge_prices import PairFlow, balance_gap, component_prices, pair_ratio
from solver.merge_units import Ranked, Unit, no_worse, valid_bid
from solver.model import MAX_SETTLEMENT_GAS, Auction, Order, Solution, Trade, settlement_gas
from solver.scoring import ScoringError, SolutionScore, score_trades

logger = logging.getLogger(__name__)

DEFAULT_GAS_LIMIT = MAX_SETTLEMENT_GAS
"""Gas one merged solution may declare (``solver.model.MAX_SETTLEMENT_GAS``)."""
MAX_BINS = 10
"""Merged solutions per auction: the winners the fair combinatorial auction picks."""
PRICE_BITS_MARGIN = 2
"""Prices are at least this many bits above the largest amount of their tree, so rounding
a price costs no user a base unit."""


@dataclass(frozen=True, slots=True)
class _Member:
    """A routed order of a pair: its trade, replayed legs and their flows."""

    order: Order
    trade: Trade
    legs: tuple[Leg, ...]
    flow: PairFlow


@dataclass(frozen=True, slots=True)
class _Step:
    """What a unit adds to a bin: its trades, legs, routed members (one order, or the
    orders of one pair sharing one route) or a fixed-price anchor (none), and the pool
    state after its legs."""

    unit: Unit
    legs: tuple[Leg, ...]
    members: tuple[_Member, ...]
    state: PoolState | None
    """``None``: the legs did not touch the bin's pools and are not replayed yet."""


@dataclass(frozen=True, slots=True)
class _Plan:
    """A bin's tree as a step would leave it: its tokens, routed pairs with their rates,
    fixed-price anchors and prices."""

    tokens: set[TokenAddress]
    groups: dict[Pair, list[_Member]]
    ratios: dict[Pair, Fraction]
    anchors: list[dict[TokenAddress, int]]
    prices: dict[TokenAddress, int]


@dataclass(slots=True)
class _Bin:
    auction: Auction
    references: Mapping[Pair, int]
    gas_limit: int
    state: PoolState
    pools: Mapping[PoolId, Pool]
    legs: list[Leg] = field(default_factory=list)
    swapped: set[PoolId] = field(default_factory=set)
    trades: list[Trade] = field(default_factory=list)
    legs_gas: int = 0
    units: int = 0
    groups: dict[Pair, list[_Member]] = field(default_factory=dict)
    ratios: dict[Pair, Fraction] = field(default_factory=dict)
    anchors: list[dict[TokenAddress, int]] = field(default_factory=list)
    fixed_pairs: set[Pair] = field(default_factory=set)
    fixed: list[CheckedTrade] = field(default_factory=list)
    component: dict[TokenAddress, int] = field(default_factory=dict)
    prices: dict[TokenAddress, int] = field(default_factory=dict)
    orders: set[OrderUid] = field(default_factory=set)
    lenient: Pair | None = None
    """A pair whose fairness is judged later (``fair``), once its group is in."""

    def copy(self) -> _Bin:
        return replace(
            self,
            state=self.state.fork(),
            legs=list(self.legs),
            swapped=set(self.swapped),
            trades=list(self.trades),
            groups=dict(self.groups),
            ratios=dict(self.ratios),
            anchors=list(self.anchors),
            fixed_pairs=set(self.fixed_pairs),
            fixed=list(self.fixed),
            component=dict(self.component),
            prices=dict(self.prices),
            orders=set(self.orders),
        )

    def fair(self) -> bool:
        """Every pair scores at least its reference at the bin's prices."""
        members = [m for ms in self.groups.values() for m in ms]
        try:
            _, score = _judged(self.auction, members, self.fixed, self.prices)
        except (SolutionRejected, ScoringError):
            return False
        return self._fair(score, None)

    def _fair(self, score: SolutionScore, lenient: Pair | None) -> bool:
        """No pair but ``lenient`` scores below its reference."""
        return all(s >= self.references.get(p, 0) or p == lenient for p, s in score.by_pair.items())

    # -- structure -------------------------------------------------------------------------

    def _fits(self, unit: Unit) -> bool:
        """The unit keeps the bin's pairs a forest with one direction per pair, at most one
        fixed-price anchor per tree, its orders new, and the gas within the limit."""
        if any(c.order.uid in self.orders for c in unit.checked):
            return False
        more = legs_gas(unit.solution.legs, self.pools, set(self.swapped))
        gas = settlement_gas(len(self.trades) + len(unit.checked), self.legs_gas + more)
        if gas > self.gas_limit:
            return False
        taken = set(self.groups) | self.fixed_pairs
        if any((b, a) in taken for a, b in unit.pairs):
            return False
        if unit.routed and next(iter(unit.pairs)) in self.groups:
            return True  # pooled with the pair's orders at one rate
        if any(p in taken for p in unit.pairs):
            return False
        trees = [self.component.get(t) for t in unit.tokens]
        joined = [t for t in trees if t is not None]
        if len(joined) != len(set(joined)):
            return False  # it would close a cycle
        anchored = sum(1 for t in joined if self._anchor_of(t) is not None)
        return anchored + (0 if unit.routed else 1) <= 1

    def _anchor_of(self, tree: int) -> dict[TokenAddress, int] | None:
        for anchor in self.anchors:
            if self.component.get(next(iter(anchor))) == tree:
                return anchor
        return None

    # -- joining ---------------------------------------------------------------------------

    def add(self, unit: Unit) -> bool:
        """Add ``unit`` if the bin stays one valid, fair settlement within its gas. Legs
        on pools the bin has not touched run as they ran alone: they are judged as they
        are and replayed (to carry the pools' states on) only once the unit is taken."""
        if not self._fits(unit):
            return False
        try:
            replay = bool(unit.pools() & self.state.touched()) or self._joins_sells(unit)
            step = self._step(unit, replay=replay)
            plan = None if step is None else self._plan(step)
            if plan is not None and step is not None and step.state is None:
                replayed = self._step(unit, replay=True)
                if replayed is None:
                    return False
                plan = plan if replayed.legs == step.legs else self._plan(replayed)
                step = replayed
        except ReplayFailed as exc:
            logger.debug("merge: solution %d does not join: %s", unit.solution.id, exc)
            return False
        if plan is None or step is None:
            return False
        self._take(step, plan)
        return True

    def _joins_sells(self, unit: Unit) -> bool:
        """A routed buy order joining its pair's sell orders: its legs are balanced against
        theirs (``_balanced``) even on pools no earlier leg moved."""
        order = unit.checked[0].order
        if not unit.routed or order.kind is not OrderKind.BUY:
            return False
        group = self.groups.get((order.sell_token, order.buy_token), [])
        return any(m.order.kind is OrderKind.SELL for m in group)

    def _step(self, unit: Unit, *, replay: bool) -> _Step | None:
        state = self.state.fork() if replay else None
        if not unit.routed:
            if state is not None:
                replay_fixed(state, unit.solution.legs)
            return _Step(unit, unit.solution.legs, (), state)
        order = unit.checked[0].order
        legs: tuple[Leg, ...] = unit.solution.legs
        if state is None:
            net = net_flow(legs)
        elif order.kind is OrderKind.BUY:
            found = self._balanced(state, unit)
            if found is None:
                return None
            legs, net = found.legs, dict(found.net)
        else:
            replayed = replay_route(state, legs, order.sell_token)
            legs, net = replayed.legs, dict(replayed.net)
        members = _members(unit, legs, net)
        return None if members is None else _Step(unit, legs, members, state)

    def _balanced(self, state: PoolState, unit: Unit) -> Replayed | None:
        """The buy order's route replayed on ``state`` (modified in place) with the least
        first-hop input at which its pair's orders, it included, are paid out of their
        legs (``merge_prices.balance_gap`` not negative, ``merge_balance``): more input
        would be kept by the settlement (the uniform rate cannot pass it on to both
        tokens' receivers), less leaves an order unpaid. ``None`` if none pays."""
        order = unit.checked[0].order
        group = self.groups.get((order.sell_token, order.buy_token), [])

        def gap(replayed: Replayed) -> Fraction | None:
            members = _members(unit, replayed.legs, dict(replayed.net))
            if members is None:
                return None
            return balance_gap(m.flow for m in (*group, *members))

        return least_input(state, unit.solution.legs, order.sell_token, gap)

    def _plan(self, step: _Step) -> _Plan | None:
        """The tree the step joins, priced; ``None`` unless every order's limit holds,
        the pairs' flows are covered and every pair of the tree is fair."""
        unit = step.unit
        tokens = set(unit.tokens)
        for token in unit.tokens:
            tree = self.component.get(token)
            if tree is not None:
                tokens |= {t for t, c in self.component.items() if c == tree}
        groups = dict(self.groups)
        ratios = dict(self.ratios)
        anchors = list(self.anchors)
        if step.members:
            pair = (step.members[0].order.sell_token, step.members[0].order.buy_token)
            groups[pair] = [*groups.get(pair, []), *step.members]
            ratio = pair_ratio(m.flow for m in groups[pair])
            if ratio is None:
                return None
            ratios[pair] = ratio
        else:
            anchors.append({t: unit.solution.prices[t] for t in unit.tokens})
        plan = _Plan(tokens, groups, ratios, anchors, {})
        prices = self._price(plan, unit)
        if prices is None:
            return None
        plan.prices.update(prices)
        return plan

    def _price(self, plan: _Plan, unit: Unit) -> dict[TokenAddress, int] | None:
        tokens, groups = plan.tokens, plan.groups
        edges = {p: r for p, r in plan.ratios.items() if p[0] in tokens}
        anchor = next((a for a in plan.anchors if next(iter(a)) in tokens), None)
        members = [m for p, ms in groups.items() if p[0] in tokens for m in ms]
        fixed = [c for c in self.fixed if c.order.sell_token in tokens]
        if not unit.routed:
            fixed += unit.checked
        largest = max(
            [m.flow.executed for m in members]
            + [m.flow.produced for m in members]
            + [m.flow.spent for m in members]
            + [max(c.sold, c.bought) for c in fixed]
        )
        bits = largest.bit_length() + PRICE_BITS_MARGIN
        try:
            prices = component_prices(edges, anchor, min(tokens), bits)
            checked, score = _judged(self.auction, members, fixed, prices)
        except (ValueError, SolutionRejected, ScoringError):
            return None
        if not _covered(groups, checked, tokens, prices, self.pools) or not self._fair(
            score, self.lenient
        ):
            return None
        return prices

    def _take(self, step: _Step, plan: _Plan) -> None:
        unit = step.unit
        assert step.state is not None
        self.state = step.state
        self.legs += step.legs
        self.trades += [c.trade for c in unit.checked]
        self.legs_gas += legs_gas(unit.solution.legs, self.pools, self.swapped)
        self.units += 1
        self.groups, self.ratios, self.anchors = plan.groups, plan.ratios, plan.anchors
        if not unit.routed:
            self.fixed += unit.checked
            self.fixed_pairs |= unit.pairs
        tree = min((self.component[t] for t in plan.tokens if t in self.component), default=None)
        if tree is None:
            tree = max(self.component.values(), default=-1) + 1
        for token in plan.tokens:
            self.component[token] = tree
        self.prices.update(plan.prices)
        self.orders |= {c.order.uid for c in unit.checked}

    def solution(self, engine: str) -> Solution:
        return Solution(
            id=0,
            prices=dict(self.prices),
            trades=tuple(self.trades),
            legs=tuple(self.legs),
            gas=settlement_gas(len(self.trades), self.legs_gas),
            engine=engine,
        )


def _members(
    unit: Unit, legs: tuple[Leg, ...], net: dict[TokenAddress, int]
) -> tuple[_Member, ...] | None:
    """The unit's routed members with its legs' flows (``net``, modified): orders sharing
    one route put its flows on the first (pair rates need only sums); ``None`` if the legs
    take more of an intermediate token than they produce."""
    order = unit.checked[0].order
    spent, produced = -net.pop(order.sell_token, 0), net.pop(order.buy_token, 0)
    if any(v < 0 for v in net.values()):
        return None
    return tuple(
        _Member(
            c.order,
            c.trade,
            legs if i == 0 else (),
            PairFlow(
                c.order.kind, c.trade.executed, spent if i == 0 else 0, produced if i == 0 else 0
            ),
        )
        for i, c in enumerate(unit.checked)
    )


def _judged(
    auction: Auction,
    members: Iterable[_Member],
    fixed: Iterable[CheckedTrade],
    prices: Mapping[TokenAddress, int],
) -> tuple[list[CheckedTrade], SolutionScore]:
    """The trades of ``members`` and ``fixed`` at ``prices``, their limits checked
    (``SolutionRejected``), and their score (``ScoringError``)."""
    checked = [check_limit(m.order, m.trade, prices) for m in members]
    checked += [check_limit(c.order, c.trade, prices) for c in fixed]
    return checked, score_trades(checked, auction)


def _covered(
    groups: Mapping[Pair, list[_Member]],
    checked: Sequence[CheckedTrade],
    tokens: set[TokenAddress],
    prices: Mapping[TokenAddress, int],
    pools: Mapping[PoolId, Pool],
) -> bool:
    """Per routed pair of the tree, what its orders pay covers what their legs take in,
    what their legs produce covers what they receive, and beyond the declared fees the
    settlement keeps no more of either than rounding (``solver.kept.rounding_allowance``)."""
    by_uid = {c.order.uid: c for c in checked}
    for (sell, buy), members in groups.items():
        if sell not in tokens:
            continue
        trades = [by_uid[m.order.uid] for m in members]
        paid = sum(c.sold for c in trades)
        received = sum(c.bought for c in trades)
        spent = sum(m.flow.spent for m in members)
        produced = sum(m.flow.produced for m in members)
        if paid < spent or received > produced:
            return False
        fees = sum(declared_fees(trades).values())
        kept = (paid - fees - spent) * prices[sell] + (produced - received) * prices[buy]
        legs = [leg for m in members for leg in m.legs]
        if kept > rounding_allowance(trades, legs, prices, pools):
            return False
    return True


def merge_solutions(
    auction: Auction,
    candidates: Iterable[Solution],
    *,
    gas_limit: int = DEFAULT_GAS_LIMIT,
    max_bins: int = MAX_BINS,
    references: Mapping[Pair, int] | None = None,
    stop: Callable[[], bool] | None = None,
    engine: str = "batch",
    unoffered: Iterable[Solution] = (),
) -> list[Solution]:
    """Merged solutions of at least two candidates each, or of one ``unoffered`` (see the
    module docstring); ``references`` adds single-pair scores of other bids to beat,
    ``stop`` ends the greedy early (what is merged by then is returned); ``unoffered``
    candidates (joint routes, ``solver.merge_joint``) are merged too but set no reference:
    they are not bids of their own."""
    offered, extra = Ranked.of(auction, candidates), Ranked.of(auction, unoffered)
    best = offered.references
    rank = lambda u: (-u.score, u.solution.engine, u.solution.id)  # noqa: E731
    units = heapq.merge(offered.units(), extra.units(), key=rank)
    for pair, score in (references or {}).items():
        best[pair] = max(best.get(pair, 0), score)
    pools = {pool.id: pool for pool in auction.liquidity.pools}
    packing = Packing(lambda: _Bin(auction, best, gas_limit, PoolState(pools), pools), max_bins)
    left_out: dict[Pair, list[Unit]] = {}
    taken = 0
    for unit in units:
        if stop is not None and stop():
            logger.info("merge: stopped after %d of %d candidates", taken, len(offered.bids))
            break
        taken += 1
        if not packing.place([unit]) and unit.routed:
            left_out.setdefault(next(iter(unit.pairs)), []).append(unit)
    # a pair whose best order alone scores more than it does in a merged solution (its
    # legs replayed on pools the earlier legs moved) may still pay together with the
    # pair's other orders: tried as one group, judged fair once all are in
    for pair, group in left_out.items():
        if len(group) > 1 and pair not in packing.owner and not (stop is not None and stop()):
            packing.place(group)
    bins = packing.bins
    made = []
    # a bin of one unoffered candidate is new too: no bid of its own proposes it
    alone = {frozenset(t.order for t in b.solution.trades) for b in extra.bids}
    for found in bins:
        if found.units >= 2 or (found.units == 1 and frozenset(found.orders) in alone):
            solution = found.solution(engine)
            if (valid := valid_bid(auction, solution, best)) is not None:
                made.append(valid)
    merged = [b.solution for b in no_worse(made, offered.bids)]
    logger.info(
        "merge: %d of %d candidates into %d merged solutions of %s trades",
        taken,
        len(offered.bids) + len(extra.bids),
        len(merged),
        [len(s.trades) for s in merged],
    )
    return merged


__all__ = ["DEFAULT_GAS_LIMIT", "MAX_BINS", "merge_solutions"]
