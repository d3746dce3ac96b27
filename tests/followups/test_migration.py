"""The migration to follow-up reasons: every existing follow-up gets its cause as its first reason, and the
twins an earlier version opened for one response (one per rule) fold into the oldest unless somebody has
worked on them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, text

from servicepulse.db.migrate import current_revision, downgrade, head_revision, upgrade
from servicepulse.db.session import UnitOfWork
from servicepulse.models import FollowUp, FollowUpReason

from .conftest import NOW, add_response

REVISION = "0002_followup_reasons"


def _followup(conn, cause: str, response_id: int, priority: int, due_days: int, team: int) -> int:
    conn.execute(text("INSERT INTO followups (cause, cause_ref, response_id, customer_id, team_id, priority, status, "
                      "created_at, due_at, summary, version) VALUES (:cause, :ref, :rid, 1, :team, :p, 'open', "
                      ":created, :due, :summary, 1)"),
                 {"cause": cause, "ref": f"response:{response_id}", "rid": response_id, "team": team, "p": priority,
                  "created": NOW, "due": NOW + timedelta(days=due_days), "summary": cause})
    return conn.execute(text("SELECT id FROM followups WHERE cause = :c AND cause_ref = :r"),
                        {"c": cause, "r": f"response:{response_id}"}).scalar()


def test_existing_follow_ups_get_reasons_and_untouched_twins_fold(engine, org):
    twins = add_response(engine, "R-1", ces=1, grade=2, why="", now=NOW - timedelta(hours=2))
    single = add_response(engine, "R-2", ces=6, grade=3, why="", now=NOW - timedelta(hours=1))
    downgrade(engine, "0001")
    with engine.begin() as conn:
        keeper = _followup(conn, "low_grade", twins, 2, 3, org.team_a)
        folded = _followup(conn, "risk_word", twins, 1, 2, org.team_a)
        worked = _followup(conn, "high_effort_answer", twins, 2, 2, org.team_a)
        conn.execute(text("INSERT INTO followup_contacts (followup_id, at, note) VALUES (:f, :at, 'gebeld')"),
                     {"f": worked, "at": NOW})
        alone = _followup(conn, "low_grade", single, 2, 2, org.team_a)
    upgrade(engine, REVISION)
    with UnitOfWork(engine, readonly=True) as s:
        found = {f.id: (f.priority, f.due_at) for f in s.scalars(select(FollowUp))}
        reasons = [(r.followup_id, r.rule, r.ref, r.at) for r in s.scalars(select(FollowUpReason)
                                                                          .order_by(FollowUpReason.id))]
    assert sorted(found) == sorted([keeper, worked, alone])  # the untouched twin is folded away
    assert found[keeper] == (1, NOW + timedelta(days=2))  # the folded twin's urgency and due time
    assert sorted(reasons) == sorted([
        (keeper, "low_grade", f"response:{twins}", NOW - timedelta(hours=2)),
        (keeper, "risk_word", f"response:{twins}", NOW - timedelta(hours=2)),
        (worked, "high_effort_answer", f"response:{twins}", NOW - timedelta(hours=2)),
        (alone, "low_grade", f"response:{single}", NOW - timedelta(hours=1))])
    assert folded not in found
    upgrade(engine)
    assert current_revision(engine) == head_revision()
