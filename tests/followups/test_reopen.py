"""Reopen on a negative answer: with the `not_solved` rule on, a customer who answers "no" to "Is your
problem solved?" (or uses risk words) gets an event in their case, written through the cases domain, and
the source system hears it through the signed webhook, at a real HTTP receiver on loopback."""

from __future__ import annotations

from sqlalchemy import func, select

from servicepulse.db.session import UnitOfWork
from servicepulse.followups import alerts, config, reopen
from servicepulse.jobs.queue import run_pending
from servicepulse.models import CaseEvent, FollowUpReason
from servicepulse.responses.service import ingest
from servicepulse.responses.webhooks_out import add_endpoint
from tests.http_receiver import WebhookReceiver

from .conftest import NOW, actor

SECRET = "a-long-enough-webhook-secret"


def _answer(engine, external_id: str, resolved: str, why: str = "") -> int:
    item = {"external_id": external_id, "survey": "after_contact", "customer": "C-1", "case": "K-1",
            "submitted_at": NOW.isoformat(), "language": "nl",
            "answers": {"ces": 5, "grade": 7, "resolved": resolved, "why": why}}
    with UnitOfWork(engine) as s:
        return ingest(s, item, now=NOW).new_response_ids[0]


def _run_jobs(engine) -> int:
    """Run the queue dry (jobs queue further jobs: the rules queue the webhooks); returns failures."""
    failed = 0
    while (summary := run_pending(engine, now=NOW, limit=50)).claimed:
        failed += summary.failed
    return failed


def _reopen_events(engine) -> list[tuple[str, str]]:
    with UnitOfWork(engine, readonly=True) as s:
        return [tuple(r) for r in s.execute(select(CaseEvent.external_id, CaseEvent.activity)
                                            .where(CaseEvent.case_id.is_not(None),
                                                   CaseEvent.activity == reopen.ACTIVITY)
                                            .order_by(CaseEvent.external_id))]


def test_a_not_solved_answer_reopens_the_case_and_the_webhook_tells_the_source_system(engine, org):
    import servicepulse.followups.jobs  # noqa: F401  (the job handlers, as the app installs them)

    with WebhookReceiver(secret=SECRET) as receiver:
        with UnitOfWork(engine) as s:
            add_endpoint(s, "helpdesk", receiver.url, secret=SECRET)
        solved = _answer(engine, "R-yes", "yes")
        _run_jobs(engine)
        assert _reopen_events(engine) == []  # the rule is off by default

        with UnitOfWork(engine) as s:
            config.set_rule(s, actor(engine, org.users["admin"]), "not_solved", enabled=True, priority=1)
        not_solved = _answer(engine, "R-no", "no")
        words = _answer(engine, "R-words", "yes", why="Als dit zo doorgaat stap ik over naar een andere provider")
        assert _run_jobs(engine) == 0

        assert _reopen_events(engine) == [(f"servicepulse:reopen:response:{not_solved}", reopen.ACTIVITY),
                                          (f"servicepulse:reopen:response:{words}", reopen.ACTIVITY)]
        calls = [c for c in receiver.calls if c["event"] == "case.reopened"]
        assert len(calls) == 2 and all(c["valid"] for c in calls)
        bodies = sorted((c["body"]["response"]["external_id"], c["body"]["reason"]["summary"]) for c in calls)
        assert bodies == [("R-no", "problem not solved"), ("R-words", "not solved: risk words cancel")]
        assert {c["body"]["case"]["external_id"] for c in calls} == {"K-1"}
        assert all(c["body"]["followup"]["id"] for c in calls)
        # the response webhook went to the same endpoint as before, told apart by its event name
        assert {c["event"] for c in receiver.calls} == {"response.created", "case.reopened"}

        # running the rules again writes no second event and announces nothing twice
        with UnitOfWork(engine) as s:
            alerts.run_all(s, NOW)
        _run_jobs(engine)
        assert len(_reopen_events(engine)) == 2
        assert len([c for c in receiver.calls if c["event"] == "case.reopened"]) == 2
    with UnitOfWork(engine, readonly=True) as s:
        rules = dict(s.execute(select(FollowUpReason.ref, func.count()).where(FollowUpReason.rule == "not_solved")
                               .group_by(FollowUpReason.ref)).all())
    assert rules == {f"response:{not_solved}": 1, f"response:{words}": 1} and f"response:{solved}" not in rules
