"""Figures with intervals from the database, checked against formulas computed here; thin and bad data."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from servicepulse.db.session import UnitOfWork
from servicepulse.metrics import service
from servicepulse.metrics.repository import MetricFilter
from servicepulse.models import Answer, Case, Journey, Moment, Response, Survey, SurveyVersion

Z95 = stats.norm.ppf(0.975)


def adjusted_wald(det: int, pas: int, pro: int) -> tuple[float, float, float]:
    """Rocks (2016): add 0.75 detractors, 1.5 passives, 0.75 promoters; NPS points."""
    d, p, r = det + 0.75, pas + 1.5, pro + 0.75
    n = d + p + r
    score = (r - d) / n
    var = (r / n + d / n - score ** 2) / n
    return 100 * (pro - det) / (det + pas + pro), 100 * (score - Z95 * math.sqrt(var)), 100 * (score + Z95 * math.sqrt(var))


def wilson(k: int, n: int) -> tuple[float, float]:
    p = k / n
    centre = (p + Z95 ** 2 / (2 * n)) / (1 + Z95 ** 2 / n)
    half = Z95 / (1 + Z95 ** 2 / n) * math.sqrt(p * (1 - p) / n + Z95 ** 2 / (4 * n * n))
    return centre - half, centre + half


def test_headline_figures_match_independent_formulas(engine, small):
    frame = small.frame
    with UnitOfWork(engine) as s:
        fig = service.metrics(s, min_n=30)[0].figures
    nps = frame["nps"].dropna()
    det, pas, pro = int((nps <= 6).sum()), int(nps.between(7, 8).sum()), int((nps >= 9).sum())
    score, low, high = adjusted_wald(det, pas, pro)
    assert fig.nps.score == pytest.approx(score) and fig.nps.method == "adjusted-wald"
    assert (fig.nps.low, fig.nps.high) == (pytest.approx(low), pytest.approx(high))
    grade = frame["grade"].dropna()
    t_low, t_high = stats.t.interval(0.95, len(grade) - 1, loc=grade.mean(), scale=stats.sem(grade))
    assert (fig.grade.mean, fig.grade.low, fig.grade.high) == (
        pytest.approx(grade.mean()), pytest.approx(t_low), pytest.approx(t_high))
    csat = frame["csat"].dropna()
    assert (fig.csat_top2.low, fig.csat_top2.high) == tuple(pytest.approx(v) for v in wilson(int((csat >= 4).sum()), len(csat)))
    ces = frame["ces"].dropna()
    assert fig.ces.mean == pytest.approx(ces.mean())
    assert fig.ces_easy.share == pytest.approx((ces >= 5).mean())
    assert fig.grade_9.share == pytest.approx((grade >= 9).mean())


def test_wald_and_bootstrap_on_request(engine, small):
    with UnitOfWork(engine) as s:
        wald = service.metrics(s, method="wald")[0].figures.nps
        boot = service.metrics(s, method="bootstrap")[0].figures.nps
    nps = small.frame["nps"].dropna()
    p_pro, p_det = (nps >= 9).mean(), (nps <= 6).mean()
    se = math.sqrt((p_pro + p_det - (p_pro - p_det) ** 2) / len(nps))
    assert wald.high - wald.score == pytest.approx(100 * Z95 * se)
    assert boot.method == "bootstrap" and boot.low < boot.score < boot.high
    assert abs((boot.high - boot.low) - (wald.high - wald.low)) < 0.2 * (wald.high - wald.low)


def test_below_min_n_is_too_few_and_never_nan(engine, small):
    with UnitOfWork(engine) as s:
        rows = service.metrics(s, by="team", min_n=1000)
        empty = service.metrics(s, MetricFilter(date_from=date(2030, 1, 1), date_to=date(2030, 2, 1)))[0].figures
    for row in rows:
        assert row.figures.nps.too_few and row.figures.nps.score is None
        assert row.figures.grade.too_few and row.figures.grade.mean is None
    assert empty.responses == 0 and empty.nps.too_few and empty.ces_easy.too_few
    assert empty.grade.mean is None and empty.grade.message


def test_trend_fills_empty_periods(engine, small):
    f = MetricFilter(date_from=date(2025, 11, 1), date_to=date(2026, 6, 1))
    with UnitOfWork(engine) as s:
        trend = service.metrics(s, f, by="period", period="month")
    assert [r.key for r in trend] == ["2025-11-01", "2025-12-01", "2026-01-01", "2026-02-01", "2026-03-01",
                                      "2026-04-01", "2026-05-01"]
    assert trend[0].figures.responses == 0 and trend[0].figures.nps.too_few
    assert trend[2].figures.responses > 0


def test_compare_periods_with_holm_correction(engine, small):
    jan = MetricFilter(date_from=date(2026, 1, 1), date_to=date(2026, 2, 1))
    feb = MetricFilter(date_from=date(2026, 2, 1), date_to=date(2026, 3, 1))
    with UnitOfWork(engine) as s:
        rows = service.compare_periods(s, jan, feb, by="channel", min_n=10)
    frame = small.frame
    t = pd.to_datetime(frame["submitted_at"], utc=True)
    raw = []
    for row in rows:
        parts = []
        for lo, hi in (("2026-01-01", "2026-02-01"), ("2026-02-01", "2026-03-01")):
            sel = frame[(frame["channel"] == row.key) & (t >= pd.Timestamp(lo, tz="UTC")) & (t < pd.Timestamp(hi, tz="UTC"))]
            parts.append(sel["nps"].dropna())
        assert row.nps.difference == pytest.approx(100 * (((parts[1] >= 9).mean() - (parts[1] <= 6).mean())
                                                          - ((parts[0] >= 9).mean() - (parts[0] <= 6).mean())))
        raw.append(row.nps.p_value)
    # Holm by hand
    order = np.argsort(raw)
    m = len(raw)
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * raw[i]))
        adjusted[i] = running
    assert [r.nps_p_adjusted for r in rows] == pytest.approx(list(adjusted))


def _journey_with_grades(engine, n: int, overall, moment_values: dict[str, tuple[str, np.ndarray]]):
    """A journey whose moments (key -> (kind, grades)) and overall NPS are given per response."""
    with UnitOfWork(engine) as s:
        j = Journey(key="j", name_nl="Reis", name_en="Journey")
        s.add(j)
        s.flush()
        for pos, (key, (kind, _)) in enumerate(moment_values.items(), start=1):
            s.add(Moment(journey_id=j.id, key=key, position=pos, name_nl=key, name_en=key, kind=kind,
                         norm=7.0 if kind == "functional" else 9.0))
        survey = Survey(key="s", name="s")
        s.add(survey)
        s.flush()
        version = SurveyVersion(survey_id=survey.id, version=1, definition={})
        case = Case(external_id="c", journey_id=j.id)
        s.add_all([version, case])
        s.flush()
        start = datetime(2026, 5, 1, tzinfo=UTC)
        s.add_all([Response(survey_version_id=version.id, case_id=case.id, submitted_at=start + timedelta(minutes=i),
                            nps=int(overall[i]), grade=max(1, int(overall[i])),
                            answers=[Answer(question_key=f"moment_{k}", value_num=float(v[i]))
                                     for k, (_, v) in moment_values.items()])
                   for i in range(n)])
        return j.id


def test_label_check_flags_an_emotional_label_that_behaves_like_a_basic(engine):
    rng = np.random.default_rng(3)
    n = 600
    basic = rng.integers(3, 11, n)  # low scores hurt, high scores add nothing
    truth = rng.integers(3, 11, n)  # high scores pay off, low scores cost nothing
    latent = 7 - 2.0 * (basic <= 6) + 2.0 * (truth >= 9) + rng.normal(0, 1, n)
    overall = np.clip(np.rint(latent), 0, 10)
    jid = _journey_with_grades(engine, n, overall, {"basic_labelled_emotional": ("emotional", basic),
                                                    "truth_labelled_functional": ("functional", truth)})
    with UnitOfWork(engine) as s:
        view = service.moment_view(s, jid, language="en")
    rows = {m.key: m for m in view.moments}
    assert view.prca_n == n and view.prca_message is None
    wrong_e = rows["basic_labelled_emotional"]
    assert wrong_e.behaviour == "basic" and wrong_e.label_check.consistent is False
    assert wrong_e.label_check.suggested_kind == "functional"
    wrong_f = rows["truth_labelled_functional"]
    assert wrong_f.behaviour == "excitement" and wrong_f.label_check.suggested_kind == "emotional"
    assert wrong_e.score.mean == pytest.approx(basic.mean())
    mean = basic.mean()  # below 7 the basics come first, whatever the kind
    assert wrong_e.status.code == ("fix_basics" if mean < 7 else "win_moment" if mean < 9 else "keep_it")


def test_bad_driver_input_gives_messages_not_errors(engine):
    rng = np.random.default_rng(5)
    n = 80
    a = rng.integers(1, 11, n).astype(float)
    overall = np.clip(np.rint(a * 0.8 + rng.normal(0, 1, n)), 0, 10)
    jid = _journey_with_grades(engine, n, overall, {"a": ("functional", a), "same": ("functional", a),
                                                    "flat": ("emotional", np.full(n, 8.0))})
    with UnitOfWork(engine) as s:
        collinear = service.key_drivers(s, MetricFilter(journey_id=jid), include="moments", min_n=30, language="en")
        few = service.key_drivers(s, MetricFilter(journey_id=jid), include="moments", min_n=500, language="en")
        empty = service.key_drivers(s, MetricFilter(journey_id=jid, date_from=date(2031, 1, 1)), include="moments",
                                    language="nl")
        view = service.moment_view(s, jid, MetricFilter(date_from=date(2031, 1, 1)), language="en")
    # A factor without variation and the mirror image of another are left out, and the analysis says so.
    assert collinear.ok and "Without variation, so left out: flat" in collinear.message
    assert "mirror image of another factor, so left out: same" in collinear.message
    assert list(collinear.table.index) == ["a"]
    assert not few.ok and "Too few answers (80" in few.message
    assert not empty.ok and empty.message.startswith("Te weinig antwoorden (0")
    assert view.prca_message.startswith("Too few complete answers (0)")
    assert all(m.status.code == "unknown" and m.score.mean is None for m in view.moments)


def test_month_filter_and_bad_month():
    f = service.month_filter("2026-10")
    assert (f.date_from, f.date_to) == (date(2026, 10, 1), date(2026, 11, 1))
    assert service.month_filter("2026-12").date_to == date(2027, 1, 1)
    from servicepulse.kernels.statistics import AnalyticsInputError

    with pytest.raises(AnalyticsInputError, match="2026-10"):
        service.month_filter("oktober")
