"""API keys carry scopes and act for a user whose role and teams bound them: a key never does more
than its user, and keys made before scopes existed got the migration's default (posting data only)."""

from __future__ import annotations

from datetime import UTC

import pytest
from sqlalchemy import select, text

from servicepulse.db.session import UnitOfWork
from servicepulse.errors import ValidationFailed
from servicepulse.models import ApiKey, User
from servicepulse.org import service as org_service
from servicepulse.org.access import LEGACY_SCOPES

from .conftest import make_key


def _call(client, key, method, path, **kwargs):
    return client.request(method, "/api/v1" + path, headers={"Authorization": f"Bearer {key}"}, **kwargs)


def test_a_key_cannot_be_given_more_than_its_users_role(engine, world):
    for scopes in (["read:responses"], ["admin"], ["write:events"], ["write:responses"], ["read:metrics"],
                   ["write:projects"]):
        with pytest.raises(ValidationFailed, match="cannot hold the scope"):
            make_key(engine, "agent_a", scopes)
    with pytest.raises(ValidationFailed, match="unknown scope"):
        make_key(engine, "admin", ["read:everything"])
    with pytest.raises(ValidationFailed, match="cannot hold the scope"):
        make_key(engine, "analyst", ["admin"])


def test_what_an_agents_key_could_do_before_is_refused_now(engine, client, world):
    key = make_key(engine, "agent_a", ["read:surveys", "read:cases", "read:followups", "write:followups"])
    refused = {
        ("GET", "/responses/R-A"), ("GET", "/metrics"), ("POST", "/surveys"), ("PUT", "/trigger-rules/x"),
        ("POST", "/improvement/projects"), ("POST", "/events"), ("POST", "/responses"), ("PUT", "/alert-rules/detractor"),
        ("PUT", "/recovery-budgets"), ("POST", "/promises/csv"),
    }
    for method, path in sorted(refused):
        reply = _call(client, key, method, path, json={})
        assert reply.status_code == 403, (method, path, reply.status_code)
        assert reply.headers["content-type"].startswith("application/problem+json")
        assert "lacks the scope" in reply.json()["detail"]
    assert _call(client, key, "GET", "/surveys").status_code == 200
    assert _call(client, key, "GET", "/cases/CASE-A").status_code == 200


def test_scopes_limit_a_key_of_an_administrator(engine, client, world):
    key = make_key(engine, "admin", ["read:metrics"])
    assert _call(client, key, "GET", "/metrics").status_code == 200
    assert _call(client, key, "GET", "/cases/CASE-A").status_code == 403
    assert _call(client, key, "POST", "/surveys", json={}).status_code == 403
    assert _call(client, key, "GET", "/health").status_code == 200  # any valid key


def test_a_key_follows_its_users_role_and_activity(engine, client, world, app):
    key = make_key(engine, "analyst", ["read:responses", "read:metrics"])
    assert _call(client, key, "GET", "/responses/R-B").status_code == 200
    with UnitOfWork(engine) as s:  # demoted: the scopes the new role does not allow stop working
        user = s.scalar(select(User).where(User.email == "analyst@example.org"))
        user.role = "agent"
    app.routes  # noqa: B018 - the key cache lives in the API app; empty it instead of waiting 5 s
    _api_cache(app)._entries.clear()
    assert _call(client, key, "GET", "/responses/R-B").status_code == 403
    assert _call(client, key, "GET", "/metrics").status_code == 403
    with UnitOfWork(engine) as s:
        org_service.set_active(s, s.scalar(select(User).where(User.email == "analyst@example.org")), False)
    _api_cache(app)._entries.clear()
    assert _call(client, key, "GET", "/health").status_code == 401  # a deactivated user's keys stop


def _api_cache(app):
    from starlette.routing import Mount

    return next(r.app for r in app.routes if isinstance(r, Mount) and r.path == "/api/v1").state.key_cache


def test_keys_made_before_scopes_get_the_migration_default(engine, client, world):
    presented = org_service.API_KEY_PREFIX + "legacy-key-made-before-scopes-existed-0123456789"
    with UnitOfWork(engine) as s:  # as an old row: no scopes column given, so the server default applies
        s.execute(text("INSERT INTO api_keys (name, prefix, key_hash, created_at) VALUES (:n, :p, :h, :c)"),
                  {"n": "old-crm", "p": presented[:10], "h": org_service.api_key_digest(presented),
                   "c": world_time()})
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(ApiKey.scopes).where(ApiKey.name == "old-crm")).split() == list(LEGACY_SCOPES)
    assert _call(client, presented, "POST", "/responses", json={}).status_code == 422  # allowed: validation
    assert _call(client, presented, "POST", "/events", json=[]).status_code != 403
    assert _call(client, presented, "GET", "/metrics").status_code == 403
    assert _call(client, presented, "GET", "/responses/R-A").status_code == 403


def world_time():
    from datetime import datetime

    return datetime.now(UTC)


def test_the_default_scopes_are_read_only(engine, client, world):
    key = make_key(engine, "lead_a", None)
    with UnitOfWork(engine, readonly=True) as s:
        assert sorted(s.scalar(select(ApiKey.scopes).where(ApiKey.name == "key-lead_a-0")).split()) == [
            "read:metrics", "read:surveys"]
    assert _call(client, key, "GET", "/metrics").status_code == 200
    assert _call(client, key, "POST", "/events", json=[]).status_code == 403
