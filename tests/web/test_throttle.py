"""The slow-down rule, with a controllable clock (no sleeping, no timing)."""

from datetime import UTC, datetime, timedelta

from servicepulse.http.throttle import FailureCounter, Policy

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now


def test_doubling_delay_after_the_free_attempts_up_to_the_cap():
    policy = Policy(free=3, base_seconds=10, cap_seconds=60)
    assert policy.wait(2, T0, T0) == 0
    # n failures beyond the free ones: 10 * 2**(n - 3) seconds after the last failure
    assert [policy.wait(n, T0, T0) for n in (3, 4, 5, 6, 7)] == [10, 20, 40, 60, 60]
    assert policy.wait(4, T0, T0 + timedelta(seconds=15)) == 5
    assert policy.wait(4, T0, T0 + timedelta(seconds=25)) == 0


def test_counter_per_key_reset_and_forgetting():
    clock = Clock()
    counter = FailureCounter(Policy(free=2, base_seconds=30), clock, forget_after=timedelta(hours=1))
    counter.fail("10.0.0.1")
    counter.fail("10.0.0.1")
    assert counter.wait("10.0.0.1") == 30
    assert counter.wait("10.0.0.2") == 0
    clock.now += timedelta(seconds=31)
    assert counter.wait("10.0.0.1") == 0
    counter.fail("10.0.0.1")  # third failure: now 60 s
    assert counter.wait("10.0.0.1") == 60
    clock.now += timedelta(hours=2)
    counter.fail("10.0.0.1")  # old failures are forgotten: this is the first again
    assert counter.wait("10.0.0.1") == 0
    counter.fail("10.0.0.1")
    counter.reset("10.0.0.1")
    assert counter.wait("10.0.0.1") == 0
