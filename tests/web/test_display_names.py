"""Display names (issue 17, item 4): an administrator renames an activity, a channel, a department or a case fact
on /admin/display-names (one form per kind, or a CSV upload), and every page shows the new name in the reader's
language: the journey page, its process graph, the case page, the customer page, the department report.
Analysts read the page and download the CSV; team leads and agents do not see it. Bad input saves nothing."""

from __future__ import annotations

import re
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from servicepulse.db.session import UnitOfWork
from servicepulse.models import AuditEntry, Case, CaseEvent, DisplayName, Journey, OrgUnit
from servicepulse.models.org import User

from .conftest import app, csrf_from, settings  # noqa: F401

LOGINS = {"admin": ("admin@demo.servicepulse", "demo-admin-2026"),
          "analyst": ("analyst@demo.servicepulse", "demo-analyst-2026")}


def client_as(app, role: str, language: str = "nl", email: str | None = None, password: str | None = None):  # noqa: F811
    client = TestClient(app, base_url="http://testserver", raise_server_exceptions=False)
    client.__enter__()
    email, password = (email, password) if email else LOGINS[role]
    token = csrf_from(client.get("/login").text)
    assert client.post("/login", data={"email": email, "password": password, "next": "/", "csrf_token": token},
                       follow_redirects=False).status_code == 303
    client.post("/language", data={"lang": language, "csrf_token": csrf_from(client.get("/").text)})
    return client


def page_text(reply) -> str:
    """The page's text without tags (attributes, such as the process graph's titles, are left out)."""
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]*>", "", reply.text)))


def rows_of(html: str, kind: str) -> list[str]:
    return re.findall(rf'<tr data-kind="{kind}" data-key="([^"]*)"', html)


def save(client, kind: str, names: dict[str, tuple[str, str]], shown_keys: list[str]):
    """Post one kind's form as the page does: every row's key with its names (empty for the ones not given)."""
    data = {"kind": kind, "csrf_token": csrf_from(client.get("/admin/display-names").text), "nl": [], "en": [],
            "key": []}
    for key in shown_keys:
        nl, en = names.get(key, ("", ""))
        data["nl"].append(nl)
        data["en"].append(en)
        data["key"].append(key)
    return client.post("/admin/display-names", data=data, follow_redirects=False)


def busiest_case_of_journey(engine) -> tuple[str, str, str]:
    """(journey key, a case's external id in that journey, an activity of that case also in the journey)."""
    with UnitOfWork(engine) as s:
        journey = s.scalars(select(Journey).order_by(Journey.id)).first()
        case = s.scalars(select(Case).where(Case.journey_id == journey.id).order_by(Case.id)).first()
        activity = s.scalar(select(CaseEvent.activity).where(CaseEvent.case_id == case.id)
                            .order_by(CaseEvent.occurred_at).limit(1))
    return journey.key, case.external_id, activity


