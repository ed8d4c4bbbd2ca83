"""A circuit breaker for the chain node: a pure state machine, the clock injected.

``closed``: calls go to the node. A probe (a cheap call with a short timeout, sent by the
node's watch every fraction of a second) that fails or answers slower than
``slow_seconds``, or ``failure_threshold`` transport failures of real calls in a row, open
it. ``open``: calls are refused at once (the caller answers ``503 ChainUnavailable``
instead of waiting out the RPC timeout). ``cooldown`` seconds after it opened the breaker is
``half_open``: exactly one probe may go out as the trial; its success closes the breaker,
its failure opens it again for another cooldown. Real calls are never the trial: they carry
the long RPC timeout, and a request must not wait for it.

An outcome counts only if its call started at or after the last change of state: a call
sent to the node before it hung, failing long after the chain is back, must not open the
breaker again, and one that started before the breaker opened cannot close it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field


class BreakerState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "halfOpen"


@dataclass(frozen=True, slots=True)
class Transition:
    """A change of state, for the edge to act on (log once, fail waiting calls)."""

    before: BreakerState
    after: BreakerState
    reason: str
    """Why: the failure that opened it, or how long it was open when it closed."""


@dataclass
class Breaker:
    clock: Callable[[], float]
    """Monotonic seconds."""
    failure_threshold: int = 2
    """Real calls' transport failures in a row that open the breaker (a failed probe opens
    it alone)."""
    slow_seconds: float = 1.0
    """A probe answered later than this counts as failed."""
    cooldown: float = 0.5
    """Seconds from opening to the trial probe."""
    state: BreakerState = BreakerState.CLOSED
    reason: str = ""
    """What opened it (empty while closed)."""
    changed_at: float = field(default=float("-inf"))
    failures: int = 0
    _trial: bool = field(default=False, init=False)
    _opened_at: float = field(default=0.0, init=False)

    def allows(self) -> bool:
        """May a real call go to the node now?"""
        return self.state is BreakerState.CLOSED

    def may_probe(self) -> bool:
        """May a probe go out now? While closed, always; while open, once the cooldown is
        over, and then only one at a time (it moves the breaker to ``half_open``)."""
        if self.state is BreakerState.CLOSED:
            return True
        if self.state is BreakerState.OPEN and self.clock() >= self.changed_at + self.cooldown:
            self._move(BreakerState.HALF_OPEN, self.reason)
        if self.state is BreakerState.HALF_OPEN and not self._trial:
            self._trial = True
            return True
        return False

    def probed(self, started: float, ended: float, error: str | None) -> Transition | None:
        """Record a probe that ran from ``started`` to ``ended`` (as timed where it ran, not
        when its result was handled): ``error`` is why it failed, ``None`` if it answered."""
        if started < self.changed_at:
            return None
        self._trial = False
        latency = ended - started
        if error is None and latency > self.slow_seconds:
            error = f"the node answered in {latency:.1f} s (more than {self.slow_seconds} s)"
        if error is not None:
            return self._open(error)
        self.failures = 0
        if self.state is BreakerState.CLOSED:
            return None
        return self._move(BreakerState.CLOSED, f"answering again after {self._downtime():.1f} s")

    def succeeded(self, started: float) -> None:
        """A real call that started at ``started`` got its reply."""
        if started >= self.changed_at and self.state is BreakerState.CLOSED:
            self.failures = 0

    def failed(self, started: float, error: str) -> Transition | None:
        """A real call that started at ``started`` could not reach the node."""
        if started < self.changed_at or self.state is not BreakerState.CLOSED:
            return None
        self.failures += 1
        return self._open(error) if self.failures >= self.failure_threshold else None

    def _open(self, error: str) -> Transition | None:
        if self.state is BreakerState.OPEN:
            return None
        was_closed = self.state is BreakerState.CLOSED
        transition = self._move(BreakerState.OPEN, error)
        # a failed trial re-opens quietly: the outage is the same one
        return transition if was_closed else None

    def _downtime(self) -> float:
        return self.clock() - self._opened_at

    def _move(self, state: BreakerState, reason: str) -> Transition:
        before = self.state
        now = self.clock()
        if before is BreakerState.CLOSED:
            self._opened_at = now
        self.state, self.changed_at = state, now
        self.reason = "" if state is BreakerState.CLOSED else reason
        self.failures = 0
        self._trial = False
        return Transition(before, state, reason)
