"""The pools of one merged solution as its legs leave them, and legs replayed on them.

A merged solution (``solver.merge``) runs the legs of many candidate solutions one after
the other in one settlement, so each leg meets its pool as the legs before it left it.
``PoolState`` holds those states and replays legs exactly as ``solver.checks`` will
re-simulate them (``solver.checks.swap_leg``): Uniswap V2 and V3 pools step from state to
state; pool kinds without a state transition (Balancer, stable pools) are simulated as one
swap of the total of their legs, a leg getting what the total pays beyond the legs before
it, and are never swapped both ways.

Two replays:

* ``replay_route``: a route of one order, its first-hop inputs fixed (what the order's
  trade sells), every later hop's input scaled down with what the hops before it now
  produce, each output what the pool pays now. The route keeps conserving its
  intermediate tokens (no hop spends more than the hops before it produced).
* ``replay_fixed``: legs whose amounts are fixed (a coincidence of wants with its own
  prices), accepted only if every pool still pays what they take.

Both work on a copy (``PoolState.fork``): the merged solution commits the copy only when
the candidate joins it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction

from routing.interaction_gas import V2_AGAIN_GAS, V3_AGAIN_GAS
from routing.pool import Pool, PoolId, PoolMathError, TokenAddress
from routing.route import Leg
from routing.uniswap_v2 import ConstantProductPool
from routing.uniswap_v3 import ConcentratedLiquidityPool
from solver.checks import swap_leg
from solver.errors import SolverError

STATEFUL = (ConstantProductPool, ConcentratedLiquidityPool)
"""The pool kinds ``solver.checks`` re-simulates leg by leg on the state the legs before
left; every other kind is re-simulated as one swap of its legs' total."""

Direction = tuple[PoolId, TokenAddress, TokenAddress]
"""A stateless pool and the direction it is swapped in."""


class ReplayFailed(SolverError, ArithmeticError):
    """The legs cannot run on the pools as they are now (internal to ``solver.merge``)."""

    code = "ReplayFailed"


@dataclass(slots=True)
class PoolState:
    """Pools as a sequence of legs leaves them: ``changed`` the stateful pools the legs
    moved, ``totals`` what the legs put into and took out of each stateless pool."""

    pools: Mapping[PoolId, Pool]
    """The auction's pools, as the settlement starts."""
    changed: dict[PoolId, Pool] = field(default_factory=dict)
    totals: dict[Direction, tuple[int, int]] = field(default_factory=dict)

    def fork(self) -> PoolState:
        return PoolState(self.pools, dict(self.changed), dict(self.totals))

    def touched(self) -> set[PoolId]:
        return set(self.changed) | {d[0] for d in self.totals}

    def _pool(self, ident: PoolId) -> Pool:
        pool = self.changed.get(ident) or self.pools.get(ident)
        if pool is None:
            raise ReplayFailed(f"pool {ident} is not in the auction")
        return pool

    def swap(self, leg: Leg) -> int:
        """Run ``leg``'s input through its pool now; returns what the pool pays for it
        (the pool's state moves on as if the leg takes all of it)."""
        pool = self._pool(leg.pool)
        try:
            if not isinstance(pool, STATEFUL):
                return self._stateless(pool, leg)
            pays, after = swap_leg(pool, replace(leg, amount_out=0))
            if isinstance(pool, ConstantProductPool):  # its state follows what the leg takes
                _, after = swap_leg(pool, replace(leg, amount_out=pays))
        except PoolMathError as exc:
            raise ReplayFailed(f"pool {leg.pool}: {exc}") from exc
        assert after is not None
        self.changed[leg.pool] = after
        return pays

    def take(self, leg: Leg) -> None:
        """Run ``leg`` with its amounts fixed; raises unless the pool pays what it takes."""
        pool = self._pool(leg.pool)
        try:
            if isinstance(pool, STATEFUL):
                pays, after = swap_leg(pool, leg)
                assert after is not None
                self.changed[leg.pool] = after
            else:
                pays = self._stateless(pool, leg)
        except PoolMathError as exc:
            raise ReplayFailed(f"pool {leg.pool}: {exc}") from exc
        if pays < leg.amount_out:
            raise ReplayFailed(f"pool {leg.pool} pays {pays}, the leg takes {leg.amount_out}")

    def _stateless(self, pool: Pool, leg: Leg) -> int:
        """What the stateless pool's total pays beyond its earlier legs, for ``leg``'s
        input on top of theirs (the earlier legs keep what they took)."""
        if (leg.pool, leg.token_out, leg.token_in) in self.totals:
            raise ReplayFailed(f"pool {leg.pool} would be swapped both ways")
        key = (leg.pool, leg.token_in, leg.token_out)
        total_in, total_out = self.totals.get(key, (0, 0))
        pays = pool.amount_out(leg.token_in, leg.token_out, total_in + leg.amount_in) - total_out
        if pays < 0:
            raise ReplayFailed(f"pool {leg.pool} pays less in total than before")
        self.totals[key] = (total_in + leg.amount_in, total_out + pays)
        return pays


