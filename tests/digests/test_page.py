"""/digests: every logged-in user manages their own subscriptions; administrators subscribe teams (audited);
refusals name the field in the user's language and write nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.models import AuditEntry
from servicepulse.models.digests import DigestSubscription

from ..web.test_dutch_complete import untranslated
from .conftest import csrf_from, login


def subscriptions(engine) -> list[tuple]:
    with UnitOfWork(engine, readonly=True) as s:
        return [(r.user_id, r.team_id, r.frequency) for r in
                s.scalars(select(DigestSubscription).order_by(DigestSubscription.id))]


def test_an_agent_subscribes_to_their_team_only_and_cancels(engine, world, app):
    agent = world.users["agent-b"]
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        assert login(client, "agent-b@example.org").status_code == 303
        page = client.get("/digests")
        assert page.status_code == 200 and 'id="subscribe"' in page.text
        assert 'value="organisation"' not in page.text and f'value="{world.team_b}"' in page.text
        assert f'value="{world.team_a}"' not in page.text and 'id="subscribe-team"' not in page.text
        token = csrf_from(page.text)
        refused = client.post("/digests", data={"csrf_token": token, "frequency": "weekly", "scope": "organisation"})
        assert refused.status_code == 400 and "Kies de organisatie of een team waarvan je de cijfers mag zien." in refused.text
        bad = client.post("/digests", data={"csrf_token": token, "frequency": "hourly", "scope": str(world.team_b)})
        assert bad.status_code == 400 and "Kies wekelijks of maandelijks." in bad.text
        assert subscriptions(engine) == []
        done = client.post("/digests", data={"csrf_token": token, "frequency": "monthly", "scope": str(world.team_b)})
        assert done.status_code == 303 and done.headers["location"] == "/digests?saved=1"
        assert subscriptions(engine) == [(agent, world.team_b, "monthly")]
        again = client.post("/digests", data={"csrf_token": token, "frequency": "monthly", "scope": str(world.team_b)})
        assert again.status_code == 400 and "Dat abonnement bestaat al." in again.text
        assert client.post("/digests", data={"frequency": "weekly", "scope": str(world.team_b)}).status_code == 403
        listed = client.get("/digests?saved=1").text
        assert untranslated(listed) == []
        assert 'id="own-digests"' in listed and "Maandelijks" in listed and 'id="digest-saved"' in listed
        with UnitOfWork(engine, readonly=True) as s:
            sub = s.scalar(select(DigestSubscription.id))
        assert client.post(f"/digests/{sub}/delete", data={"csrf_token": token}).status_code == 303
        assert subscriptions(engine) == []


def test_an_admin_subscribes_a_team_audited_and_members_may_stop_it(engine, world, app):
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as admin:
        assert login(admin, "admin@example.org").status_code == 303
        token = csrf_from(admin.get("/digests").text)
        assert admin.post("/digests/teams", data={"csrf_token": token, "frequency": "weekly",
                                                  "team": str(world.team_a)}).status_code == 303
        assert admin.post("/digests/teams", data={"csrf_token": token, "frequency": "weekly",
                                                  "team": "999"}).status_code == 400
    assert subscriptions(engine) == [(None, world.team_a, "weekly")]
    with UnitOfWork(engine, readonly=True) as s:
        sub = s.scalar(select(DigestSubscription.id))
        audit = [(a.actor, a.details["team_id"]) for a in
                 s.scalars(select(AuditEntry).where(AuditEntry.action == "digest.team_subscribe"))]
    assert audit == [(f"user:{world.users['admin']}", world.team_a)]
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as member:
        assert login(member, "agent-a@example.org").status_code == 303  # English
        page = member.get("/digests").text
        assert 'id="team-digests"' in page and "Stop receiving" in page
        token = csrf_from(page)
        assert member.post(f"/digests/{sub}/stop", data={"csrf_token": token}).status_code == 303
        assert "Receive again" in member.get("/digests").text
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as dutch:
        assert login(dutch, "agent-a2@example.org").status_code == 303
        page = dutch.get("/digests").text
        assert "Niet meer ontvangen" in page and untranslated(page) == []
        # not theirs to remove, and another team's members cannot stop it
        assert member.post(f"/digests/teams/{sub}/delete", data={"csrf_token": token}).status_code == 403
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as other:
        assert login(other, "agent-b@example.org").status_code == 303
        token = csrf_from(other.get("/digests").text)
        assert other.post(f"/digests/{sub}/stop", data={"csrf_token": token}).status_code == 404
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as admin:
        assert login(admin, "admin@example.org").status_code == 303
        token = csrf_from(admin.get("/digests").text)
        assert admin.post(f"/digests/teams/{sub}/delete", data={"csrf_token": token}).status_code == 303
    assert subscriptions(engine) == []
