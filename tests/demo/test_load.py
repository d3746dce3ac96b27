"""Loading the demo: counts, refusal and reset, determinism, and a consistent database."""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta

import pandas as pd
import pytest
from sqlalchemy import func, select, text

from servicepulse.demo import SIZES, DemoAlreadyLoaded, load_demo
from servicepulse.demo.catalogue import JOURNEYS, USERS
from servicepulse.demo.generate import generate
from servicepulse.demo.stories import END_DATE
from servicepulse.errors import ServicepulseError, ValidationFailed
from servicepulse.kernels.eventlog.facts import DEFAULT_CLOSING
from servicepulse.models import (
    Answer,
    Case,
    CaseEvent,
    Customer,
    OrgUnit,
    Promise,
    Response,
    User,
)
from servicepulse.org.passwords import verify_password

# the demo window ends (exclusive) at midnight after its last day
END_UTC = pd.Timestamp(END_DATE + timedelta(days=1), tz="Europe/Amsterdam").tz_convert("UTC")


def _count(conn, model) -> int:
    return conn.scalar(select(func.count()).select_from(model))


def test_small_generation_hits_the_size_targets(small_data):
    # targets from the brief, within 15%
    data = small_data
    targets = {"customers": 2_000, "cases": 6_000, "events": 40_000, "responses": 2_500}
    got = {"customers": len(data.customers), "cases": len(data.cases), "events": len(data.events),
           "responses": len(data.responses)}
    for key, target in targets.items():
        assert abs(got[key] - target) <= 0.15 * target, (key, got[key], target)
    assert SIZES["medium"].cases == 10 * SIZES["small"].cases
    assert SIZES["large"].cases == 10 * SIZES["medium"].cases


def test_loaded_counts_match_the_summary(loaded):
    engine, summary = loaded
    with engine.connect() as conn:
        assert _count(conn, Customer) == summary.customers == SIZES["tiny"].customers
        assert _count(conn, Case) == summary.cases
        assert _count(conn, CaseEvent) == summary.events
        assert _count(conn, Promise) == summary.promises
        assert _count(conn, Response) == summary.responses
        assert _count(conn, Answer) == summary.answers
        assert _count(conn, User) == summary.users == len(USERS)
        kinds = dict(conn.execute(select(OrgUnit.kind, func.count()).group_by(OrgUnit.kind)).all())
        roles = set(conn.scalars(select(User.role)))
    assert kinds == {"organisation": 1, "department": summary.departments, "team": summary.teams}
    assert roles == {"admin", "analyst", "teamlead", "agent"}
    assert summary.journeys == len(JOURNEYS) and summary.surveys == len(JOURNEYS)
    assert 4 <= summary.events / summary.cases <= 10
    assert 0.3 <= summary.responses / summary.cases <= 0.6


def test_demo_logins_work(loaded):
    engine, summary = loaded
    with engine.connect() as conn:
        hashes = {login.role: conn.scalar(select(User.password_hash).where(User.email == login.email))
                  for login in summary.logins}
    assert {login.role for login in summary.logins} == {"admin", "analyst", "teamlead", "agent"}
    assert all(h.startswith("$argon2id$") for h in hashes.values())
    # argon2 is slow on purpose: check two of the four
    passwords = {login.role: login.password for login in summary.logins}
    assert verify_password(hashes["admin"], passwords["admin"])
    assert verify_password(hashes["agent"], passwords["agent"])
    assert not verify_password(hashes["admin"], passwords["agent"])


def test_every_team_has_a_lead_and_teams_have_a_line(loaded):
    engine, _ = loaded
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT u.key, u.line, SUM(CASE WHEN m.is_lead THEN 1 ELSE 0 END) AS leads "
            "FROM org_units u LEFT JOIN team_memberships m ON m.team_id = u.id "
            "WHERE u.kind = 'team' GROUP BY u.key, u.line")).all()
    assert rows and all(r.leads == 1 for r in rows)
    lines = {r.key: r.line for r in rows}
    assert lines["gn-cs-phone"] == "front" and lines["gn-ts-faults"] == "back" and lines["gn-fs-north"] is None


