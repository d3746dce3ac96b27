"""Project register and the 7+/9+ scan on hand-made data, CSV/PDF export, pages, API and CLI (both databases)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from html import unescape

import numpy as np
import pytest
from typer.testing import CliRunner

from servicepulse.db.session import UnitOfWork
from servicepulse.errors import NotFound, ValidationFailed
from servicepulse.improvement import service
from servicepulse.improvement.report import scan_csv, why_sentence
from servicepulse.metrics import repository as repo
from servicepulse.models import Answer, Case, Journey, Moment, Response, Survey, SurveyVersion
from servicepulse.org import service as org
from tests.conftest import engine_seeded_if
from tests.metrics.test_service import _journey_with_grades
from tests.web.conftest import csrf_from, login

N = 400


def _build_journey(engine):
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


@pytest.fixture
def engine(request, templates):  # noqa: F811
    """Tests that take `journey` start on a copy of its database (built once per run and database)."""
    with engine_seeded_if(request, templates, "journey", "improvement-journey", _build_journey) as e:
        yield e


@pytest.fixture
def journey(engine, templates):
    return templates.ensure("improvement-journey", _build_journey)


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
    # effect = slope x counted x reach, in NPS points: the NPS outcome (100 / 0 / -100) regressed here with numpy;
    # every respondent meets the journey's moments (reach 100%), nothing counts past a moment's norm
    with UnitOfWork(engine) as s:
        frame = repo.moment_grade_frame(s, repo.MetricFilter(journey_id=journey[0]))
    X = np.column_stack([np.ones(len(frame)), frame[["invoice", "order", "visit"]].to_numpy(float)])
    y = np.where(frame["nps"] >= 9, 100.0, np.where(frame["nps"] <= 6, -100.0, 0.0))
    coef = np.linalg.lstsq(X, y, rcond=None)[0]
    invoice_mean = frame["invoice"].mean()
    assert got["Clear invoice"].expected_lift == pytest.approx(coef[1] * min(0.8, 7.0 - invoice_mean))
    visit_mean = frame["visit"].mean()
    assert got["Great visit"].expected_lift == pytest.approx(coef[3] * min(1.0, 9.0 - visit_mean))
    assert [r.title for r in report.rows][0] in ("Clear invoice", "Great visit")
    # one plain sentence of why, from the moment's stage (below 7 the basics come first, whatever the kind)
    why = {r.title: r.why for r in report.rows}
    assert (why["Clear invoice"].code, why["Great visit"].code, why["Shiny order page"].code) == (
        "fix_basics", "truth_below_basics", "good_enough")
    nl = f"{invoice_mean:.1f}".replace(".", ",")
    assert why_sentence(why["Clear invoice"], "nl") == (
        f"Brengt vooral de basis op orde bij ‘invoice’: klanten geven daar nu een {nl}, terwijl 7 de norm is; "
        "100% van de klanten maakt dit moment mee.")
    assert why_sentence(why["Shiny order page"], "en").startswith("Adds little: ‘order’ already scores")


def test_csv_export_has_one_row_per_project(engine, journey):
    _, ids = journey
    _create(engine, "Clear invoice", [ids["invoice"]], cost=20_000)
    with UnitOfWork(engine) as s:
        text = scan_csv(service.scan(s, language="nl"), "nl")
    # a Dutch spreadsheet's conventions: ';' between columns and decimal commas
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    assert len(rows) == 1 and rows[0]["title"] == "Clear invoice" and rows[0]["class"] == "7+-project"

    def number(column):
        assert "." not in rows[0][column], rows[0][column]
        return float(rows[0][column].replace(",", "."))
    assert number("lift_per_1000_cost") == pytest.approx(number("expected_lift") / 20, abs=1e-4)
    # the lift with its unit and interval, and the sentence of why, in the chosen language
    low, lift, high = (number(c) for c in ("lift_low", "expected_lift", "lift_high"))
    assert 0 < low < lift < high
    assert rows[0]["unit"] == "NPS-punten"
    assert rows[0]["why"].startswith("Brengt vooral de basis op orde bij ‘invoice’")


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
    project = scan["projects"][0]
    assert scan["unit"] == "NPS points" and project["rank"] == 1
    assert 0 < project["lift_low"] < project["expected_lift"] < project["lift_high"]
    assert project["why"].startswith("Mainly tackles ‘visit’, a moment of truth")
    assert project["targets"][0]["moment_id"] == ids["visit"] and project["targets"][0]["share"] == 1.0
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
        assert csv_out.read_text(encoding="utf-8").startswith("\ufeffproject_id;title")
        agg = runner.invoke(app, ["report", "aggregates"])
        assert agg.exit_code == 0 and "rows" in agg.output
    finally:
        get_settings.cache_clear()


# -- sharing, the scale's bound and the interval ------------------------------------------------------

def _hourly_journey(engine, overall, moments: dict[str, tuple[str, np.ndarray]], start=datetime(2026, 3, 1, tzinfo=UTC)):
    """A journey whose responses come one an hour from ``start`` (so a date filter can take fewer of them)."""
    with UnitOfWork(engine) as s:
        j = Journey(key="hourly", name_nl="Reis", name_en="Journey")
        s.add(j)
        s.flush()
        for pos, (key, (kind, _)) in enumerate(moments.items(), start=1):
            s.add(Moment(journey_id=j.id, key=key, position=pos, name_nl=key, name_en=key, kind=kind,
                         norm=7.0 if kind == "functional" else 9.0))
        survey = Survey(key="hourly", name="s")
        s.add(survey)
        s.flush()
        version = SurveyVersion(survey_id=survey.id, version=1, definition={})
        case = Case(external_id="hourly", journey_id=j.id)
        s.add_all([version, case])
        s.flush()
        s.add_all([Response(survey_version_id=version.id, case_id=case.id, submitted_at=start + timedelta(hours=i),
                            nps=int(overall[i]), grade=max(1, int(overall[i])),
                            answers=[Answer(question_key=f"moment_{k}", value_num=float(v[i]))
                                     for k, (_, v) in moments.items()])
                   for i in range(len(overall))])
        return {m.key: m.id for m in repo.moments(s, j.id)}


def _slope(engine, journey_id, columns, key):
    with UnitOfWork(engine) as s:
        frame = repo.moment_grade_frame(s, repo.MetricFilter(journey_id=journey_id))
    X = np.column_stack([np.ones(len(frame)), frame[columns].to_numpy(float)])
    y = np.where(frame["nps"] >= 9, 100.0, np.where(frame["nps"] <= 6, -100.0, 0.0))  # NPS points, as the compass
    coef = np.linalg.lstsq(X, y, rcond=None)[0]
    return coef[1 + columns.index(key)], frame[key].mean()


def test_projects_on_one_moment_share_its_lift_and_never_count_it_twice(engine, journey):
    jid, ids = journey
    alone = _create(engine, "Visit alone", [ids["visit"]], improvement=3.0)
    with UnitOfWork(engine) as s:
        single = {r.project_id: r for r in service.scan(s).rows}[alone].scan.expected_lift
    other = _create(engine, "Visit too", [ids["visit"]], improvement=3.0)
    with UnitOfWork(engine) as s:
        rows = {r.project_id: r for r in service.scan(s, language="en").rows}
    slope, visit_mean = _slope(engine, jid, ["invoice", "order", "visit"], "visit")
    # together the plans ask +6, the moment has (norm 9) - mean to give: that is the moment's effect, counted once
    moment_lift = slope * min(6.0, 9.0 - visit_mean)
    a, b = rows[alone], rows[other]
    assert a.scan.expected_lift == pytest.approx(moment_lift / 2) == pytest.approx(b.scan.expected_lift)
    assert a.scan.expected_lift + b.scan.expected_lift == pytest.approx(moment_lift)
    assert a.scan.expected_lift + b.scan.expected_lift <= 2 * single  # never more than the moment gives
    with UnitOfWork(engine) as s:
        assert service.scan(s).joint == pytest.approx(moment_lift)  # all projects together: the moment once
    assert (a.targets[0].share, a.targets[0].projects) == (0.5, 2)
    assert "shared by 2 projects" in a.scan.reasoning_en
    # in proportion to the plans when they differ: 3 against 1
    with UnitOfWork(engine) as s:
        service.update_project(s, other, service.ProjectInput(title="Visit too", moment_ids=(ids["visit"],),
                                                              expected_improvement=1.0))
    with UnitOfWork(engine) as s:
        rows = {r.project_id: r for r in service.scan(s).rows}
    assert rows[alone].scan.expected_lift == pytest.approx(3 * rows[other].scan.expected_lift)
    assert rows[alone].scan.expected_lift + rows[other].scan.expected_lift == pytest.approx(moment_lift)


def test_a_moment_of_truth_counts_up_to_its_norm_not_the_top_of_the_scale(engine):
    rng = np.random.default_rng(5)
    n = 500
    truth = np.clip(np.rint(rng.normal(8.0, 0.9, n)), 1, 10)  # a moment of truth just below its norm of 9
    overall = np.clip(np.rint(2.0 + 0.8 * truth + rng.normal(0, 0.8, n)), 0, 10)
    ids = _hourly_journey(engine, overall, {"visit": ("emotional", truth)})
    pid = _create(engine, "Perfect visit", [ids["visit"]], improvement=2.0)
    with UnitOfWork(engine) as s:
        report = service.scan(s, language="nl")
    row = report.rows[0]
    nps = 100 * (np.mean(overall >= 9) - np.mean(overall <= 6))
    assert report.base == pytest.approx(nps) and report.base_n == n
    y = np.where(overall >= 9, 100.0, np.where(overall <= 6, -100.0, 0.0))
    slope = np.linalg.lstsq(np.column_stack([np.ones(n), truth]), y, rcond=None)[0][1]
    assert row.project_id == pid and row.targets[0].effect.counted == pytest.approx(9.0 - truth.mean())
    assert row.scan.expected_lift == pytest.approx(slope * (9.0 - truth.mean()))
    assert report.base + row.scan.expected_lift <= 100.0
    assert row.low <= row.scan.expected_lift <= row.high
    assert "tot de norm" in row.scan.reasoning_nl and "NPS-punten" in row.scan.reasoning_nl


def test_the_interval_holds_the_estimate_and_narrows_with_more_answers(engine):
    rng = np.random.default_rng(8)
    n = 480
    invoice = np.clip(np.rint(rng.normal(5.8, 1.3, n)), 1, 10)
    overall = np.clip(np.rint(1.5 + 0.7 * invoice + rng.normal(0, 1.2, n)), 0, 10)
    ids = _hourly_journey(engine, overall, {"invoice": ("functional", invoice)})  # 20 days, one an hour
    _create(engine, "Clear invoice", [ids["invoice"]], improvement=0.8)
    with UnitOfWork(engine) as s:
        everything = service.scan(s).rows[0]
        last_five_days = service.scan(s, repo.MetricFilter(date_from=date(2026, 3, 16))).rows[0]
    for row in (everything, last_five_days):
        assert 0 < row.low < row.scan.expected_lift < row.high
    assert (last_five_days.high - last_five_days.low) > 1.5 * (everything.high - everything.low)
