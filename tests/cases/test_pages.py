"""Dashboard pages on the demo: case list with facts, the timeline of a case, the effort validation,
the journey overview with its graph image, and the moment rules editor. Both languages; escaped output."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from servicepulse.app import create_app
from servicepulse.cases import effort, facts_store
from servicepulse.db.session import UnitOfWork
from servicepulse.models import AuditEntry, Case, CaseEvent
from servicepulse.models.cases import CaseFacts
from servicepulse.org import service as org_service
from servicepulse.settings import Settings
from tests.conftest import database_copy, demo_template

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _facts_effort_and_ana(engine):
    """Facts and a trained effort model on the tiny demo, and an analyst who logs in (cheap argon2)."""
    from argon2 import PasswordHasher

    from servicepulse.org import passwords

    saved = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    try:
        with UnitOfWork(engine) as s:
            facts_store.recompute_all(s)
            effort.train(s)
            org_service.create_user(s, "ana@example.org", "Ana", PASSWORD, "analyst", language="en")
    finally:
        passwords._hasher = saved


@pytest.fixture(scope="module")
def demo_engine(templates):
    """The tiny demo with facts and a trained effort model: a copy for this module of what is built
    once per run and backend."""
    with database_copy(templates, "cases-pages", _facts_effort_and_ana, base=demo_template("tiny", 11)) as (e, _):
        yield e


@pytest.fixture
def engine(demo_engine):
    return demo_engine


@pytest.fixture
def site(engine, tmp_path):
    app = create_app(engine, Settings(secret_key="test-secret-" + "x" * 32, data_dir=tmp_path))
    with TestClient(app, base_url="http://testserver") as client:
        token = CSRF.search(client.get("/login").text).group(1)
        client.post("/login", data={"email": "ana@example.org", "password": PASSWORD, "next": "/",
                                    "csrf_token": token})
        yield client


def set_language(client, lang):
    token = CSRF.search(client.get("/cases").text).group(1)
    client.post("/language", data={"lang": lang, "next": "/", "csrf_token": token})


def test_case_list_timeline_and_effort_pages(site, engine):
    with UnitOfWork(engine, readonly=True) as s:
        # a case with a handoff and a dark period, to see them told on the page
        case_id, ext = s.execute(select(Case.id, Case.external_id).join(CaseFacts, CaseFacts.case_id == Case.id)
                                 .where(CaseFacts.handoffs > 0, CaseFacts.dark_period_hours > 48)
                                 .order_by(Case.id).limit(1)).one()
        handoffs = s.get(CaseFacts, case_id).handoffs
        n_events = len(s.scalars(select(CaseEvent.id).where(CaseEvent.case_id == case_id)).all())
        auc = f"{effort.active_model(s).validation['auc_high_effort']:.3f}"
    page = site.get("/cases")
    assert page.status_code == 200
    assert f'data-case="{ext}"' in page.text or "page 1 of" in page.text
    assert "effort-validation" in page.text
    timeline = site.get(f"/cases/{ext}")
    assert timeline.status_code == 200
    html = timeline.text
    assert html.count('<li data-kinds=') == n_events
    assert "Handed over from" in html
    assert "Then the customer heard nothing for" in html
    assert f'data-fact="handoffs">{handoffs}<' in html
    validation = site.get("/cases/effort").text
    assert f'data-figure="auc">{auc}<' in validation
    set_language(site, "nl")
    nl = site.get(f"/cases/{ext}").text
    assert "Overgedragen van" in nl and "Wat de klant meemaakte" in nl
    assert "Correlatie" in site.get("/cases/effort").text


def test_journey_overview_and_graph_image(site, engine):
    set_language(site, "en")
    page = site.get("/journeys/fault_repair")
    assert page.status_code == 200
    assert 'data-moment="report_fault"' in page.text
    assert '<img src="/journeys/fault_repair/dfg.svg?lang=' in page.text
    image = site.get("/journeys/fault_repair/dfg.svg")
    assert image.status_code == 200 and image.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in image.content and b"Engineer" in image.content
    assert site.get("/journeys/nope").status_code == 404


def test_rules_editor_saves_and_rejects_with_reasons(site, engine):
    set_language(site, "en")
    text = "rules:\n  - moment: fault_repair/report_fault\n    pattern: 'fault'\n"
    token = CSRF.search(site.get("/journeys/rules").text).group(1)
    ok = site.post("/journeys/rules", data={"rules": text, "csrf_token": token})
    assert ok.status_code == 200 and "1 rules saved" in ok.text
    bad = site.post("/journeys/rules", data={"rules": "rules:\n  - moment: x/y\n    pattern: '('\n",
                                             "csrf_token": token})
    assert bad.status_code == 422
    assert "rule 1.moment" in bad.text and "rule 1.pattern" in bad.text
    assert "fault_repair/report_fault" in site.get("/journeys/rules").text  # the old rules stay
    with UnitOfWork(engine, readonly=True) as s:  # the saved change is audited, the refused one not
        assert [(e.action, e.details) for e in s.scalars(select(AuditEntry))] == [("moment_rules.replace", {"rules": 1})]


def test_activity_names_are_escaped(site, engine):
    from servicepulse.cases.service import ingest_events

    with UnitOfWork(engine) as s:
        ingest_events(s, [{"case_id": "X<1>", "activity": "<script>alert(1)</script>",
                           "timestamp": "2026-10-01T10:00:00Z", "team": "<b>Team</b>"}])
    html = site.get("/cases/X%3C1%3E").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_case_page_shows_the_panels_the_app_lists(site, engine):
    """Later domains add panels (the forecast) through app.state.case_panels; without any the page stands alone."""
    with UnitOfWork(engine, readonly=True) as s:
        ext = s.scalar(select(Case.external_id).order_by(Case.id).limit(1))
    seen = []

    def panel(request, session, case, now):
        seen.append((case.external_id, now.tzinfo is not None))
        return '<section id="extra-panel">extra</section>'

    state = site.app.state
    saved = state.case_panels
    try:
        state.case_panels = [panel]
        assert '<section id="extra-panel">extra</section>' in site.get(f"/cases/{ext}").text
        assert seen == [(ext, True)]
        del state.case_panels
        page = site.get(f"/cases/{ext}")
        assert page.status_code == 200 and "extra-panel" not in page.text and 'id="forecast-title"' not in page.text
    finally:
        state.case_panels = saved