@pytest.mark.demo("small", 2026)
def test_a_new_dutch_activity_name_shows_on_the_journey_page_its_graph_and_the_case_page(engine, app):  # noqa: F811
    journey, case, activity = busiest_case_of_journey(engine)
    admin = client_as(app, "admin", "nl")
    english = client_as(app, "analyst", "en")
    try:
        page = admin.get("/admin/display-names")
        assert page.status_code == 200
        keys = rows_of(page.text, "activity")
        with UnitOfWork(engine) as s:  # every activity the data holds is listed, most used first
            held = dict(s.execute(select(CaseEvent.activity, func.count()).group_by(CaseEvent.activity)).all())
        assert set(keys) == set(held)
        assert [held[k] for k in keys] == sorted(held.values(), reverse=True)
        shipped = {"Fault reported": "Storing gemeld"}.get(activity)
        before = page_text(admin.get(f"/journeys/{journey}"))
        if shipped:
            assert shipped in before

        new_nl, new_en = "Melding via de storingslijn", "Report on the fault line"
        assert new_nl not in before
        saved = save(admin, "activity", {activity: (new_nl, new_en)}, keys)
        assert saved.status_code == 303 and saved.headers["location"] == "/admin/display-names?done=saved"
        assert "De namen zijn opgeslagen" in admin.get(saved.headers["location"]).text

        journey_page = page_text(admin.get(f"/journeys/{journey}"))
        graph = unescape(admin.get(f"/journeys/{journey}/dfg.svg").text)
        case_page = page_text(admin.get(f"/cases/{case}"))
        for where, text in (("journey page", journey_page), ("process graph", graph), ("case page", case_page)):
            assert new_nl in text, f"the new Dutch name is not on the {where}"
            assert new_en not in text, f"the English name is on the Dutch {where}"
        if shipped:
            assert shipped not in case_page
        # an English reader gets the English name on the same pages
        assert new_en in page_text(english.get(f"/journeys/{journey}"))
        assert new_en in unescape(english.get(f"/journeys/{journey}/dfg.svg").text)
        assert new_en in page_text(english.get(f"/cases/{case}"))

        with UnitOfWork(engine) as s:
            stored = s.scalars(select(DisplayName)).all()
            assert [(d.kind, d.key, d.nl, d.en) for d in stored] == [("activity", activity, new_nl, new_en)]
            audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "display_names.save")).one()
            assert audit.details == {"kinds": ["activity"], "stored": 1, "removed": 0}

        # both names empty: the shipped name again
        assert save(admin, "activity", {}, keys).status_code == 303
        assert new_nl not in page_text(admin.get(f"/cases/{case}"))
        with UnitOfWork(engine) as s:
            assert s.scalar(select(func.count()).select_from(DisplayName)) == 0
    finally:
        admin.__exit__(None, None, None)
        english.__exit__(None, None, None)


@pytest.mark.demo("small", 2026)
def test_departments_channels_and_case_facts_are_named_too(engine, app):  # noqa: F811
    _, case, _ = busiest_case_of_journey(engine)
    with UnitOfWork(engine) as s:
        department = s.scalars(select(OrgUnit).where(OrgUnit.kind == "department").order_by(OrgUnit.id)).first()
        channel = s.scalar(select(CaseEvent.channel).where(CaseEvent.channel.is_not(None)).limit(1))
    admin = client_as(app, "admin", "nl")
    try:
        page = admin.get("/admin/display-names").text
        assert department.key in rows_of(page, "department")
        assert channel in rows_of(page, "channel")
        assert "dark_period_hours" in rows_of(page, "fact")
        assert save(admin, "department", {department.key: ("Klantenservice Noord", "Customer Service North")},
                    rows_of(page, "department")).status_code == 303
        assert save(admin, "fact", {"dark_period_hours": ("Langste radiostilte (uren)", "Longest radio silence")},
                    rows_of(page, "fact")).status_code == 303
        assert "Klantenservice Noord" in page_text(admin.get("/verbatims/departments"))
        assert "Klantenservice Noord" in page_text(admin.get(f"/verbatims/departments/{department.key}"))
        case_page = page_text(admin.get(f"/cases/{case}"))
        assert "Langste radiostilte (uren)" in case_page and "Langste stilte (uren)" not in case_page
        assert "Langste radiostilte (uren)" in page_text(admin.get("/cases"))
    finally:
        admin.__exit__(None, None, None)


@pytest.mark.demo("small", 2026)
def test_bad_names_save_nothing_and_say_why_in_the_readers_language(engine, app):  # noqa: F811
    admin = client_as(app, "admin", "nl")
    try:
        keys = rows_of(admin.get("/admin/display-names").text, "channel")
        too_long = "x" * 201
        reply = save(admin, "channel", {keys[0]: ("goed", "good"), keys[1]: (too_long, "fine")}, keys)
        assert reply.status_code == 422
        text = page_text(reply)
        assert f"{keys[1]} · Nederlandse naam: te lang: hoogstens 200 tekens" in text
        one_empty = save(admin, "channel", {keys[0]: ("alleen Nederlands", "")}, keys)
        assert one_empty.status_code == 422 and "Engelse naam: vul dit in" in page_text(one_empty)
        broken = admin.post("/admin/display-names", data={"kind": "planet", "key": "x", "nl": "a", "en": "b",
                                                           "csrf_token": csrf_from(admin.get("/admin/display-names").text)})
        assert broken.status_code == 400
        with UnitOfWork(engine) as s:
            assert s.scalar(select(func.count()).select_from(DisplayName)) == 0
    finally:
        admin.__exit__(None, None, None)


