"""Verified API keys, remembered for a few seconds by each server process.

Every API request presents its key. Looking it up cost a database transaction
per request, a large share of posting one small response. A key that verified
is therefore remembered for `TTL_SECONDS`, keyed by its SHA-256 digest (the
presented key itself is not kept). The price: a key revoked with
`servicepulse apikey revoke` is still accepted for at most `TTL_SECONDS` by a
server that verified it just before. Failures are not remembered, so random
keys cannot fill memory and a key created a moment ago works at once.
`last_used_at` is still recorded at most once a minute, on a cache miss.

What a key may do is decided when it is verified: its scopes intersected with
those its user's role allows, and the user's teams (servicepulse.org.access). A
changed role, team or deactivation therefore reaches a server within
`TTL_SECONDS` too.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy.engine import Engine

from servicepulse.db.session import UnitOfWork
from servicepulse.db.write_lock import sqlite_writer
from servicepulse.http.auth import ApiCaller
from servicepulse.models import User, utcnow
from servicepulse.org import Actor, effective_scopes, parse_scopes
from servicepulse.org.service import api_key_digest, api_key_use_is_stale, record_api_key_use, verify_api_key

TTL_SECONDS = 5.0
MAX_ENTRIES = 1000  # far more keys than an installation has; past it, expired entries are dropped


VerifiedKey = ApiCaller  # what a verified key is for the routes: scopes and the actor it works for


class ApiKeyCache:
    def __init__(self, engine: Engine, ttl: float = TTL_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.engine, self.ttl, self.clock = engine, ttl, clock
        self._entries: dict[str, tuple[float, VerifiedKey]] = {}

    def cached(self, presented: str) -> VerifiedKey | None:
        """The key if it verified less than `ttl` seconds ago; no I/O."""
        hit = self._entries.get(api_key_digest(presented))
        return hit[1] if hit is not None and hit[0] > self.clock() else None

    def verify(self, presented: str) -> VerifiedKey | None:
        """The active key matching `presented`, or None (unknown or revoked)."""
        hit = self.cached(presented)
        if hit is not None:
            return hit
        digest = api_key_digest(presented)
        verified = self._load(presented)
        if verified is None:
            self._entries.pop(digest, None)
            return None
        now = self.clock()
        if len(self._entries) >= MAX_ENTRIES:
            self._entries = {d: e for d, e in self._entries.items() if e[0] > now}
            if len(self._entries) >= MAX_ENTRIES:
                self._entries = {}
        self._entries[digest] = (now + self.ttl, verified)
        return verified

    def _load(self, presented: str) -> VerifiedKey | None:
        with UnitOfWork(self.engine, readonly=True) as session:
            api_key = verify_api_key(session, presented)
            if api_key is None:
                return None
            user = session.get(User, api_key.created_by_id) if api_key.created_by_id else None
            actor = Actor.of(user) if user is not None else Actor.installation()
            scopes = effective_scopes(parse_scopes(api_key.scopes), user.role if user is not None else None)
            verified = VerifiedKey(api_key.id, api_key.name, api_key.created_by_id, scopes, actor)
            stale = api_key_use_is_stale(api_key, utcnow())
        if stale:  # a write of its own: it must commit even for read-only requests
            with sqlite_writer(self.engine), UnitOfWork(self.engine) as session:
                record_api_key_use(session, verified.id, utcnow())
        return verified
