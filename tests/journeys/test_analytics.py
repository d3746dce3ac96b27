"""Journey analytics on a small hand-made log, checked against figures worked out by hand
and against plain pandas computations in the test; moment rules as YAML."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from servicepulse.cases.service import ingest_events
from servicepulse.db.session import UnitOfWork
from servicepulse.errors import ValidationFailed
from servicepulse.journeys import analytics, repository
from servicepulse.journeys.dfg import dfg_svg
from servicepulse.journeys.rules import Rule, assign_moments
from servicepulse.models import Journey, Moment

T0 = pd.Timestamp("2026-05-04T09:00:00Z")  # a Monday, inside opening hours


def e(case, activity, hours, **kw):
    return {"case_id": case, "activity": activity, "timestamp": (T0 + pd.Timedelta(hours=hours)).isoformat(),
            "event_id": f"{case}-{activity}-{hours}", **kw}


LOG = [
    # A: report -> visit -> closed, one handoff
    e("A", "Fault reported", 0, direction="inbound", team="Front"), e("A", "Engineer visit", 10, team="Field"),
    e("A", "Case closed", 12, team="Field"),
    # B: report, repeat report 2h later, visit, closed; no handoff
    e("B", "Fault reported", 0, direction="inbound", team="Front"),
    e("B", "Fault reported", 2, direction="inbound", team="Front"), e("B", "Engineer visit", 30, team="Front"),
    e("B", "Case closed", 31, team="Front"),
    # C: report, visit (still open)
    e("C", "Fault reported", 0, direction="inbound", team="Front"), e("C", "Engineer visit", 4, team="Field"),
]


@pytest.fixture
def journey(engine):
    with UnitOfWork(engine) as s:
        j = Journey(key="fault", name_nl="Storing", name_en="Fault")
        j.moments.append(Moment(key="report", position=1, name_nl="Melden", name_en="Report", kind="functional", norm=7))
        j.moments.append(Moment(key="visit", position=2, name_nl="Bezoek", name_en="Visit", kind="emotional", norm=9))
        s.add(j)
        s.flush()
        repository.replace_rules(s, repository.parse_rules_yaml(
            "rules:\n  - moment: fault/report\n    pattern: '^fault'\n"
            "  - moment: fault/visit\n    activity: engineer visit\n"))
    with UnitOfWork(engine) as s:
        ingest_events(s, LOG)
    return "fault"


def test_moment_figures_worked_by_hand(engine, journey):
    with UnitOfWork(engine, readonly=True) as s:
        view = analytics.journey_view(s, s.scalar(select(Journey).where(Journey.key == journey)))
    report, visit = view.moments
    # time at 'report': first report to the next event at another moment: A 10 h, B 30 h, C 4 h
    assert report.figures.cases == 3 and report.figures.events == 4
    assert report.figures.median_hours == pytest.approx(10.0)
    assert report.figures.p90_hours == pytest.approx(np.percentile([10, 30, 4], 90))
    # 'visit' runs to the case's last event: A 2 h, B 1 h, C 0 h
    assert visit.figures.median_hours == pytest.approx(1.0)
    assert report.figures.handoff_rate == pytest.approx(2 / 3)  # A and C changed team
    assert report.figures.repeat_contact_rate == pytest.approx(1 / 3)  # B
    assert report.figures.first_time_right_rate == pytest.approx(1 / 2)  # of the closed A and B, only A
    assert view.total.cases == 3 and view.total.events == len(LOG)
    assert view.total.median_hours == pytest.approx(12.0)  # throughput 12, 31, 4 h


def test_variants_and_arcs_against_pandas(engine, journey):
    with UnitOfWork(engine, readonly=True) as s:
        view = analytics.journey_view(s, s.scalar(select(Journey).where(Journey.key == journey)))
    frame = pd.DataFrame(LOG)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    frame = frame.sort_values(["case_id", "timestamp"], kind="stable")
    seqs = frame.groupby("case_id")["activity"].apply(tuple).value_counts()
    assert dict(view.variants) == seqs.to_dict()
    nxt = frame.groupby("case_id").shift(-1)
    pairs = pd.DataFrame({"a": frame["activity"], "b": nxt["activity"],
                          "h": (nxt["timestamp"] - frame["timestamp"]).dt.total_seconds() / 3600}).dropna()
    expected = pairs.groupby(["a", "b"]).agg(n=("h", "size"), med=("h", "median"))
    got = {(a, b): (n, h) for a, b, n, h in view.dfg}
    assert set(got) == set(expected.index)
    for key, row in expected.iterrows():
        assert got[key][0] == row["n"] and got[key][1] == pytest.approx(row["med"])
    svg = dfg_svg(view.dfg, view.activities, "en")
    assert b"<svg" in svg and b"Engineer visit" in svg


def test_rules_match_by_team_key_and_channel():
    rules = [Rule(moment_id=1, channel="PHONE", team="front_office"), Rule(moment_id=2, pattern="visit")]
    got = assign_moments(pd.Series(["Call", "Call", "Engineer Visit", "Call"]),
                         pd.Series(["phone", "email", None, "phone"]),
                         pd.Series(["Front Office", "Front Office", None, "Back Office"]),
                         rules, {"Front Office": "front_office"})
    assert got.tolist() == [1, None, 2, None]


def test_rules_yaml_round_trip_and_errors(engine, journey):
    with UnitOfWork(engine, readonly=True) as s:
        text = repository.rules_yaml(s)
    assert "fault/report" in text and "pattern: ^fault" in text
    with UnitOfWork(engine) as s:
        with pytest.raises(ValidationFailed) as info:
            repository.replace_rules(s, repository.parse_rules_yaml(
                "rules:\n  - moment: fault/nope\n  - moment: fault/visit\n    pattern: '[unclosed'\n"))
    fields = [where for where, _ in info.value.problems]
    assert fields == ["rule 1.moment", "rule 1", "rule 2.pattern"]
    with pytest.raises(ValidationFailed, match=r"not valid YAML \(line \d+\)"):
        repository.parse_rules_yaml("rules:\n  - moment: [\n")
    with UnitOfWork(engine, readonly=True) as s:
        assert repository.rules_yaml(s) == text  # nothing changed
