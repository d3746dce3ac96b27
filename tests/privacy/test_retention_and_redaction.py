"""Retention with a controlled clock (the service and the daily job), and redaction at write time."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from servicepulse.db.session import UnitOfWork
from servicepulse.jobs import enqueue, run_pending
from servicepulse.models import Answer, AuditEntry, CaseEvent, FollowUpContact, Invitation, Job, Response, Verbatim
from servicepulse.privacy import RetentionSettings, run_retention
from tests.followups.conftest import NOW

from .conftest import BSN, COMMENT, IBAN, NOTE, PII, TEXT_EMAIL, _ingest, build_org, dump_all


def test_retention_removes_what_is_past_its_time(engine, subject):
    later = NOW + timedelta(days=40)
    fresh = _ingest(engine, "RESP-FRESH", "C-1", grade=9, why="Heel vriendelijk", at=later)
    settings = RetentionSettings(comments_days=30, responses_days=0, case_events_days=30, invitations_days=0,
                                 contact_notes_days=30, audit_log_days=30)
    with UnitOfWork(engine) as s:
        removed = run_retention(s, later + timedelta(days=1), settings)
    assert removed["comments"] > 0 and removed["case_events"] == 3 and removed["contact_notes"] == 2
    assert removed["responses"] == 0 and removed["invitations"] == 0
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(Response.comment).where(Response.id == fresh)) == "Heel vriendelijk"
        old = s.scalars(select(Response.comment).where(Response.id.in_(subject.response_ids))).all()
        assert old == [None, None]
        assert s.scalar(select(func.count()).select_from(Answer).where(
            Answer.response_id.in_(subject.response_ids), Answer.value_text.is_not(None),
            Answer.question_key == "why")) == 0
        assert {v.text for v in s.scalars(select(Verbatim).where(Verbatim.response_id.in_(subject.response_ids)))} <= {""}
        assert s.scalar(select(func.count()).select_from(CaseEvent)) == 0
        assert s.scalar(select(FollowUpContact.note)) == ""
        assert s.scalar(select(Invitation.id)) is not None
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "retention.run"))
        assert entry.details["removed"] == removed and entry.details["days"]["comments"] == 30
    assert NOTE not in dump_all(engine)
    # responses past their time go with their scores: the aggregate keeps matching the raw rows
    with UnitOfWork(engine) as s:
        removed = run_retention(s, later + timedelta(days=1), RetentionSettings(responses_days=30))
    assert removed["responses"] == 3
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalars(select(Response.id)).all() == [fresh]


def test_the_daily_job_runs_and_queues_the_next_run(engine, subject):
    at = NOW + timedelta(days=3000)
    with UnitOfWork(engine) as s:
        enqueue(s, "privacy.retention", {}, run_at=at)
    run_pending(engine, now=at, limit=100)
    with UnitOfWork(engine, readonly=True) as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "retention.run"))
        assert entry is not None and entry.actor == "job" and entry.at == at
        assert entry.details["removed"]["responses"] == 3  # default: 1095 days
        nxt = s.scalar(select(Job).where(Job.kind == "privacy.retention", Job.status == "queued"))
        assert nxt is not None and nxt.run_at > at


def test_no_unredacted_open_answer_is_stored(engine):
    build_org(engine)
    _ingest(engine, "RESP-PII", "C-1", grade=4, why=COMMENT)
    while run_pending(engine, now=NOW + timedelta(hours=1), limit=50).claimed:
        pass
    dump = dump_all(engine)
    assert not [p for p in (TEXT_EMAIL, IBAN, BSN) if p in dump]
    with UnitOfWork(engine, readonly=True) as s:
        comment = s.scalar(select(Response.comment))
    assert "[EMAIL]" in comment and "[IBAN]" in comment and "[BSN]" in comment and "monteur" in comment


def test_known_names_and_the_original_policy(engine, subject, monkeypatch):
    with UnitOfWork(engine, readonly=True) as s:
        texts = [*s.scalars(select(Response.comment).where(Response.id.in_(subject.response_ids))),
                 *s.scalars(select(Answer.value_text).where(Answer.response_id.in_(subject.response_ids))),
                 *s.scalars(select(Verbatim.text)), *s.scalars(select(Verbatim.original))]
    stored = " ".join(t for t in texts if t)
    assert "[NAME]" in stored and not [p for p in PII if p in stored]  # the customer's own first name too
    monkeypatch.setenv("SERVICEPULSE_VERBATIMS_RETENTION", "original")
    _ingest(engine, "RESP-ORIG", "C-1", grade=4, why=f"Mijn IBAN is {IBAN}")
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(Response.comment).where(Response.external_id == "RESP-ORIG")) == f"Mijn IBAN is {IBAN}"
