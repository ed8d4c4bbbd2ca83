"""The chain breaker's state machine, on a fake clock."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from settlement.breaker import Breaker, BreakerState, Transition

OPEN, CLOSED, HALF = BreakerState.OPEN, BreakerState.CLOSED, BreakerState.HALF_OPEN


@dataclass
class Clock:
    now: float = 100.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: Clock) -> Breaker:
    return Breaker(clock, failure_threshold=2, slow_seconds=1.0, cooldown=0.5)


def test_a_failed_probe_opens_it_and_real_calls_are_refused() -> None:
    clock = Clock()
    b = breaker(clock)
    assert b.allows() and b.may_probe()
    started = clock.now
    clock.now += 1.0
    assert b.probed(started, clock.now, "timed out") == Transition(CLOSED, OPEN, "timed out")
    assert not b.allows() and b.reason == "timed out"


def test_a_slow_answer_counts_as_a_failure() -> None:
    clock = Clock()
    b = breaker(clock)
    started = clock.now
    clock.now += 1.5
    transition = b.probed(started, clock.now, None)
    assert transition is not None and transition.after is OPEN
    assert "1.5 s" in transition.reason


def test_a_prompt_answer_keeps_it_closed() -> None:
    clock = Clock()
    b = breaker(clock)
    started = clock.now
    clock.now += 0.9
    assert b.probed(started, clock.now, None) is None
    assert b.state is CLOSED and b.allows()


def test_a_prompt_probe_handled_late_by_a_busy_loop_keeps_it_closed() -> None:
    clock = Clock()
    b = breaker(clock)
    started = clock.now
    clock.now += 3.0  # the loop got to the probe's result 3 s later
    assert b.probed(started, started + 0.05, None) is None
    assert b.allows()


def test_real_call_failures_open_it_only_when_consecutive() -> None:
    clock = Clock()
    b = breaker(clock)
    assert b.failed(clock.now, "refused") is None
    b.succeeded(clock.now)  # a reply in between resets the count
    assert b.failed(clock.now, "refused") is None
    transition = b.failed(clock.now, "refused")
    assert transition == Transition(CLOSED, OPEN, "refused")


def test_half_open_lets_exactly_one_trial_probe_through_after_the_cooldown() -> None:
    clock = Clock()
    b = breaker(clock)
    b.probed(clock.now, clock.now, "down")
    clock.now += 0.4
    assert not b.may_probe() and b.state is OPEN  # still cooling down
    clock.now += 0.1
    assert b.may_probe() and b.state is HALF
    assert not b.may_probe()  # the trial is in flight: no second probe
    assert not b.allows()  # real calls are never the trial


def test_a_successful_trial_closes_it_and_a_failed_one_reopens_quietly() -> None:
    clock = Clock()
    b = breaker(clock)
    b.probed(clock.now, clock.now, "down")
    clock.now += 0.5
    assert b.may_probe()
    trial = clock.now
    clock.now += 1.0
    assert b.probed(trial, clock.now, "still down") is None  # the same outage: nothing to report
    assert b.state is OPEN and b.reason == "still down"
    clock.now += 0.5
    assert b.may_probe()
    trial = clock.now
    clock.now += 0.1
    transition = b.probed(trial, clock.now, None)
    assert transition is not None and (transition.before, transition.after) == (HALF, CLOSED)
    assert "2.1 s" in transition.reason  # open from 100.0 to 102.1
    assert b.allows() and b.reason == ""


def test_outcomes_of_calls_sent_before_the_last_change_do_not_count() -> None:
    clock = Clock()
    b = breaker(clock)
    before_outage = clock.now
    clock.now += 0.2
    b.probed(clock.now, clock.now, "down")  # opened at 100.2
    clock.now += 0.5
    assert b.may_probe()
    b.probed(clock.now, clock.now, None)  # closed again at 100.7
    clock.now += 9.0
    # a real call sent at 100.0 times out at 110: the chain is back, it must not reopen
    assert b.failed(before_outage, "timed out") is None
    assert b.failed(before_outage, "timed out") is None
    assert b.allows()


def test_a_stale_probe_cannot_close_it() -> None:
    clock = Clock()
    b = breaker(clock)
    early = clock.now
    clock.now += 0.1
    b.failed(clock.now, "refused")
    b.failed(clock.now, "refused")  # opened at 100.1
    assert b.probed(early, clock.now, None) is None
    assert b.state is OPEN


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["advance", "probe_ok", "probe_fail", "call_ok", "call_fail"]),
            st.floats(min_value=0.0, max_value=2.0),
        ),
        max_size=60,
    )
)
def test_real_calls_pass_only_while_closed_and_every_report_is_a_real_change(
    steps: list[tuple[str, float]],
) -> None:
    clock = Clock()
    b = breaker(clock)
    for action, seconds in steps:
        state = b.state
        transition: Transition | None = None
        if action == "advance":
            clock.now += seconds
        elif action.startswith("probe") and b.may_probe():
            started = clock.now
            clock.now += seconds / 4
            state = b.state
            transition = b.probed(started, clock.now, None if action == "probe_ok" else "down")
        elif action == "call_ok":
            b.succeeded(clock.now)
        elif action == "call_fail":
            transition = b.failed(clock.now, "refused")
        assert b.allows() == (b.state is CLOSED)
        assert (b.reason == "") == (b.state is CLOSED)
        if transition is not None:
            # one report per outage: down when it leaves closed, back when it returns
            assert transition.before == state and transition.after == b.state
            assert (state is CLOSED) != (b.state is CLOSED)