@dataclass(frozen=True, slots=True)
class Replayed:
    """A route replayed: its legs with the amounts they have now, and their net flow per
    token at the settlement (outputs minus inputs; intermediate tokens never below 0)."""

    legs: tuple[Leg, ...]
    net: Mapping[TokenAddress, int]


def replay_route(
    state: PoolState, legs: Sequence[Leg], source: TokenAddress, scale: Fraction = Fraction(1)
) -> Replayed:
    """Replay one order's route on ``state`` (modified in place): legs out of ``source``
    take their inputs times ``scale`` (rounded up), a leg out of another token gets its
    original share of what the legs before it now produce of that token; every output is
    what the pool pays now."""
    produced: dict[TokenAddress, int] = {}
    produced_before: dict[TokenAddress, int] = {}
    spent: dict[TokenAddress, int] = {}
    out: list[Leg] = []
    net: dict[TokenAddress, int] = {}
    for leg in legs:
        token = leg.token_in
        amount = -(-leg.amount_in * scale.numerator // scale.denominator)
        if token != source:
            had, has = produced_before.get(token, 0), produced.get(token, 0)
            if had <= 0:
                raise ReplayFailed(f"leg out of {token} before any leg into it")
            amount = min(leg.amount_in * has // had, has - spent.get(token, 0))
            spent[token] = spent.get(token, 0) + amount
        if amount <= 0:
            raise ReplayFailed(f"nothing left of {token} for pool {leg.pool}")
        pays = state.swap(replace(leg, amount_in=amount))
        out.append(replace(leg, amount_in=amount, amount_out=pays))
        produced_before[leg.token_out] = produced_before.get(leg.token_out, 0) + leg.amount_out
        produced[leg.token_out] = produced.get(leg.token_out, 0) + pays
        net[token] = net.get(token, 0) - amount
        net[leg.token_out] = net.get(leg.token_out, 0) + pays
    return Replayed(tuple(out), net)


def replay_fixed(state: PoolState, legs: Sequence[Leg]) -> None:
    """Replay legs with fixed amounts on ``state`` (modified in place); raises
    ``ReplayFailed`` when a pool no longer pays what a leg takes."""
    for leg in legs:
        state.take(leg)


def net_flow(legs: Iterable[Leg]) -> dict[TokenAddress, int]:
    """Net flow of ``legs`` per token at the settlement (outputs minus inputs)."""
    net: dict[TokenAddress, int] = {}
    for leg in legs:
        net[leg.token_in] = net.get(leg.token_in, 0) - leg.amount_in
        net[leg.token_out] = net.get(leg.token_out, 0) + leg.amount_out
    return net


def legs_gas(legs: Sequence[Leg], pools: Mapping[PoolId, Pool], swapped: set[PoolId]) -> int:
    """Gas of ``legs`` in a settlement that already swapped the pools in ``swapped`` (which
    is updated): a pool's first leg costs its declared gas, a further leg through a V2 pair
    or a V3 pool what its warm storage costs (measured, ``routing.interaction_gas``); other
    kinds are not measured and pay their declared gas every time."""
    total = 0
    for leg in legs:
        pool = pools[leg.pool]
        if leg.pool not in swapped:
            total += pool.gas
        elif isinstance(pool, ConstantProductPool):
            total += V2_AGAIN_GAS
        elif isinstance(pool, ConcentratedLiquidityPool):
            total += V3_AGAIN_GAS
        else:
            total += pool.gas
        swapped.add(leg.pool)
    return total