def test_unknown_size_is_a_clear_error(engine):
    with pytest.raises(ValidationFailed, match="demo size 'huge' is unknown"):
        load_demo(engine, size="huge")


def _fingerprint(engine) -> dict[str, str]:
    queries = {
        "customers": "SELECT external_id, language, segment, email, opted_out_at FROM customers ORDER BY external_id",
        "cases": "SELECT c.external_id, j.key, c.opened_at, c.closed_at FROM cases c JOIN journeys j ON j.id = c.journey_id "
                 "ORDER BY c.external_id",
        "events": "SELECT c.external_id, e.seq, e.activity, e.occurred_at, e.channel, e.direction, u.key "
                  "FROM case_events e JOIN cases c ON c.id = e.case_id LEFT JOIN org_units u ON u.id = e.team_id "
                  "ORDER BY c.external_id, e.seq",
        "promises": "SELECT c.external_id, p.kind, p.status, p.due_at, p.kept_at FROM promises p "
                    "JOIN cases c ON c.id = p.case_id ORDER BY c.external_id, p.made_at, p.kind, p.due_at",
        "responses": "SELECT external_id, nps, grade, ces, comment, submitted_at FROM responses ORDER BY external_id",
        "answers": "SELECT r.external_id, a.question_key, a.value_num, a.value_text FROM answers a "
                   "JOIN responses r ON r.id = a.response_id ORDER BY r.external_id, a.question_key",
    }
    out = {}
    with engine.connect() as conn:
        for name, sql in queries.items():
            h = hashlib.sha256()
            for row in conn.execute(text(sql)):
                h.update(repr(tuple(row)).encode())
            out[name] = h.hexdigest()
    return out


def test_same_seed_same_data_refusal_reset_and_progress(engine):
    seen: dict[str, tuple[int, int]] = {}
    first = load_demo(engine, size="tiny", seed=21,
                      progress=lambda stage, done, total: seen.__setitem__(stage, (done, total)))
    for stage in ("stories", "customers", "cases", "events", "responses", "answers"):
        done, total = seen[stage]
        assert done == total > 0, stage
    prints = _fingerprint(engine)

    with pytest.raises(DemoAlreadyLoaded, match="use --reset to rebuild it"):
        load_demo(engine, size="tiny", seed=21)
    assert issubclass(DemoAlreadyLoaded, ServicepulseError)

    from rich.progress import Progress

    with Progress(disable=True) as bar:
        again = load_demo(engine, size="tiny", seed=21, reset=True, progress=bar)
        assert {"stories", "events", "answers"} <= {t.description for t in bar.tasks}
        assert all(t.completed == t.total for t in bar.tasks)
    with engine.connect() as conn:
        assert _count(conn, Case) == first.cases == again.cases  # replaced, not doubled
        assert _count(conn, OrgUnit) == 1 + first.departments + first.teams
    assert _fingerprint(engine) == prints


def test_another_seed_gives_other_data():
    a, b = generate("tiny", seed=21), generate("tiny", seed=22)
    assert a.events["activity"].tolist() != b.events["activity"].tolist()
    assert a.responses["nps"].tolist() != b.responses["nps"].tolist()
    again = generate("tiny", seed=21)
    pd.testing.assert_frame_equal(a.events, again.events)
    pd.testing.assert_frame_equal(a.responses.drop(columns=["causes"]), again.responses.drop(columns=["causes"]))


def test_foreign_keys_hold(loaded):
    engine, _ = loaded
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL checks foreign keys on every insert")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # switched back on


def _frame(engine, sql: str) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(text(sql), conn)


