"""Alerts open one follow-up per response, listing every rule it tripped, for the right team, also when
evaluated concurrently; later reasons of the customer merge into it (tests/followups/test_merging.py)."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from servicepulse.db.session import UnitOfWork
from servicepulse.followups import alerts
from servicepulse.jobs.queue import run_pending
from servicepulse.models import FollowUp, FollowUpReason, Job, Promise
from servicepulse.models.followups import AlertRouting, AlertRule

from .conftest import NOW, add_response


def _followups(engine):
    with UnitOfWork(engine, readonly=True) as s:
        rows = list(s.scalars(select(FollowUp).order_by(FollowUp.id)))
        s.expunge_all()  # detached before the read-only rollback expires them
        return rows


def _reasons(engine) -> list[tuple[int, str, str]]:
    with UnitOfWork(engine, readonly=True) as s:
        return [tuple(r) for r in s.execute(select(FollowUpReason.followup_id, FollowUpReason.rule, FollowUpReason.ref)
                                            .order_by(FollowUpReason.followup_id, FollowUpReason.rule))]


def test_ingestion_queues_the_rules_and_the_job_opens_follow_ups(engine, org):
    detractor = add_response(engine, "R-1", ces=2, grade=4, why="Ik ga opzeggen, dit is een klacht", case="K-1")
    add_response(engine, "R-2", ces=6, grade=8, why="Snel geholpen")
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(Job).where(Job.kind == alerts.EVALUATE_JOB)) == 2
    assert _followups(engine) == []  # nothing before the job ran: ingestion never waits for the rules
    summary = run_pending(engine, now=NOW)
    assert summary.failed == 0
    (fu,) = _followups(engine)  # one follow-up for the response, not one per rule
    assert fu.response_id == detractor and fu.status == "open"
    # the moment belongs to the department; the case's last team (B) is in it, so B owns it
    assert fu.team_id == org.team_b
    assert fu.due_at == NOW + timedelta(days=2)  # Monday -> Wednesday, same time
    assert (fu.cause, fu.priority) == ("risk_word", 1)  # headed by the most urgent reason
    assert _reasons(engine) == [(fu.id, rule, f"response:{detractor}")
                                for rule in ("high_effort_answer", "low_grade", "risk_word")]


def test_running_the_rules_again_opens_nothing_new(engine, org):
    add_response(engine, "R-1", ces=1, grade=2, why="slecht")
    with UnitOfWork(engine) as s:
        first = alerts.run_all(s, NOW)
    with UnitOfWork(engine) as s:
        again = alerts.run_all(s, NOW)
    assert first["responses"] == 1 and again == {"responses": 0, "cases": 0, "merged": 0}
    assert len(_followups(engine)) == 1 and len(_reasons(engine)) == 2


def test_concurrent_evaluations_open_one_follow_up_with_each_reason_once(engine, org):
    rid = add_response(engine, "R-1", ces=1, grade=2, why="klacht")
    barrier = threading.Barrier(4)
    errors = []

    def evaluate():
        try:
            barrier.wait()
            with UnitOfWork(engine) as s:
                alerts.evaluate_responses(s, [rid], NOW)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=evaluate) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    (fu,) = _followups(engine)
    assert sorted(rule for _, rule, _ in _reasons(engine)) == ["high_effort_answer", "low_grade", "risk_word"]


def test_configured_routing_and_rule_settings_win(engine, org):
    with UnitOfWork(engine) as s:
        s.add(AlertRouting(moment_id=org.moment, team_id=org.team_a))
        s.add(AlertRule(key="low_grade", enabled=False, priority=2, due_working_days=2))
        s.add(AlertRule(key="high_effort_answer", enabled=True, threshold=2, priority=3, due_working_days=5))
    add_response(engine, "R-1", ces=2, grade=1, why="")
    with UnitOfWork(engine) as s:
        alerts.run_all(s, NOW)
    (fu,) = _followups(engine)
    assert (fu.cause, fu.team_id, fu.priority) == ("high_effort_answer", org.team_a, 3)
    assert fu.due_at == NOW + timedelta(days=7)  # five working days from Monday: next Monday


def test_a_broken_promise_opens_one_follow_up_for_the_promising_team(engine, org):
    with UnitOfWork(engine) as s:
        s.add(Promise(case_id=org.case, kind="callback", made_at=NOW - timedelta(days=3),
                      due_at=NOW - timedelta(days=1), status="broken", broken_at=NOW - timedelta(days=1),
                      made_by_team_id=org.team_a))
        s.add(Promise(case_id=org.case, kind="callback", made_at=NOW - timedelta(days=3),
                      due_at=NOW + timedelta(days=1), status="open"))
    with UnitOfWork(engine) as s:
        assert alerts.run_all(s, NOW)["cases"] == 1
    (fu,) = _followups(engine)
    assert (fu.cause, fu.case_id, fu.team_id, fu.priority) == ("broken_promise", org.case, org.team_a, 1)


def test_a_high_effort_index_opens_one_follow_up_for_the_last_team(engine, org):
    from servicepulse.models import Case, CaseFacts

    numbers = dict(events=5, throughput_days=3.0, inbound_contacts=3, repeat_contacts=2, after_hours_contacts=0,
                   channel_switches=1, handoffs=2, front_to_back=1, back_to_front=1, ping_pong=0,
                   dark_period_hours=30.0, closed=True, reopenings=0, first_time_right=False,
                   waiting_on_customer_hours=0.0, closed_hours=0.0, waiting_on_us_hours=40.0)
    with UnitOfWork(engine) as s:
        calm = Case(external_id="K-2", customer_id=org.customer, journey_id=org.journey, last_team_id=org.team_a)
        s.add(calm)
        s.flush()
        s.add(CaseFacts(case_id=org.case, started_at=NOW, ended_at=NOW, effort_index=85.0, **numbers))
        s.add(CaseFacts(case_id=calm.id, started_at=NOW, ended_at=NOW, effort_index=40.0, **numbers))
    with UnitOfWork(engine) as s:
        assert alerts.run_all(s, NOW) == {"responses": 0, "cases": 1, "merged": 0}
    (fu,) = _followups(engine)
    assert (fu.cause, fu.case_id, fu.team_id) == ("high_effort_index", org.case, org.team_b)
    assert fu.summary == "effort index 85"
