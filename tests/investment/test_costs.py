"""Cost to serve: every event priced by its handling time or its channel and direction, rolled up per case,
moment, journey, team and month; checked against an independent computation on the demo's generated events,
on SQLite and PostgreSQL. Plus the page, its CSV exports (Dutch ';' and decimal commas) and who may see them."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.demo.catalogue import TEAMS
from servicepulse.demo.generate import generate
from servicepulse.investment import costs
from servicepulse.investment.service import contact_analysis, monthly, totals
from servicepulse.models import Journey, OrgUnit
from servicepulse.settings import Settings

RATES = costs.CostRates(0.8, {"phone/inbound": 6.5, "email/outbound": 2.5, "field/outbound": 85.0})


def test_handling_time_wins_then_channel_and_direction_then_nothing():
    events = pd.DataFrame({
        "attributes": [{"handling_minutes": 10}, {}, {"handling_minutes": "ten"}, {"handling_minutes": True},
                       {"handling_minutes": -3}, {}, {}, {"handling_minutes": 30}],
        "channel": ["phone", "phone", "email", "phone", "field", "chat", None, None],
        "direction": ["inbound", "inbound", "outbound", "inbound", "outbound", "inbound", "internal", "internal"],
        "customer_facing": [True, True, True, True, True, True, False, False],
    })
    got = costs.event_costs(events, RATES).to_numpy()
    # 10 min x 0.80; the phone default; a text, a boolean or a negative time is no handling time; an unlisted
    # pair costs nothing; an internal event without a time nothing; with a time its minutes
    np.testing.assert_allclose(got, [8.0, 6.5, 2.5, 6.5, 85.0, 0.0, 0.0, 24.0])


def _independent(data, settings: Settings) -> pd.DataFrame:
    """The demo's generated events priced with plain numpy, by the documented rule."""
    e = data.events
    pair = (e["channel"].fillna("") + "/" + e["direction"].fillna("")).to_numpy()
    default = np.array([settings.contact_costs.get(p, 0.0) for p in pair])
    default = np.where(e["customer_facing"].to_numpy(dtype=bool), default, 0.0)
    minutes = e["handling_minutes"].to_numpy(dtype=float)
    return e.assign(cost=np.where(np.isnan(minutes), default, minutes * settings.cost_per_minute))


@pytest.mark.demo("small", 2026)
def test_costs_on_the_demo_equal_an_independent_computation(engine):
    settings = Settings()
    with UnitOfWork(engine, readonly=True) as s:
        analysis = contact_analysis(s, settings)
        journey_keys = dict(s.execute(select(Journey.id, Journey.key)).all())
        team_keys = dict(s.execute(select(OrgUnit.id, OrgUnit.key)).all())
    data = generate("small", 2026)
    mine = _independent(data, settings)
    demo_events = analysis.events[analysis.events["journey_id"].notna()]  # other demo parts may add cases
    demo_events = demo_events[demo_events["journey_id"].map(journey_keys).isin(set(mine["journey"]))]
    assert len(demo_events) == len(mine)
    assert demo_events["cost"].sum() == pytest.approx(mine["cost"].sum(), rel=1e-9)
    # per journey
    by_journey = costs.rollup(demo_events, "journey_id")
    by_journey.index = by_journey.index.map(journey_keys)
    expected = mine.groupby("journey")["cost"].sum()
    np.testing.assert_allclose(by_journey["cost"].reindex(expected.index), expected, rtol=1e-9)
    expected_cases = mine.groupby("journey")["case"].nunique()
    np.testing.assert_array_equal(by_journey["cases"].reindex(expected.index), expected_cases)
    # per team
    by_team = costs.rollup(demo_events, "team_id")
    by_team.index = by_team.index.map(team_keys)
    expected_team = mine.groupby("team")["cost"].sum()
    assert set(expected_team.index) <= {t.key for t in TEAMS}
    np.testing.assert_allclose(by_team["cost"].reindex(expected_team.index), expected_team, rtol=1e-9)
    # per local month (the organisation's clock)
    month = mine["occurred_at"].dt.tz_convert("Europe/Amsterdam").dt.strftime("%Y-%m")
    expected_month = mine.groupby(month)["cost"].sum()
    by_month = costs.rollup(demo_events, "month")
    np.testing.assert_allclose(by_month["cost"].reindex(expected_month.index), expected_month, rtol=1e-9)
    # the gold-plated order intake costs more per case than any other functional contact moment but the field
    per_case = mine.dropna(subset=["moment"]).groupby(["moment", "case"])["cost"].sum().groupby("moment").mean()
    assert per_case["order"] > per_case["report_fault"] * 3
    # the headline: cost per case and the share of avoidable contact
    head = totals(analysis)
    assert head["cost_per_case"] == pytest.approx(analysis.events["cost"].sum() / analysis.events["case_id"].nunique())
    contacts = mine[(mine["direction"] == "inbound") & mine["customer_facing"]]
    assert head["contacts"] >= len(contacts)
    assert monthly(analysis)["cost"].sum() == pytest.approx(analysis.events["cost"].sum())


PASSWORD = "correct horse battery"


def _client_as(engine, tmp_path, role: str, language: str = "nl"):
    from fastapi.testclient import TestClient
    from tests.web.conftest import login

    from servicepulse.app import create_app
    from servicepulse.org import service as org_service

    email = f"inv-{role}-{language}@example.org"
    with UnitOfWork(engine) as s:
        org_service.create_user(s, email, "Inv", PASSWORD, role, language=language)
    client = TestClient(create_app(engine, Settings(secret_key="test-secret-" + "x" * 32, data_dir=tmp_path)),
                        base_url="http://testserver")
    client.__enter__()
    assert login(client, email).status_code == 303
    return client


@pytest.mark.demo("small", 2026)
def test_page_and_csv_in_dutch(engine, tmp_path):
    client = _client_as(engine, tmp_path, "analyst", "nl")
    try:
        page = client.get("/investment")
        assert page.status_code == 200
        assert "Investeringskompas per moment" in page.text and 'data-moment="order" data-label="over_invested"' in page.text
        body = client.get("/investment/compass.csv")
        assert body.status_code == 200 and body.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(body.text.lstrip("\ufeff")), delimiter=";"))
        assert rows[0][:3] == ["klantreis", "moment", "soort"]
        order = next(r for r in rows if r[1] == "Bestelling plaatsen")
        assert order[13] == "Overinvestering" and "," in order[10] and "." not in order[10]  # decimal comma
        contacts = client.get("/investment/contacts.csv")
        lines = list(csv.reader(io.StringIO(contacts.text.lstrip("\ufeff")), delimiter=";"))
        assert sum(int(r[5]) for r in lines[1:]) == totals_contacts(engine)
        bad = client.get("/investment", params={"from": "2026-13-01"})
        assert bad.status_code == 400 and "from" in bad.text
        assert client.get("/investment", params={"from": "2026-05-01", "to": "2026-04-01"}).status_code == 400
    finally:
        client.__exit__(None, None, None)
    lead = _client_as(engine, tmp_path, "teamlead", "en")
    try:
        assert lead.get("/investment").status_code == 403
        assert lead.get("/investment/compass.csv").status_code == 403
    finally:
        lead.__exit__(None, None, None)


def totals_contacts(engine) -> int:
    with UnitOfWork(engine, readonly=True) as s:
        return totals(contact_analysis(s, Settings()))["contacts"]
