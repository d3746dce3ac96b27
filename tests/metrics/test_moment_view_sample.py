"""The moment view's label check reads only the most recent complete answers of the window (bounded work at any
scale) and says so; both databases."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from servicepulse.db.session import UnitOfWork
from servicepulse.kernels import statistics
from servicepulse.metrics import label_check, service
from servicepulse.metrics import repository as repo
from servicepulse.org import service as org

from .conftest import login


def _newest_complete(small, outcome: str, limit: int, since=None) -> pd.DataFrame:
    """Independently, from the rows as written: complete answers, newest first (ties: higher id first)."""
    frame = small.frame
    if since is not None:
        frame = frame[frame["submitted_at"] >= pd.Timestamp(since, tz="UTC")]
    complete = frame.dropna(subset=[outcome, "m_call", "m_visit"])
    return complete.sort_values(["submitted_at", "id"], ascending=False).head(limit)


@pytest.mark.parametrize("outcome,page", [("nps", 17), ("grade", 1000)])
def test_recent_complete_grades_are_the_newest_complete_answers(engine, small, outcome, page):
    f = repo.MetricFilter(journey_id=small.journey_id, date_from=date(2026, 2, 1))
    with UnitOfWork(engine, readonly=True) as s:
        got = repo.recent_complete_grades(s, f, ["call", "visit"], outcome, limit=60, page=page)
        everything = repo.recent_complete_grades(s, f, ["call", "visit"], outcome, limit=10_000, page=page)
    want = _newest_complete(small, outcome, 60, since="2026-02-01")
    assert list(got.index) == list(want["id"])  # small pages walk the keyset across page boundaries
    assert got["call"].tolist() == want["m_call"].tolist() and got[outcome].tolist() == want[outcome].tolist()
    assert len(everything) == len(_newest_complete(small, outcome, 10_000, since="2026-02-01")) > 60


def test_the_view_checks_labels_on_the_newest_answers_and_says_so(engine, small, monkeypatch):
    monkeypatch.setattr(label_check, "PRCA_SAMPLE", 150)
    with UnitOfWork(engine, readonly=True) as s:
        view = service.moment_view(s, small.journey_id, min_n=30, language="en")
        full = service.moment_view(s, small.journey_id, repo.MetricFilter(date_from=date(2026, 4, 15)), min_n=30)
    assert view.prca_sampled and view.prca_n == 150 and view.prca_message is None
    want = _newest_complete(small, "nps", 150)
    expected = statistics.prca(want[["m_call", "m_visit"]].set_axis(["call", "visit"], axis=1),
                              want["nps"].astype(float))
    for row in view.moments:
        rec = expected.table.loc[row.key]
        assert row.behaviour == rec["behaviour"]
        assert np.isclose(row.penalty, rec["penalty"]) and np.isclose(row.reward, rec["reward"])
    # the figures above still count every answer of the window
    assert sum(r.n for r in view.moments) == int(small.frame[["m_call", "m_visit"]].notna().sum().sum())
    assert not full.prca_sampled and full.prca_n < 150  # a short window: every complete answer, no note


def test_the_page_and_the_api_say_the_check_was_sampled(client, make_user, engine, small, monkeypatch):
    monkeypatch.setattr(label_check, "PRCA_SAMPLE", 150)
    make_user("ana@example.org", role="analyst", language="nl")
    assert login(client, "ana@example.org").status_code == 303
    html = client.get(f"/metrics/journeys/{small.journey_id}").text
    assert "Labelcontrole op de 150 meest recente volledige antwoorden in deze periode" in html
    with UnitOfWork(engine) as s:
        key = org.create_api_key(s, "reporting").key
    body = client.get(f"/api/v1/journeys/{small.journey_id}/moments",
                      headers={"Authorization": f"Bearer {key}"}).json()
    assert body["label_check_n"] == 150 and body["label_check_sampled"] is True


def test_a_check_is_remembered_until_the_window_changes(engine, small, monkeypatch):
    from servicepulse.models import Answer, Response

    monkeypatch.setattr(label_check, "PRCA_SAMPLE", 150)
    f = repo.MetricFilter(journey_id=small.journey_id)
    with UnitOfWork(engine, readonly=True) as s:
        first = label_check.run_label_check(s, f, ["call", "visit"], "nps", min_n=30, alpha=0.05, fingerprint=("x",))
        again = label_check.run_label_check(s, f, ["call", "visit"], "nps", min_n=30, alpha=0.05, fingerprint=("x",))
        other = label_check.run_label_check(s, f, ["call", "visit"], "grade", min_n=30, alpha=0.05, fingerprint=("x",))
    assert again is first and other is not first
    with UnitOfWork(engine) as s:  # a newer complete answer: the newest 150 change, and so does the result
        template = s.get(Response, int(small.frame["id"].iloc[0]))
        s.add(Response(survey_version_id=template.survey_version_id, case_id=template.case_id,
                       moment_id=template.moment_id, channel="email", submitted_at=pd.Timestamp("2026-06-01", tz="UTC"),
                       nps=0, answers=[Answer(question_key="moment_call", value_num=10.0),
                                       Answer(question_key="moment_visit", value_num=10.0)]))
    with UnitOfWork(engine, readonly=True) as s:
        fresh = label_check.run_label_check(s, f, ["call", "visit"], "nps", min_n=30, alpha=0.05, fingerprint=("x",))
        newest = repo.recent_complete_grades(s, f, ["call", "visit"], "nps", 150)
    assert fresh is not first and fresh.n == 150
    assert newest["nps"].iloc[0] == 0 and newest["call"].iloc[0] == 10