def test_cases_agree_with_their_events(loaded):
    engine, _ = loaded
    ev = _frame(engine, "SELECT case_id, seq, occurred_at, activity, customer_facing, direction FROM case_events")
    cases = _frame(engine, "SELECT id, opened_at, closed_at FROM cases").set_index("id")
    ev["occurred_at"] = pd.to_datetime(ev["occurred_at"], utc=True)
    for col in ("opened_at", "closed_at"):
        cases[col] = pd.to_datetime(cases[col], utc=True)
    ev = ev.sort_values(["case_id", "seq"])
    # seq numbers 0..n-1 per case, in time order
    assert (ev.groupby("case_id")["seq"].apply(lambda s: list(s) == list(range(len(s))))).all()
    assert (ev.groupby("case_id")["occurred_at"].apply(lambda s: s.is_monotonic_increasing)).all()
    first = ev.groupby("case_id").head(1).set_index("case_id")
    last = ev.groupby("case_id").tail(1).set_index("case_id")
    assert set(first.index) == set(cases.index)
    assert (cases["opened_at"] == first["occurred_at"].reindex(cases.index)).all()
    closing = last["activity"].str.contains(re.compile(DEFAULT_CLOSING.replace("(", "(?:"), re.I)).reindex(cases.index)
    assert (cases["closed_at"].notna() == closing).all()
    closed = cases[cases["closed_at"].notna()]
    assert (closed["closed_at"] == last["occurred_at"].reindex(closed.index)).all()
    assert cases["closed_at"].isna().sum() > 0  # cases still open at the end of the window
    assert ev["occurred_at"].max() < END_UTC
    assert set(ev["direction"]) == {"inbound", "outbound", "internal"}


def test_the_stories_contain_what_the_brief_asks_for(loaded):
    engine, _ = loaded
    counts = _frame(engine, "SELECT activity, COUNT(*) AS n FROM case_events GROUP BY activity").set_index("activity")["n"]
    for activity in ("Call attempt outside opening hours", "Customer contacts again", "Handed to back office",
                     "Ticket closed", "Ticket reopened", "Engineer visit", "Proactive update sent",
                     "Waiting for customer", "Case resolved", "Case closed"):
        assert counts.get(activity, 0) > 0, activity


def test_promises_agree_with_their_events(loaded):
    engine, _ = loaded
    pr = _frame(engine, "SELECT case_id, kind, status, made_at, due_at, kept_at, broken_at FROM promises")
    ev = _frame(engine, "SELECT case_id, occurred_at FROM case_events WHERE customer_facing = :t".replace(
        ":t", "1" if engine.dialect.name == "sqlite" else "true"))
    for col in ("made_at", "due_at", "kept_at", "broken_at"):
        pr[col] = pd.to_datetime(pr[col], utc=True)
    ev["occurred_at"] = pd.to_datetime(ev["occurred_at"], utc=True)
    assert set(pr["status"]) == {"kept", "broken", "open"}
    assert set(pr["kind"]) == {"callback", "appointment", "resolved_by", "reply_by"}
    kept, broken, open_ = (pr[pr["status"] == s] for s in ("kept", "broken", "open"))
    assert kept["kept_at"].notna().all() and (kept["kept_at"] <= kept["due_at"]).all()
    assert kept["broken_at"].isna().all() and broken["kept_at"].isna().all()
    assert (broken["broken_at"] == broken["due_at"]).all() and (broken["due_at"] < END_UTC).all()
    assert (open_["due_at"] >= END_UTC).all() and open_["kept_at"].isna().all() and open_["broken_at"].isna().all()
    assert (pr["made_at"] <= pr["due_at"]).all()
    # a kept promise is kept by a customer-facing event of its case at that moment
    facing = set(zip(ev["case_id"], ev["occurred_at"]))
    assert all((c, t) in facing for c, t in zip(kept["case_id"], kept["kept_at"]))


