"""Project register and the 7+/9+ scan on hand-made data, CSV/PDF export, pages, API and CLI (both databases)."""

from __future__ import annotations

import csv
import io
from html import unescape

import numpy as np
import pytest
from typer.testing import CliRunner

from servicepulse.db.session import UnitOfWork
from servicepulse.errors import NotFound, ValidationFailed
from servicepulse.improvement import service
from servicepulse.metrics import repository as repo
from servicepulse.org import service as org
from tests.metrics.test_service import _journey_with_grades
from tests.web.conftest import csrf_from, login

N = 400


@pytest.fixture
def journey(engine):
    """Grades with known slopes: below-norm basic, above-norm basic, emotional moment of truth."""
    rng = np.random.default_rng(11)
    low = np.clip(np.rint(rng.normal(6.0, 1.2, N)), 1, 10)
    high = np.clip(np.rint(rng.normal(8.2, 0.8, N)), 1, 10)
    truth = np.clip(np.rint(rng.normal(6.5, 1.5, N)), 1, 10)
    overall = np.clip(np.rint(-2.0 + 0.45 * low + 0.5 * truth + 0.35 * high + rng.normal(0, 1.0, N)), 0, 10)
    jid = _journey_with_grades(engine, N, overall, {"invoice": ("functional", low), "order": ("functional", high),
                                                    "visit": ("emotional", truth)})
    with UnitOfWork(engine) as s:
        return jid, {m.key: m.id for m in repo.moments(s, jid)}


def _create(engine, title, moments, improvement=0.8, drivers=(), cost=10_000.0):
    with UnitOfWork(engine) as s:
        return service.create_project(s, service.ProjectInput(
            title=title, owner="CX", cost=cost, expected_improvement=improvement,
            moment_ids=tuple(moments), drivers=tuple(drivers))).id


def test_scan_classes_and_reasoning(engine, journey):
    _, ids = journey
    _create(engine, "Clear invoice", [ids["invoice"]])
    _create(engine, "Great visit", [ids["visit"]], improvement=1.0)
    _create(engine, "Shiny order page", [ids["order"]])
    with UnitOfWork(engine) as s:
        report = service.scan(s, language="en")
    got = {r.title: r.scan for r in report.rows}
    assert got["Clear invoice"].code == "7plus"
    assert got["Great visit"].code == "9plus"
    assert got["Shiny order page"].code == "little_potential" and got["Shiny order page"].expected_lift == 0
    assert "already at norm" in got["Shiny order page"].reasoning_en
    assert "al op norm" in got["Shiny order page"].reasoning_nl
    # lift = slope x counted x volume share, with the slope of the journey regression (computed here with numpy)
    with UnitOfWork(engine) as s:
        frame = repo.moment_grade_frame(s, repo.MetricFilter(journey_id=journey[0]))
    X = np.column_stack([np.ones(len(frame)), frame[["invoice", "order", "visit"]].to_numpy(float)])
    coef = np.linalg.lstsq(X, frame["nps"].to_numpy(float), rcond=None)[0]
    invoice_mean = frame["invoice"].mean()
    assert got["Clear invoice"].expected_lift == pytest.approx(coef[1] * min(0.8, 7.0 - invoice_mean))
    visit_mean = frame["visit"].mean()
    assert got["Great visit"].expected_lift == pytest.approx(coef[3] * min(1.0, 10.0 - visit_mean))
    assert [r.title for r in report.rows][0] in ("Clear invoice", "Great visit")


def test_csv_export_has_one_row_per_project(engine, journey):
    _, ids = journey
    _create(engine, "Clear invoice", [ids["invoice"]], cost=20_000)
    with UnitOfWork(engine) as s:
        text = service.scan_csv(service.scan(s, language="nl"), "nl")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1 and rows[0]["title"] == "Clear invoice" and rows[0]["class"] == "7+-project"
    assert float(rows[0]["lift_per_1000_cost"]) == pytest.approx(float(rows[0]["expected_lift"]) / 20)


def test_validation_names_the_fields(engine, journey):
    with UnitOfWork(engine) as s:
        with pytest.raises(ValidationFailed) as info:
            service.create_project(s, service.ProjectInput(title=" ", expected_improvement=0, moment_ids=(99999,),
                                                           drivers=("moon_phase",), status="dreaming"))
        fields = {f for f, _ in info.value.problems}
        assert fields == {"title", "expected_improvement", "moment_ids", "drivers", "status"}
        with pytest.raises(ValidationFailed, match="at least one moment or driver"):
            service.create_project(s, service.ProjectInput(title="x"))
        with pytest.raises(NotFound):
            service.get_project(s, 12345)


