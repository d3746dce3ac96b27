"""Issue 17, item 6: administrators create users and change their role and teams, and create and revoke API keys
on the dashboard, with the command line's rules (servicepulse.org.service), audited, in Dutch and English."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import select
from starlette.routing import Mount

from servicepulse.api.key_cache import ApiKeyCache
from servicepulse.db.session import UnitOfWork
from servicepulse.models import ApiKey, AuditEntry, OrgUnit, User
from servicepulse.org import service
from servicepulse.org.passwords import verify_password

from .conftest import PASSWORD, csrf_from, login


def _setup(engine, language: str = "en") -> dict:
    with UnitOfWork(engine) as s:
        dept = service.create_unit(s, "support", "Support", kind="department")
        north = service.create_unit(s, "north", "Team Noord", parent=dept)
        south = service.create_unit(s, "south", "Team Zuid", parent=dept)
        admin = service.create_user(s, "boss@example.org", "Boss", PASSWORD, "admin", language=language)
        agent = service.create_user(s, "agent@example.org", "Agent", PASSWORD, "agent", teams=["north"])
        return {"north": north.id, "south": south.id, "admin": admin.id, "agent": agent.id}


def _audit(engine) -> list[tuple[str, dict]]:
    with UnitOfWork(engine, readonly=True) as s:
        return [(e.action, e.details) for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def _user(engine, email: str) -> User:
    with UnitOfWork(engine, readonly=True) as s:
        user = s.scalar(select(User).where(User.email == email))
        memberships = sorted((m.team_id, m.is_lead) for m in user.memberships)
        s.expunge(user)
        user.teams = memberships
        return user


def test_admin_creates_a_user_who_can_log_in_with_the_password_shown_once(engine, client):
    ids = _setup(engine)
    login(client, "boss@example.org")
    form = client.get("/admin/users/new")
    assert form.status_code == 200 and "Team Noord" in form.text
    token = csrf_from(form.text)
    made = client.post("/admin/users", data={
        "csrf_token": token, "name": "Nieuwe Collega", "email": "New@Example.org", "role": "teamlead",
        "language": "nl", "team": [f"lead:{ids['north']}", f"member:{ids['south']}", ""]})
    assert made.status_code == 200 and "new@example.org is added" in made.text
    password = re.search(r"<h2 id=\"new-password\">.*?<code>([^<]+)</code>", made.text, re.S).group(1)
    user = _user(engine, "new@example.org")
    assert (user.name, user.role, user.language) == ("Nieuwe Collega", "teamlead", "nl")
    assert user.teams == sorted([(ids["north"], True), (ids["south"], False)])
    assert verify_password(user.password_hash, password)
    assert ("user.create", {"user_id": user.id, "role": "teamlead"}) in _audit(engine)
    client.cookies.clear()
    assert login(client, "new@example.org", password).status_code == 303  # the shown password works


def test_bad_user_input_is_named_per_field_and_writes_nothing(engine, client, app):
    ids = _setup(engine, language="nl")
    login(client, "boss@example.org")
    token = csrf_from(client.get("/admin/users/new").text)
    refused = client.post("/admin/users", data={"csrf_token": token, "name": "", "email": "agent@example.org",
                                                "role": "king", "team": ["lead:99999", "member:x\x00"]})
    assert refused.status_code == 422
    text = unescape(refused.text)
    assert "er is al een gebruiker met het e-mailadres agent@example.org" not in text  # not reached: form first
    for expected in ("Naam</a>: vul dit in", "Rol</a>: kies een van de rollen", "'lead:99999' is geen team"):
        assert expected in text, expected
    again = client.post("/admin/users", data={"csrf_token": token, "name": "X", "email": "agent@example.org",
                                              "role": "agent"})
    assert again.status_code == 422 and "er is al een gebruiker met het e-mailadres agent@example.org" in \
        unescape(again.text)
    nomail = client.post("/admin/users", data={"csrf_token": token, "name": "X", "email": "geen-adres",
                                               "role": "agent"})
    assert nomail.status_code == 422 and "'geen-adres' is geen e-mailadres" in unescape(nomail.text)
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(User.id).where(User.email == "geen-adres")) is None
        assert len(s.scalars(select(User)).all()) == 2
    assert not [a for a, _ in _audit(engine) if a == "user.create"]
    assert ids  # the world stays as it was


def test_admin_changes_role_teams_and_language_but_not_their_own_admin_role(engine, client):
    ids = _setup(engine)
    login(client, "boss@example.org")
    page = client.get(f"/admin/users/{ids['agent']}/edit")
    assert page.status_code == 200 and f'value="member:{ids["north"]}" selected' in page.text
    token = csrf_from(page.text)
    saved = client.post(f"/admin/users/{ids['agent']}/edit", data={
        "csrf_token": token, "role": "teamlead", "language": "en", "team": ["", f"lead:{ids['south']}"]},
        follow_redirects=True)
    assert saved.status_code == 200 and "The role, teams and language of agent@example.org are saved" in saved.text
    agent = _user(engine, "agent@example.org")
    assert (agent.role, agent.language, agent.teams) == ("teamlead", "en", [(ids["south"], True)])
    action, details = _audit(engine)[-1]
    assert action == "user.update" and details["role_before"] == "agent" and details["teams"] == [ids["south"]]
    own = client.post(f"/admin/users/{ids['admin']}/edit", data={"csrf_token": token, "role": "analyst",
                                                                 "language": "en"})
    assert own.status_code == 422 and "you cannot take the administrator role from yourself" in own.text
    assert _user(engine, "boss@example.org").role == "admin"
    assert client.get("/admin/users/999999/edit").status_code == 404


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_key_made_on_the_page_works_at_once_and_stops_within_the_cache_window_once_revoked(engine, app, client):
    ids = _setup(engine)
    clock = Clock()
    api = next(r.app for r in app.routes if isinstance(r, Mount) and r.path == "/api/v1")
    api.state.key_cache = ApiKeyCache(engine, ttl=5.0, clock=clock)
    login(client, "boss@example.org")
    page = client.get("/admin/api-keys")
    token = csrf_from(page.text)
    made = client.post("/admin/api-keys", data={"csrf_token": token, "name": "crm", "user": str(ids["agent"]),
                                                "scope": ["read:surveys", "read:cases"]})
    assert made.status_code == 200, made.text[:500]
    key = re.search(r'<code class="secret">([^<]+)</code>', made.text).group(1)
    with UnitOfWork(engine, readonly=True) as s:
        row = s.scalar(select(ApiKey).where(ApiKey.name == "crm"))
        assert row.key_hash == service.api_key_digest(key) and key not in row.key_hash
        assert (row.created_by_id, sorted(row.scopes.split())) == (ids["agent"], ["read:cases", "read:surveys"])
        key_id = row.id
    assert ("apikey.create", {"key_id": key_id, "user_id": ids["agent"], "scopes": ["read:cases", "read:surveys"]}) \
        in _audit(engine)
    assert key not in client.get("/admin/api-keys").text  # shown once
    auth = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/surveys", headers=auth).status_code == 200
    assert client.get("/api/v1/metrics", headers=auth).status_code == 403  # read:metrics was not given

    revoked = client.post(f"/admin/api-keys/{key_id}/revoke", data={"csrf_token": token}, follow_redirects=True)
    assert revoked.status_code == 200 and "servers refuse it within 5 seconds" in revoked.text
    assert ("apikey.revoke", {"key_id": key_id}) in _audit(engine)
    clock.now += 4.9
    assert client.get("/api/v1/surveys", headers=auth).status_code == 200  # the cache's documented window
    clock.now += 0.2
    assert client.get("/api/v1/surveys", headers=auth).status_code == 401


def test_a_key_beyond_the_users_role_is_refused_in_the_readers_language(engine, client):
    ids = _setup(engine, language="nl")
    login(client, "boss@example.org")
    token = csrf_from(client.get("/admin/api-keys").text)
    beyond = client.post("/admin/api-keys", data={"csrf_token": token, "name": "too-much", "user": str(ids["agent"]),
                                                  "scope": ["read:cases", "admin", "write:events"]})
    assert beyond.status_code == 422
    text = unescape(beyond.text)
    assert "een medewerker mag deze scope(s) niet hebben: admin, write:events" in text
    client.post("/admin/api-keys", data={"csrf_token": token, "name": "ok", "user": str(ids["agent"]),
                                         "scope": ["read:cases"]})
    duplicate = client.post("/admin/api-keys", data={"csrf_token": token, "name": "ok", "user": str(ids["agent"])})
    assert duplicate.status_code == 422 and "er is al een sleutel met deze naam" in duplicate.text
    nobody = client.post("/admin/api-keys", data={"csrf_token": token, "name": "x", "user": "999999"})
    assert nobody.status_code == 422 and "kies een actieve gebruiker" in nobody.text
    with UnitOfWork(engine, readonly=True) as s:
        assert sorted(s.scalars(select(ApiKey.name))) == ["ok"]


def test_the_administration_page_links_what_each_role_may_use(engine, client, make_user):
    _setup(engine)
    make_user("ana@example.org", role="analyst", language="en")
    make_user("lead@example.org", role="teamlead", language="en")
    login(client, "boss@example.org")
    admin_page = client.get("/admin")
    for path in ("/admin/users", "/admin/api-keys", "/admin/surveys", "/admin/trigger-rules",
                 "/admin/anonymous-links", "/verbatims/codeframe", "/journeys/rules"):
        assert f'href="{path}"' in admin_page.text, path
    client.cookies.clear()
    login(client, "ana@example.org")
    analyst_page = client.get("/admin")
    assert analyst_page.status_code == 200 and 'href="/admin/surveys"' in analyst_page.text
    assert 'href="/admin/users"' not in analyst_page.text and client.get("/admin/users").status_code == 403
    client.cookies.clear()
    login(client, "lead@example.org")
    assert client.get("/admin").status_code == 403 and 'href="/admin"' not in client.get("/").text
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(OrgUnit.id).where(OrgUnit.key == "north")) is not None
