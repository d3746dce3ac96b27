"""The expectation-gap and relationship-health pages: who may see them, the CSV (Dutch ';' and decimal commas,
the same figures as the page), the value-discipline form (administrators only, audited, bad input a 400 naming the
field in the reader's language), installing the expectation surveys; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from test_expectation_gap import _hand_made  # the hand-made organisations of the sibling modules
from test_relationship_health import _build
from tests.web.conftest import (  # noqa: F401  (fixtures)
    PASSWORD,
    app,
    client,
    csrf_from,
    fast_password_hashing,
    login,
    make_user,
    settings,
)

from servicepulse.db.session import UnitOfWork
from servicepulse.models import AuditEntry, Survey, ValueDiscipline
from servicepulse.org import service


def _as(client, make_user, role: str, email: str | None = None, language: str = "nl"):
    email = email or f"{role}@example.org"
    make_user(email, role, language=language)
    assert login(client, email).status_code == 303


@pytest.mark.parametrize("path", ["/investment/expectations", "/investment/relationship",
                                  "/investment/expectations.csv"])
def test_agents_may_not_see_the_pages(engine, client, make_user, path):
    _as(client, make_user, "agent")
    assert client.get(path).status_code == 403


def test_gap_page_and_csv_show_the_same_figures(engine, client, make_user, app):
    _hand_made(engine, datetime.now(UTC))  # the page reads the year up to the real now
    app.state.settings.min_n = 3
    _as(client, make_user, "analyst")
    page = client.get("/investment/expectations")
    assert page.status_code == 200
    assert "Service" in page.text and "onder verwachting" in page.text and "-2,0" in page.text
    assert 'name="discipline"' not in page.text  # the form is for administrators
    response = client.get("/investment/expectations.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff")), delimiter=";"))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["soort", "klantreis", "naam"]
    service_row = next(r for r in body if r[2] == "Service")
    assert service_row[header.index("kloof")] == "-2"  # mean of perceived - expected per respondent
    assert service_row[header.index("belang")] == "4,6"
    visit = next(r for r in body if r[2] == "Bezoek")
    assert visit[header.index("voorgestelde norm")] == "9,5" and visit[header.index("soort klantmoment")] == "emotioneel"


def test_the_discipline_form_is_for_administrators_and_audited(engine, client, make_user):
    _as(client, make_user, "analyst", "an@example.org")
    token = csrf_from(client.get("/investment/expectations").text)
    refused = client.post("/investment/expectations/discipline", data={"discipline": "customer_intimacy",
                                                                       "csrf_token": token})
    assert refused.status_code == 403
    client.cookies.clear()
    _as(client, make_user, "admin", "ad@example.org", language="en")
    token = csrf_from(client.get("/investment/expectations").text)
    bad = client.post("/investment/expectations/discipline", data={"discipline": "cheapest", "csrf_token": token})
    assert bad.status_code == 400 and "Value discipline: choose one of the three value disciplines" in bad.text
    bad = client.post("/investment/expectations/discipline",
                      data={"discipline": "customer_intimacy", "note": "x\x00y", "csrf_token": token})
    assert bad.status_code == 400 and "Note (optional)" in bad.text
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(ValueDiscipline.id)) is None  # nothing half-written
    ok = client.post("/investment/expectations/discipline",
                     data={"discipline": "customer_intimacy", "note": "service first", "csrf_token": token},
                     follow_redirects=False)
    assert ok.status_code == 303
    page = client.get(ok.headers["location"])
    assert "Chosen value discipline: customer intimacy." in page.text and "has been recorded" in page.text
    with UnitOfWork(engine, readonly=True) as s:
        row = s.scalar(select(ValueDiscipline))
        assert (row.discipline, row.note) == ("customer_intimacy", "service first")
        assert s.scalar(select(AuditEntry.action).where(AuditEntry.action == "investment.discipline"))


def test_administrators_install_the_expectation_surveys(engine, client, make_user):
    _build(engine)  # a journey "j" with one moment
    _as(client, make_user, "admin")
    token = csrf_from(client.get("/investment/expectations").text)
    done = client.post("/investment/expectations/surveys", data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalars(select(Survey.key).where(Survey.key.like("expectation-%"))).all() == ["expectation-j"]
        assert s.scalar(select(AuditEntry.action).where(AuditEntry.action == "investment.expectation_surveys"))


def test_relationship_page_counts_by_segment_within_the_leads_teams(engine, client, make_user):
    ids = _build(engine, datetime.now(UTC))  # the page counts up to the real now
    _as(client, make_user, "analyst")
    text = client.get("/investment/relationship").text
    assert "Alleen transactioneel contact" in text and f'href="/customers/{ids["c1"]}"' in text
    assert "klantnummer K013" in text and "K002" not in text and "K004" not in text
    counts = _counts(text)
    assert counts == {"consumer": (1, 2), "business": (1, 1), "senior": (1, 0)}
    client.cookies.clear()
    with UnitOfWork(engine) as s:
        service.create_user(s, "lead@example.org", "Lea", PASSWORD, "teamlead", lead_of=["team-b"])
    assert login(client, "lead@example.org").status_code == 303
    text = client.get("/investment/relationship").text
    assert _counts(text) == {"business": (1, 0), "consumer": (0, 1)}  # team B: c3 (business), c10 (consumer)
    assert "K001" not in text and "klantnummer K010" in text


def _counts(html: str) -> dict:
    rows = re.findall(r'<tr data-segment="([a-z]*)">.*?data-count="transactional">(\d+)<.*?data-count="silent">(\d+)<',
                      html, flags=re.S)
    return {segment: (int(t), int(q)) for segment, t, q in rows}