@pytest.mark.demo("small", 2026)
def test_csv_download_and_upload_all_or_nothing(engine, app):  # noqa: F811
    admin = client_as(app, "admin", "nl")
    try:
        download = admin.get("/admin/display-names.csv")
        assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
        lines = download.text.lstrip("\ufeff").splitlines()
        assert lines[0] == "kind;key;nl;en"  # a Dutch spreadsheet's separator
        with UnitOfWork(engine) as s:
            activities = set(s.scalars(select(CaseEvent.activity).distinct()))
        listed = {line.split(";")[1] for line in lines[1:] if line.startswith("activity;")}
        assert listed == activities
        first, second = sorted(activities)[:2]
        good = f"kind,key,nl,en\r\nactivity,{first},Eerste stap,First step\r\nactivity,{second},Tweede stap,Second step\r\n"
        token = csrf_from(admin.get("/admin/display-names").text)
        reply = admin.post("/admin/display-names/upload", data={"csrf_token": token},
                           files={"file": ("names.csv", good.encode(), "text/csv")}, follow_redirects=False)
        assert reply.status_code == 303 and reply.headers["location"].endswith("done=uploaded")
        again = admin.get("/admin/display-names.csv").text
        assert f"activity;{first};Eerste stap;First step" in again
        # one bad line (an unknown kind on line 3): nothing of the file is stored
        bad = f"kind;key;nl;en\nactivity;{first};Andere naam;Other name\nplanet;Mars;Mars;Mars\n"
        reply = admin.post("/admin/display-names/upload", data={"csrf_token": token},
                           files={"file": ("names.csv", bad.encode(), "text/csv")})
        assert reply.status_code == 422 and "regel 3" in page_text(reply)
        missing_column = admin.post("/admin/display-names/upload", data={"csrf_token": token},
                                    files={"file": ("names.csv", b"kind;key;nl\n", "text/csv")})
        assert missing_column.status_code == 422 and "de eerste regel moet de kolommen" in page_text(missing_column)
        with UnitOfWork(engine) as s:
            assert dict(s.execute(select(DisplayName.key, DisplayName.nl)).all()) == {first: "Eerste stap",
                                                                                       second: "Tweede stap"}
            assert s.scalar(select(func.count()).select_from(AuditEntry)
                            .where(AuditEntry.action == "display_names.upload")) == 1
    finally:
        admin.__exit__(None, None, None)


@pytest.mark.demo("small", 2026)
def test_analysts_read_and_others_are_refused(engine, app):  # noqa: F811
    analyst = client_as(app, "analyst", "nl")
    with UnitOfWork(engine) as s:
        lead = s.scalar(select(User.email).where(User.role == "teamlead").order_by(User.id))
        agent = s.scalar(select(User.email).where(User.role == "agent").order_by(User.id))
    leader = client_as(app, "teamlead", "nl", lead, "demo-lead-2026")
    try:
        page = analyst.get("/admin/display-names")
        assert page.status_code == 200 and rows_of(page.text, "activity")
        assert 'name="nl"' not in page.text and "/admin/display-names/upload" not in page.text
        assert analyst.get("/admin/display-names.csv").status_code == 200
        token = csrf_from(analyst.get("/").text)
        refused = analyst.post("/admin/display-names", data={"kind": "channel", "key": "phone", "nl": "a", "en": "b",
                                                              "csrf_token": token})
        assert refused.status_code == 403
        assert leader.get("/admin/display-names").status_code == 403
        assert agent  # the role matrix test checks agents against the route's declaration
    finally:
        analyst.__exit__(None, None, None)
        leader.__exit__(None, None, None)
