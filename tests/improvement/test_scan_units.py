"""The scan tells each project's effect over ALL customers in the compass's unit, and the joint effect of all
projects, checked against computations made here (numpy) on a hand-made organisation and on the demo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from servicepulse import metrics
from servicepulse.db.session import UnitOfWork
from servicepulse.improvement import service
from servicepulse.improvement.report import present, scan_table
from servicepulse.metrics import repository as repo
from servicepulse.models import (
    Answer,
    Case,
    ImprovementProject,
    Journey,
    Moment,
    ProjectTarget,
    Response,
    Survey,
    SurveyVersion,
)
from tests.improvement.test_scan import _create

N = 400


def _hc3(x, y):
    """OLS with HC3 standard errors, written out here (the reference for the compass's slopes)."""
    x = np.column_stack([np.ones(len(y)), x])
    inv = np.linalg.inv(x.T @ x)
    coef = inv @ x.T @ y
    resid = y - x @ coef
    h = np.sum((x @ inv) * x, axis=1)
    meat = (x * ((resid / (1 - h)) ** 2)[:, None]).T @ x
    return coef, np.sqrt(np.diag(inv @ meat @ inv))


def _journey(engine, key, overall, moments, start=datetime(2026, 3, 1, tzinfo=UTC)):
    with UnitOfWork(engine) as s:
        j = Journey(key=key, name_nl=key, name_en=key)
        s.add(j)
        s.flush()
        for pos, (mkey, (kind, _)) in enumerate(moments.items(), start=1):
            s.add(Moment(journey_id=j.id, key=mkey, position=pos, name_nl=mkey, name_en=mkey, kind=kind,
                         norm=7.0 if kind == "functional" else 9.0))
        survey = Survey(key=key, name="s")
        s.add(survey)
        s.flush()
        version = SurveyVersion(survey_id=survey.id, version=1, definition={})
        case = Case(external_id=key, journey_id=j.id)
        s.add_all([version, case])
        s.flush()
        s.add_all([Response(survey_version_id=version.id, case_id=case.id, submitted_at=start + timedelta(hours=i),
                            nps=int(overall[i]), grade=max(1, int(overall[i])),
                            answers=[Answer(question_key=f"moment_{k}", value_num=float(v[i]))
                                     for k, (_, v) in moments.items()])
                   for i in range(len(overall))])
        s.flush()
        return {m.key: m.id for m in repo.moments(s, j.id)}


def _two_journeys(engine):
    """Journey A (400 respondents) with a functional moment below its norm and an emotional one; journey B
    (400 more, another journey) whose customers never meet A's moments: A's moments reach half of everyone."""
    rng = np.random.default_rng(21)
    invoice = np.clip(np.rint(rng.normal(5.5, 1.3, N)), 1, 10)
    visit = np.clip(np.rint(rng.normal(7.0, 1.4, N)), 1, 10)
    overall = np.clip(np.rint(0.5 + 0.45 * invoice + 0.45 * visit + rng.normal(0, 1.0, N)), 0, 10)
    a = _journey(engine, "a", overall, {"invoice": ("functional", invoice), "visit": ("emotional", visit)})
    other = np.clip(np.rint(rng.normal(6.0, 1.0, N)), 1, 10)
    overall_b = np.clip(np.rint(1.0 + 0.8 * other + rng.normal(0, 0.8, N)), 0, 10)
    b = _journey(engine, "b", overall_b, {"shop": ("functional", other)})
    return a, b, (invoice, visit, overall), (other, overall_b)


def _nps_points(raw):
    return np.where(raw >= 9, 100.0, np.where(raw <= 6, -100.0, 0.0))


def test_effects_are_over_all_customers_capped_at_the_norm_and_counted_once(engine):
    a, b, (invoice, visit, overall), (_, overall_b) = _two_journeys(engine)
    first = _create(engine, "Clear invoice", [a["invoice"]], improvement=3.0, cost=20_000)  # more than the gap
    second = _create(engine, "Invoice again", [a["invoice"]], improvement=1.0)
    third = _create(engine, "Great visit", [a["visit"]], improvement=1.0)
    with UnitOfWork(engine) as s:
        report = service.scan(s, language="en")
    coef, se = _hc3(np.column_stack([invoice, visit]), _nps_points(overall))
    everyone = np.concatenate([overall, overall_b])
    base = 100 * (np.mean(everyone >= 9) - np.mean(everyone <= 6))
    assert report.base == pytest.approx(base) and report.base_n == 2 * N
    reach = 0.5  # A's respondents are half of everyone
    invoice_counted = min(3.0 + 1.0, 7.0 - invoice.mean())  # the plans together, never past the norm
    invoice_all = coef[1] * invoice_counted * reach
    visit_all = coef[2] * min(1.0, 9.0 - visit.mean()) * reach
    rows = {r.project_id: r for r in report.rows}
    assert rows[first].scan.expected_lift == pytest.approx(invoice_all * 3 / 4)
    assert rows[second].scan.expected_lift == pytest.approx(invoice_all * 1 / 4)
    assert rows[third].scan.expected_lift == pytest.approx(visit_all)
    # among the customers who meet the moment: the compass's number, slope x points, with its delta interval
    part = rows[third].targets[0]
    assert part.among == pytest.approx(coef[2] * min(1.0, 9.0 - visit.mean()))
    assert part.effect.volume_share == pytest.approx(reach)
    points = min(1.0, 9.0 - visit.mean())
    assert part.among_high - part.among == pytest.approx(1.959964 * se[2] * points, rel=1e-6)
    # jointly: the shared moment once, each moment up to its norm; never above every moment at its norm
    assert report.joint == pytest.approx(invoice_all + visit_all)
    assert report.joint_low < report.joint < report.joint_high
    to_norm = coef[1] * (7.0 - invoice.mean()) * reach + coef[2] * (9.0 - visit.mean()) * reach
    assert report.potential >= report.joint - 1e-9
    assert report.potential > to_norm  # B's moment below its norm adds to what every moment at its norm gives
    # the grade: grade points, with the grade regression's slopes
    with UnitOfWork(engine) as s:
        grade = service.scan(s, measure="grade", language="en")
    gcoef, _ = _hc3(np.column_stack([invoice, visit]), np.maximum(1, overall))
    assert {r.project_id: r for r in grade.rows}[third].scan.expected_lift == pytest.approx(
        gcoef[2] * min(1.0, 9.0 - visit.mean()) * reach)


def test_the_joint_effect_never_exceeds_every_moment_at_its_norm(engine):
    """A property over random plans: projects on random moments with random plans."""
    a, b, *_ = _two_journeys(engine)
    moments = [a["invoice"], a["visit"], b["shop"]]
    rng = np.random.default_rng(3)
    for round_ in range(4):
        ids = []
        for i in range(3):
            chosen = [m for m in moments if rng.random() < 0.6] or [moments[0]]
            ids.append(_create(engine, f"p{round_}-{i}", chosen, improvement=float(rng.uniform(0.2, 5.0))))
        with UnitOfWork(engine) as s:
            report = service.scan(s)
        assert report.joint <= report.potential + 1e-9
        assert report.joint == pytest.approx(sum(r.scan.expected_lift for r in report.rows))


@pytest.mark.demo("tiny", 11)
def test_demo_scan_and_compass_agree_and_the_base_is_the_metrics_figure(engine):
    from servicepulse import investment

    with UnitOfWork(engine, readonly=True) as s:
        facts, _ = metrics.moment_facts(s)
        frame = investment.moment_frame(s)
        headline = metrics.overview(s).headline
        for measure in ("nps", "grade"):
            slopes = investment.effect_slopes(s, frame, measure)
            # a project alone on a moment below the basics with a clear slope, lifting it to the compass's target
            # (7 or a functional moment's higher norm): the compass's "fix the basics" effect
            for project in service.list_projects(s):
                s.delete(project)
            moment_id = next(m for m, f in facts.items() if f.score is not None and f.score < 6.7 and m in slopes
                             and slopes[m].slope > 3 * slopes[m].se)
            fact = facts[moment_id]
            target = max(fact.norm, 7.0) if fact.kind == "functional" else 7.0
            compass_effect, low, high = investment.effect_interval(slopes[moment_id], target - fact.score)
            s.add(ImprovementProject(title="to the norm", expected_improvement=target - fact.score,
                                     targets=[ProjectTarget(moment_id=moment_id)]))
            s.flush()
            report = service.scan(s, measure=measure, language="nl")
            row = next(r for r in report.rows if r.title == "to the norm")
            part = row.targets[0]
            assert part.projects == 1 and part.among == pytest.approx(compass_effect)
            assert (part.among_low, part.among_high) == pytest.approx((low, high))
            assert part.effect.lift == pytest.approx(part.among * part.effect.volume_share)
            figure = headline.nps.score if measure == "nps" else headline.grade.mean
            assert report.base == pytest.approx(figure)
            assert report.joint <= report.potential + 1e-9 or report.with_drivers
            # the page's texts, the CSV and the PDF carry the same numbers in the compass's words
            summary = present(report, "nl")
            unit = "NPS-punten" if measure == "nps" else "cijferpunten"
            assert all(r.unit == unit for r in summary.rows)
            table = scan_table(report, "nl")
            assert [round(r[6], 3) for r in table] == [round(r.scan.expected_lift, 3) for r in report.rows]
            assert all(r[9] == unit for r in table)
            s.rollback()

