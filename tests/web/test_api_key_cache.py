"""Verified API keys are cached for a few seconds: no database work per request, revocation honoured after the TTL."""

from __future__ import annotations

from sqlalchemy import event, select
from starlette.routing import Mount

from servicepulse.api.key_cache import ApiKeyCache
from servicepulse.db.session import UnitOfWork
from servicepulse.models import ApiKey
from servicepulse.org import service


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _install_cache(app, engine, clock) -> ApiKeyCache:
    api = next(r.app for r in app.routes if isinstance(r, Mount) and r.path == "/api/v1")
    api.state.key_cache = ApiKeyCache(engine, ttl=5.0, clock=clock)
    return api.state.key_cache


def _statements(engine):
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def test_a_cached_key_costs_no_database_work_and_a_revoked_key_is_refused_after_the_ttl(app, client, engine):
    clock = Clock()
    _install_cache(app, engine, clock)
    with UnitOfWork(engine) as s:
        key = service.create_api_key(s, "crm", scopes=service.INSTALLATION_SCOPES).key
    auth = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/health", headers=auth).status_code == 200
    with UnitOfWork(engine, readonly=True) as s:
        first_use = s.scalar(select(ApiKey.last_used_at).where(ApiKey.name == "crm"))
    assert first_use is not None

    statements = _statements(engine)
    assert client.get("/api/v1/health", headers=auth).status_code == 200
    assert not any("api_keys" in sql for sql in statements)  # answered from the cache

    with UnitOfWork(engine) as s:
        service.revoke_api_key(s, "crm")
    clock.now += 4.9
    assert client.get("/api/v1/health", headers=auth).status_code == 200  # within the documented TTL
    clock.now += 0.2
    refused = client.get("/api/v1/health", headers=auth)
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    statements.clear()
    assert client.get("/api/v1/health", headers=auth).status_code == 401  # a refusal is not cached
    assert any("api_keys" in sql for sql in statements)


def test_wrong_keys_are_not_remembered(app, client, engine):
    cache = _install_cache(app, engine, Clock())
    for n in range(20):
        assert client.get("/api/v1/health", headers={"Authorization": f"Bearer sp_wrong-{n}"}).status_code == 401
    assert cache._entries == {}