def test_responses_follow_their_cases(loaded):
    engine, _ = loaded
    r = _frame(engine, """
        SELECT r.id, r.nps, r.grade, r.ces, r.language, r.submitted_at, r.moment_id, r.comment,
               c.closed_at, cu.language AS customer_language, cu.opted_out_at, s.moment_id AS survey_moment
        FROM responses r JOIN cases c ON c.id = r.case_id JOIN customers cu ON cu.id = r.customer_id
        JOIN survey_versions v ON v.id = r.survey_version_id JOIN surveys s ON s.id = v.survey_id""")
    for col in ("submitted_at", "closed_at"):
        r[col] = pd.to_datetime(r[col], utc=True)
    assert (r["submitted_at"] > r["closed_at"]).all() and (r["submitted_at"] < END_UTC).all()
    assert (r["language"] == r["customer_language"]).all()
    assert r["opted_out_at"].isna().all()
    assert (r["moment_id"] == r["survey_moment"]).all()
    assert set(r["language"]) == {"nl", "en"}
    assert 0.7 <= (r["language"] == "nl").mean() <= 0.95
    a = _frame(engine, "SELECT response_id, question_key, value_num, value_text FROM answers")
    head = a[a["question_key"].isin(["nps", "grade", "ces"])].pivot(index="response_id", columns="question_key",
                                                                       values="value_num")
    r = r.set_index("id")
    for key in ("nps", "grade", "ces"):
        assert (head[key].reindex(r.index) == r[key]).all()
    why = a[a["question_key"] == "why"].set_index("response_id")["value_text"]
    assert (why == r["comment"].reindex(why.index)).all()
    assert r["comment"].notna().sum() == len(why)
    assert a[a["question_key"].str.startswith("moment_")]["value_num"].between(1, 10).all()


def test_clashing_data_is_a_clear_error_and_nothing_is_written(engine):
    from servicepulse.db.session import UnitOfWork
    from servicepulse.demo import DemoConflict
    from servicepulse.org.service import create_user

    with UnitOfWork(engine) as session:  # someone made the demo admin by hand
        create_user(session, "admin@demo.servicepulse", "Hand made", "a-long-password", "admin")
    with pytest.raises(DemoConflict, match="clashes with the demo .*use --reset"):
        load_demo(engine, size="tiny", seed=1)
    with engine.connect() as conn:
        assert _count(conn, Case) == 0 and _count(conn, OrgUnit) == 0 and _count(conn, User) == 1


def test_an_end_date_moves_the_year_by_whole_weeks_in_local_time():
    fixed = generate("tiny", seed=21)
    moved = generate("tiny", seed=21, end_date=date(2027, 3, 17))  # a Wednesday; 2026-10-31 is a Saturday
    assert (fixed.first_day, fixed.last_day) == (date(2025, 11, 1), date(2026, 10, 31))
    assert moved.last_day == date(2027, 3, 13) and moved.last_day.weekday() == fixed.last_day.weekday()
    assert moved.first_day == date(2026, 3, 14)
    weeks = pd.Timedelta(weeks=19)

    def local(values):
        return pd.DatetimeIndex(values).tz_convert("Europe/Amsterdam").tz_localize(None)

    # the same stories, at the same local wall-clock times and weekdays (the move crosses a DST change)
    assert (local(moved.events["occurred_at"]) - local(fixed.events["occurred_at"]) == weeks).all()
    # answers come a real (UTC) delay after the case closed, also in the moved year
    def delay(data):
        return (data.responses["submitted_at"] - data.responses["closed_at"]).tolist()

    assert delay(moved) == delay(fixed)
    assert (local(moved.promises["due_at"]) - local(fixed.promises["due_at"]) == weeks).all()
    assert moved.events["activity"].tolist() == fixed.events["activity"].tolist()
    end = pd.Timestamp(moved.last_day + timedelta(days=1), tz="Europe/Amsterdam")
    assert moved.events["occurred_at"].max() < end and moved.responses["submitted_at"].max() < end