def test_update_replaces_targets(engine, journey):
    _, ids = journey
    pid = _create(engine, "A", [ids["invoice"]])
    with UnitOfWork(engine) as s:
        service.update_project(s, pid, service.ProjectInput(title="B", moment_ids=(ids["visit"],),
                                                            drivers=("handoff",), expected_improvement=0.3))
    with UnitOfWork(engine) as s:
        p = service.get_project(s, pid)
        assert p.title == "B" and [(t.moment_id, t.driver) for t in p.targets] == [(ids["visit"], None),
                                                                                    (None, "handoff")]


def test_pages_create_edit_export(client, make_user, engine, journey):
    _, ids = journey
    make_user("ana@example.org", role="analyst", language="en")
    login(client, "ana@example.org")
    form = client.get("/improvement/new")
    assert form.status_code == 200 and 'name="moment_ids"' in form.text
    token = csrf_from(form.text)
    bad = client.post("/improvement/new", data={"csrf_token": token, "title": "", "expected_improvement": "abc"})
    assert bad.status_code == 400
    assert "'abc' is not a number" in unescape(bad.text) and "a project needs a title" in bad.text
    ok = client.post("/improvement/new", data={"csrf_token": token, "title": "Clear invoice", "cost": "12.500,5"
                                               .replace(".", ""), "expected_improvement": "0,8",
                                               "moment_ids": [str(ids["invoice"])]}, follow_redirects=False)
    assert ok.status_code == 303
    scan = client.get("/improvement")
    assert "Clear invoice" in scan.text and 'data-class="7plus"' in scan.text
    with UnitOfWork(engine) as s:
        pid = service.list_projects(s)[0].id
    edit = client.get(f"/improvement/{pid}/edit")
    assert 'value="Clear invoice"' in edit.text
    client.post(f"/improvement/{pid}/edit", data={"csrf_token": csrf_from(edit.text), "title": "Order polish",
                                                 "expected_improvement": "0.5", "moment_ids": [str(ids["order"])]})
    assert 'data-class="little_potential"' in client.get("/improvement").text
    assert client.get("/improvement/9999/edit").status_code == 404
    exported = client.get("/improvement/scan.csv")
    assert exported.headers["content-type"].startswith("text/csv") and "Order polish" in exported.text
    pdf = client.get("/improvement/scan.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_team_lead_sees_but_cannot_edit(client, make_user, journey):
    make_user("lead@example.org", role="teamlead")
    login(client, "lead@example.org")
    assert client.get("/improvement").status_code == 200
    assert client.get("/improvement/new").status_code == 403


def test_api_register_and_scan(client, engine, journey):
    _, ids = journey
    with UnitOfWork(engine) as s:
        key = org.create_api_key(s, "pmo", scopes=org.INSTALLATION_SCOPES).key
    auth = {"Authorization": f"Bearer {key}"}
    created = client.post("/api/v1/improvement/projects", headers=auth,
                          json={"title": "Great visit", "expected_improvement": 1.0, "moment_ids": [ids["visit"]]})
    assert created.status_code == 201, created.text
    pid = created.json()["id"]
    bad = client.post("/api/v1/improvement/projects", headers=auth, json={"title": "x", "moment_ids": [424242]})
    assert bad.status_code == 422 and "moment_ids" in bad.text
    updated = client.put(f"/api/v1/improvement/projects/{pid}", headers=auth,
                         json={"title": "Great visit", "expected_improvement": 1.0, "moment_ids": [ids["visit"]],
                               "cost": 5000})
    assert updated.json()["cost"] == 5000
    scan = client.get("/api/v1/improvement/scan", headers=auth).json()
    assert scan["projects"][0]["class"] == "9plus" and scan["projects"][0]["targets"][0]["role"] == "9plus"
    assert client.get("/api/v1/improvement/projects/777", headers=auth).status_code == 404


def test_cli_monthly_report_and_scan(engine, journey, tmp_path, monkeypatch):
    from servicepulse.cli import report_command  # noqa: F401  registers `report`
    from servicepulse.cli.app import app
    from servicepulse.settings import get_settings

    monkeypatch.setenv("SERVICEPULSE_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        out = tmp_path / "report.pdf"
        result = runner.invoke(app, ["report", "monthly", "--month", "2026-05", "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert out.read_bytes().startswith(b"%PDF")
        bad = runner.invoke(app, ["report", "monthly", "--month", "May", "--out", str(out)])
        assert bad.exit_code != 0
        csv_out = tmp_path / "scan.csv"
        assert runner.invoke(app, ["report", "scan", "--out", str(csv_out)]).exit_code == 0
        assert csv_out.read_text().startswith("project_id,title")
        agg = runner.invoke(app, ["report", "aggregates"])
        assert agg.exit_code == 0 and "rows" in agg.output
    finally:
        get_settings.cache_clear()
