"""The case page shows the forecast; the dashboard shows cases at risk, kept rates and signals.

On the tiny demo with a model trained from its closed cases, at a moment inside
the demo window (the clock is the page's ?at= parameter).
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

import pandas as pd
import pytest
from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.expectations import forecasting
from servicepulse.expectations.signals import run_signals
from servicepulse.models import Case, OrgUnit, TeamMembership

from ..web.conftest import login
from .helpers import at, event, ingest
from .test_demo_promises import DEMO_END

NOW = DEMO_END - timedelta(days=3)


@pytest.mark.demo("tiny", 11)  # the engine (and so the app) is a fresh copy of the tiny demo
def test_case_page_forecast_and_dashboard_on_the_demo(engine, settings, client, make_user):
    make_user("lead@example.org", role="analyst", language="nl")  # an analyst sees every team's cases
    with UnitOfWork(engine) as s:
        forecaster = forecasting.train(s, forecasting.model_path(settings.data_dir), n_seeds=1, max_rounds=60)
        assert forecasting.refresh_snapshots(s, NOW, forecaster) > 0
        run_signals(s, NOW, notify=False)
        open_ids = forecasting.open_case_ids(s, NOW)
        external = s.scalar(select(Case.external_id).where(Case.id == open_ids[0]))
        expected = forecasting.forecast_cases(s, [open_ids[0]], NOW, forecaster)[open_ids[0]]
    assert expected.state == "ok"
    assert login(client, "lead@example.org").status_code == 303
    at = quote(NOW.isoformat())

    page = client.get(f"/expectations/cases/{quote(external)}?at={at}")
    assert page.status_code == 200
    html = page.text
    local = pd.Timestamp(expected.expected_at).tz_convert("Europe/Amsterdam")
    months = ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"]
    assert "Verwacht opgelost op" in html and f"{local.day} {months[local.month - 1]} {local.year}" in html
    assert "80% kans tussen" in html and "Voorgestelde toezegging aan de klant" in html
    assert re.search(r"de [\d,]+ uur die sindsdien verstreken zijn", html)
    # The page says on what the interval was calibrated: last night's recently closed cases.
    assert expected.calibration_cases, "the demo has enough cases closed before NOW to recalibrate"
    assert f"nu op {expected.calibration_cases} dossiers, afgesloten vóór" in html

    # The case timeline page (cases domain) shows the forecast panel inline, for today's state
    # of the case: a case still open today gets the forecast, a case closed since gets that said.
    with UnitOfWork(engine, readonly=True) as s:
        still_open = s.scalar(select(Case.external_id).where(Case.closed_at.is_(None)).limit(1))
    assert still_open is not None
    timeline = client.get(f"/cases/{quote(still_open)}")
    assert timeline.status_code == 200
    assert 'id="forecast-title"' in timeline.text and "Wanneer is het opgelost?" in timeline.text
    assert "Verwacht opgelost op" in timeline.text and "80% kans tussen" in timeline.text
    closed_since = client.get(f"/cases/{quote(external)}").text
    assert 'data-state="closed"' in closed_since and "Dit dossier is afgesloten." in closed_since

    client.post("/language", data={"lang": "en", "csrf_token": _csrf(client)}, follow_redirects=False)
    english = client.get(f"/expectations/cases/{quote(external)}?at={at}").text
    assert "Expected resolved by" in english and "80% between" in english

    board = client.get(f"/expectations?at={at}")
    assert board.status_code == 200
    assert re.search(r'data-reason="(dark_too_long|promise_due_soon|promise_overdue|forecast_after_promise)"',
                     board.text)
    assert "<svg" in board.text and 'data-by="team"' in board.text and 'data-measure="nps"' in board.text
    assert "Fault repair" in board.text and "fault_repair" not in board.text  # journeys by name, in English now
    assert client.get("/expectations?at=yesterday").status_code == 400  # a page that says what to give


def _csrf(client) -> str:
    from ..web.conftest import csrf_from

    return csrf_from(client.get("/expectations").text)


def test_case_page_without_model_or_history_says_so(engine, client, make_user):
    ingest(engine, [event("ONE", 0, "Customer calls", direction="inbound", facing=True, team="Front office")])
    agent = make_user("agent@example.org", role="agent", language="nl")
    with UnitOfWork(engine) as s:  # agents see the cases of their own teams
        s.add(TeamMembership(user_id=agent, team_id=s.scalar(select(OrgUnit.id).where(OrgUnit.name == "Front office"))))
    login(client, "agent@example.org")
    page = client.get("/expectations/cases/ONE")
    assert page.status_code == 200 and "er is nog geen model getraind" in page.text
    assert client.get("/expectations/cases/NOPE").status_code == 404
    assert client.get("/expectations").status_code == 403  # agents see cases, not the dashboard


def test_team_work_list_and_resolving_a_signal(engine, client, make_user):
    from servicepulse.models import TeamMembership
    from servicepulse.models.expectations import Signal

    from ..web.conftest import csrf_from

    ingest(engine, [event("W1", 0, "Customer calls", direction="inbound", facing=True, team="Front office"),
                    event("W2", 0, "Customer calls", direction="inbound", facing=True, team="Back office")])
    lead = make_user("lead@example.org", role="teamlead")
    with UnitOfWork(engine) as s:
        front = s.scalar(select(OrgUnit.id).where(OrgUnit.name == "Front office"))
        s.add(TeamMembership(user_id=lead, team_id=front, is_lead=True))
        run_signals(s, at(60), notify=False)
    login(client, "lead@example.org")
    page = client.get("/expectations/signals")
    assert page.status_code == 200
    assert ">W1<" in page.text and ">W2<" not in page.text  # only the lead's own team
    assert client.get("/expectations/signals?team=999").status_code == 404
    with UnitOfWork(engine, readonly=True) as s:
        signal_id = s.scalar(select(Signal.id).join(Case).where(Case.external_id == "W1"))
    done = client.post(f"/expectations/signals/{signal_id}/resolve", data={"csrf_token": csrf_from(page.text)},
                       follow_redirects=False)
    assert done.status_code == 303
    assert ">W1<" not in client.get("/expectations/signals").text
