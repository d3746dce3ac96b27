"""Invitations past their expiry are marked 'expired', by the job that sending schedules; the clock is the test's."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.invitations import service
from servicepulse.jobs import enqueue, run_pending
from servicepulse.metrics import survey_repository as repository
from servicepulse.models import Invitation, Response, utcnow

from .support import add_customer, seed_world, sent_invitation

T0 = utcnow().replace(microsecond=0) - timedelta(days=30)


def _drain(engine, now):
    while run_pending(engine, now=now, limit=50).claimed:
        pass


def test_expiry_marks_only_unanswered_sent_invitations_and_the_rate_keeps_them_as_sent(engine):
    with UnitOfWork(engine) as s:
        survey = seed_world(s)["survey"]
        made = {}
        for name in ("quiet", "partial", "answered", "api_answered", "later", "scheduled", "cancelled"):
            customer = add_customer(s, name, email=f"{name}@example.nl")
            sent_at = T0 + timedelta(days=10) if name == "later" else T0
            invitation, _ = sent_invitation(s, survey, customer, sent_at, expires_days=14)
            made[name] = invitation
        made["scheduled"].status, made["scheduled"].sent_at = "scheduled", None
        made["cancelled"].status, made["cancelled"].sent_at = "cancelled", None
        made["answered"].status = "responded"
        for name, completed in (("partial", False), ("answered", True), ("api_answered", True)):
            invitation = made[name]
            s.add(Response(survey_version_id=invitation.survey_version_id, invitation_id=invitation.id,
                           customer_id=invitation.customer_id, submitted_at=T0 + timedelta(days=1),
                           completed=completed, ces=5, channel="email"))
        names = {invitation.customer_id: name for name, invitation in made.items()}
        survey_id = survey.id

    def statuses():
        with UnitOfWork(engine, readonly=True) as s:
            return {names[i.customer_id]: i.status for i in s.scalars(select(Invitation))}

    def totals():
        with UnitOfWork(engine, readonly=True) as s:
            [t] = repository.totals(s, survey_id)
            return t.invitations_sent, t.invitations_answered

    before = statuses()
    assert totals() == (5, 2)  # by hand: quiet, partial, answered, api_answered, later; answered twice

    with UnitOfWork(engine) as s:
        assert service.expire_overdue(s, T0 + timedelta(days=14) - timedelta(seconds=1)) == 0
    assert statuses() == before
    with UnitOfWork(engine) as s:  # the very moment `resolve` starts refusing the link
        assert service.expire_overdue(s, T0 + timedelta(days=14)) == 2
    assert statuses() == before | {"quiet": "expired", "partial": "expired"}
    assert totals() == (5, 2)  # expired ones still count as sent: the rate's denominator does not move
    with UnitOfWork(engine) as s:
        assert service.expire_overdue(s, T0 + timedelta(days=24)) == 1
        assert service.expire_overdue(s, T0 + timedelta(days=24)) == 0  # idempotent
    assert statuses() == before | {"quiet": "expired", "partial": "expired", "later": "expired"}
    assert totals() == (5, 2)


def test_sending_schedules_the_expire_job_at_the_expiry_time(engine, smtp):
    with UnitOfWork(engine) as s:
        survey = seed_world(s)["survey"]
        invitation = service.create_invitation(s, survey.id, add_customer(s, "C-job"), T0, expires_days=14)
        enqueue(s, "invitations.send", {"invitation_id": invitation.id}, run_at=T0)
        invitation_id = invitation.id

    def status():
        with UnitOfWork(engine, readonly=True) as s:
            return s.get(Invitation, invitation_id).status

    sent_at = T0 + timedelta(minutes=5)
    _drain(engine, sent_at)
    assert status() == "sent" and len(smtp.inbox.wait_for(1)) == 1
    _drain(engine, sent_at + timedelta(days=14) - timedelta(minutes=1))
    assert status() == "sent"
    _drain(engine, sent_at + timedelta(days=14))
    assert status() == "expired"
