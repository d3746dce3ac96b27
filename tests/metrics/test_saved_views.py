"""Saved views (#17 item 1): a user saves a metrics page with its filters under a name, lists, opens, renames
and deletes their own; administrators and analysts share one with everyone (audited); only our pages and our
parameters are stored; a view goes with its user. Through the real app, on both databases."""

from __future__ import annotations

import re
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select

from servicepulse.db.session import UnitOfWork
from servicepulse.metrics import saved_views
from servicepulse.models import AuditEntry, SavedView, User

from .conftest import csrf_from, login


def _as(app, email: str) -> TestClient:
    client = TestClient(app, base_url="http://testserver")
    assert login(client, email).status_code == 303
    return client


def _save(client: TestClient, name: str, path: str, query: str):
    token = csrf_from(client.get("/metrics/saved-views").text)
    return client.post("/metrics/saved-views", data={"name": name, "path": path, "query": query,
                                                     "csrf_token": token}, follow_redirects=False)


def _post(client: TestClient, url: str, **data):
    data["csrf_token"] = csrf_from(client.get("/metrics/saved-views").text)
    return client.post(url, data=data, follow_redirects=False)


def _views(engine) -> list[tuple]:
    with UnitOfWork(engine) as s:
        return [tuple(r) for r in s.execute(select(SavedView.user_id, SavedView.name, SavedView.path,
                                                   SavedView.query, SavedView.shared).order_by(SavedView.id))]


def test_save_list_open_rename_delete(app, engine, make_user, small):
    uid = make_user("an@example.org", role="analyst", language="nl", name="Anna")
    client = _as(app, "an@example.org")
    # the form on the page carries the page and its filters
    page = client.get("/metrics?segment=business&period=week&channel=")
    form = page.text.split('action="/metrics/saved-views"')[1].split("</form>")[0]
    query = unescape(re.search(r'name="query" value="([^"]*)"', form).group(1))
    assert query == "segment=business&period=week"  # empty parameters are not kept
    saved = _save(client, "Zakelijke klanten, Q3", "/metrics", query)
    assert saved.status_code == 303
    assert _views(engine) == [(uid, "Zakelijke klanten, Q3", "/metrics", "segment=business&period=week", False)]
    listing = client.get(saved.headers["location"]).text
    assert "Weergave &#39;Zakelijke klanten, Q3&#39; bewaard." in listing or "Weergave 'Zakelijke klanten, Q3' bewaard." in listing
    link = re.search(r'<a href="([^"]+)">Zakelijke klanten, Q3</a>', listing).group(1)
    assert unescape(link) == "/metrics?segment=business&period=week"
    assert '<li class="chip">Klantsegment: <strong>zakelijk</strong></li>' in listing
    # opening it shows the page with the filters as chips
    opened = client.get(unescape(link)).text
    assert '<li class="chip">Klantsegment: <strong>zakelijk</strong>' in opened
    # the same name again (in other capitals too) is refused with a message, nothing written
    again = _save(client, "zakelijke klanten, q3", "/metrics", "")
    assert again.status_code == 400 and "U hebt al een weergave met de naam" in unescape(again.text)
    assert len(_views(engine)) == 1
    with UnitOfWork(engine) as s:
        [view_id] = [v.id for v in saved_views.list_views(s, uid)[0]]
    assert _post(client, f"/metrics/saved-views/{view_id}/rename", name="Zakelijk Q3").status_code == 303
    assert _views(engine)[0][1] == "Zakelijk Q3"
    assert _post(client, f"/metrics/saved-views/{view_id}/rename", name="   ").status_code == 400
    assert _post(client, f"/metrics/saved-views/{view_id}/delete").status_code == 303
    assert _views(engine) == []
    assert "Nog geen bewaarde weergaven" in client.get("/metrics/saved-views").text


@pytest.mark.parametrize(("path", "query"), [
    ("/admin/users", ""),  # not an analytics page
    ("https://evil.example/metrics", ""),
    ("/metrics/journeys/abc", ""),
    ("/metrics", "segment=business&email=ann%40example.org"),  # a parameter the pages do not read
    ("/metrics", "comment=" + "x" * 2000),
    ("/metrics", "segment=a%00b"),
])
def test_only_our_pages_and_parameters_are_stored(app, engine, make_user, small, path, query):
    make_user("an@example.org", role="analyst", language="en")
    client = _as(app, "an@example.org")
    refused = _save(client, "My view", path, query)
    assert refused.status_code == 400
    assert "Only a metrics page with its own filters can be saved as a view." in unescape(refused.text)
    assert _views(engine) == []


def test_views_are_private_until_an_analyst_shares_one(app, engine, make_user, small):
    analyst = make_user("an@example.org", role="analyst", language="en", name="Anna")
    make_user("lead@example.org", role="teamlead", language="en", name="Lee")
    make_user("agent@example.org", role="agent", language="en", name="Aga")
    ana, lead, agent = _as(app, "an@example.org"), _as(app, "lead@example.org"), _as(app, "agent@example.org")
    assert _save(ana, "Business", "/metrics", "segment=business").status_code == 303
    assert _save(ana, "Survey SMS", "/surveys/repair-end", "channel=sms").status_code == 303
    with UnitOfWork(engine) as s:
        ids = dict(s.execute(select(SavedView.name, SavedView.id)).all())
    # another user neither sees nor touches it
    assert "Business" not in lead.get("/metrics/saved-views").text
    assert _post(lead, f"/metrics/saved-views/{ids['Business']}/rename", name="Mine").status_code == 404
    assert _post(lead, f"/metrics/saved-views/{ids['Business']}/delete").status_code == 404
    assert _post(lead, f"/metrics/saved-views/{ids['Business']}/share", shared="1").status_code == 403
    # the analyst shares both: listed for the team lead under "Shared with everyone", with the owner's name
    for name in ("Business", "Survey SMS"):
        assert _post(ana, f"/metrics/saved-views/{ids[name]}/share", shared="1").status_code == 303
    shared = lead.get("/metrics/saved-views").text.split('id="shared"')[1]
    assert "Business" in shared and "Anna" in shared and "Survey SMS" in shared
    # an agent sees only what they may open: the survey page, not the metrics overview
    agent_list = agent.get("/metrics/saved-views").text
    assert "Survey SMS" in agent_list and ">Business<" not in agent_list
    with UnitOfWork(engine) as s:
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.actor == f"user:{analyst}")).all()
    assert actions.count("saved_view.share") == 2
    assert _post(ana, f"/metrics/saved-views/{ids['Business']}/share", shared="0").status_code == 303
    assert "Business" not in lead.get("/metrics/saved-views").text


def test_a_view_goes_with_its_user(engine, make_user, small):
    uid = make_user("an@example.org", role="analyst")
    other = make_user("bo@example.org", role="teamlead")
    with UnitOfWork(engine) as s:
        saved_views.create_view(s, uid, "Mine", "/metrics/drivers", "outcome=grade")
        saved_views.create_view(s, other, "Theirs", "/metrics", "")
    with UnitOfWork(engine) as s:
        s.execute(delete(User).where(User.id == uid))  # the foreign key cascades on both databases
    with UnitOfWork(engine) as s:
        assert s.scalars(select(SavedView.name)).all() == ["Theirs"]
        assert s.scalar(select(func.count()).select_from(SavedView).where(SavedView.user_id == uid)) == 0
