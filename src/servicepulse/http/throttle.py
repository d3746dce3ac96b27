"""Slowing down password guessing.

Two counters, both with the same rule: the first ``free`` failures cost
nothing; after that each further attempt must wait ``base * 2**(n - free)``
seconds after the previous failure (n = failures so far), capped at
``cap`` seconds. While waiting, attempts are refused without checking the
password (so a correct guess during a lockout does not get in either).

* Per account: ``User.failed_logins`` / ``User.last_failed_login_at`` in the
  database, so the limit holds across restarts and processes. A successful
  login resets it. Attempts on unknown e-mail addresses are counted in memory
  under the address, so that the answers do not reveal which accounts exist.
* Per client address: in memory in this process (a dictionary, pruned), with
  a more generous allowance because several people may share one address.
  It stops one client from trying one password against many accounts.
  In-memory counts are forgotten an hour after their last failure, so a
  shared office address is not slowed down for ever by old typos.

The defaults: account 5 free failures, then 30 s, 60 s, 120 s ... up to 15
minutes; address 20 free failures, then the same doubling.

Checks and counts are atomic, so parallel attempts cannot all pass one check
before any failure is counted: the account row is locked for the attempt
(servicepulse.org.logins), and `LoginThrottle.begin` checks the in-memory
counters and counts the attempt as a failure in one step (a success takes it
back with `LoginThrottle.succeeded`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Policy:
    free: int
    base_seconds: float = 30.0
    cap_seconds: float = 900.0

    def wait(self, failures: int, last_failure: datetime | None, now: datetime) -> float:
        """Seconds still to wait before the next attempt is allowed (0 = allowed now)."""
        if failures < self.free or last_failure is None:
            return 0.0
        delay = min(self.base_seconds * 2 ** (failures - self.free), self.cap_seconds)
        remaining = (last_failure + timedelta(seconds=delay) - now).total_seconds()
        return max(0.0, remaining)


ACCOUNT_POLICY = Policy(free=5)
ADDRESS_POLICY = Policy(free=20)


class FailureCounter:
    """In-memory failure counts per key (client address or unknown e-mail), thread-safe."""

    MAX_KEYS = 100_000

    def __init__(self, policy: Policy, clock: Callable[[], datetime] = _utcnow,
                 forget_after: timedelta = timedelta(hours=1)):
        self.policy = policy
        self.clock = clock
        self.forget_after = forget_after
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[int, datetime]] = {}

    def _current(self, key: str, now: datetime) -> tuple[int, datetime | None]:
        failures, last = self._entries.get(key, (0, None))
        if last is not None and now - last > self.forget_after:
            return 0, None
        return failures, last

    def wait(self, key: str) -> float:
        now = self.clock()
        with self._lock:
            failures, last = self._current(key, now)
        return self.policy.wait(failures, last, now)

    def fail(self, key: str) -> None:
        now = self.clock()
        with self._lock:
            failures, _ = self._current(key, now)
            self._entries[key] = (failures + 1, now)
            if len(self._entries) > self.MAX_KEYS:
                self._prune(now)

    def reset(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def forgive(self, key: str) -> None:
        """Take back one failure counted for an attempt that turned out to succeed."""
        now = self.clock()
        with self._lock:
            failures, last = self._current(key, now)
            if failures > 0:
                self._entries[key] = (failures - 1, last)

    def _prune(self, now: datetime) -> None:
        # Forget entries whose longest possible lockout has passed; if an
        # attacker floods us with fresh keys, drop the oldest half.
        horizon = now - min(self.forget_after, timedelta(seconds=self.policy.cap_seconds))
        self._entries = {k: v for k, v in self._entries.items() if v[1] > horizon}
        if len(self._entries) > self.MAX_KEYS:
            keep = sorted(self._entries.items(), key=lambda kv: kv[1][1])[len(self._entries) // 2:]
            self._entries = dict(keep)


class LoginThrottle:
    def __init__(self, account_policy: Policy = ACCOUNT_POLICY, address_policy: Policy = ADDRESS_POLICY,
                 clock: Callable[[], datetime] = _utcnow):
        self.account_policy = account_policy
        self.clock = clock
        self.addresses = FailureCounter(address_policy, clock)
        self.unknown_accounts = FailureCounter(account_policy, clock)
        self._lock = threading.Lock()

    def account_wait(self, failures: int, last_failure: datetime | None) -> float:
        return self.account_policy.wait(failures or 0, last_failure, self.clock())

    def begin(self, address: str, unknown_account: str | None = None) -> float:
        """Seconds to wait before this attempt may go on; when 0, the attempt is counted as a failure
        of the address (and of the unknown account) right away, in the same step as the check."""
        with self._lock:
            wait = self.addresses.wait(address)
            if unknown_account is not None:
                wait = max(wait, self.unknown_accounts.wait(unknown_account))
            if wait > 0:
                return wait
            self.addresses.fail(address)
            if unknown_account is not None:
                self.unknown_accounts.fail(unknown_account)
            return 0.0

    def succeeded(self, address: str) -> None:
        """The attempt `begin` counted logged in: a success does not count against the address."""
        self.addresses.forgive(address)
