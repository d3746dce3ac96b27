"""Claim, log contact, close; refusals for bad input; concurrent claims on both databases."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.errors import ValidationFailed
from servicepulse.followups import alerts, service
from servicepulse.followups.errors import Conflict, NotAllowed
from servicepulse.models import FollowUp, FollowUpContact, Invitation, Job
from servicepulse.models.followups import AlertRouting, Resurvey

from .conftest import NOW, actor, add_response


@pytest.fixture
def followup(engine, org) -> int:
    """One open follow-up (low grade) owned by team A."""
    with UnitOfWork(engine) as s:
        s.add(AlertRouting(moment_id=org.moment, team_id=org.team_a))
    add_response(engine, "R-1", ces=6, grade=3, why="")
    with UnitOfWork(engine) as s:
        (fid,) = alerts.evaluate_responses(s, None, NOW)
    return fid


def _load(engine, fid):
    with UnitOfWork(engine, readonly=True) as s:
        fu = s.get(FollowUp, fid)
        contacts = list(s.scalars(select(FollowUpContact).where(FollowUpContact.followup_id == fid)))
        s.expunge_all()
        return fu, contacts


def test_claim_contact_close_with_resurvey(engine, org, followup):
    agent = actor(engine, org.users["agent_a"])
    with UnitOfWork(engine) as s:
        assert [f.id for f in service.work_list(s, agent)] == [followup]
        service.claim(s, agent, followup, NOW + timedelta(hours=1))
    with UnitOfWork(engine) as s:
        assert [f.id for f in service.work_list(s, agent, mine=True)] == [followup]
        service.log_contact(s, agent, followup, "Niet bereikt", "unreachable", NOW + timedelta(hours=2))
        service.log_contact(s, agent, followup, "Gebeld, fout in factuur uitgelegd", "explained",
                            NOW + timedelta(hours=3))
    with UnitOfWork(engine) as s:
        service.close(s, agent, followup, "explained", "billing_error", NOW + timedelta(hours=4), resurvey=True)
    fu, contacts = _load(engine, followup)
    assert (fu.status, fu.outcome, fu.root_cause, fu.assignee_id) == ("closed", "explained", "billing_error",
                                                                      org.users["agent_a"])
    assert fu.claimed_at == NOW + timedelta(hours=1)
    # an unreachable attempt is not a contact with the customer
    assert fu.first_contact_at == NOW + timedelta(hours=3)
    assert [c.outcome for c in contacts] == ["unreachable", "explained"]
    with UnitOfWork(engine, readonly=True) as s:
        resurvey = s.get(Resurvey, followup)
        invitation = s.get(Invitation, resurvey.invitation_id)
        assert invitation.customer_id == org.customer and invitation.status == "scheduled"
        assert s.scalar(select(Job.id).where(Job.kind == "invitations.send")) is not None


def test_closing_twice_is_refused_and_changes_nothing(engine, org, followup):
    agent = actor(engine, org.users["agent_a"])
    with UnitOfWork(engine) as s:
        service.claim(s, agent, followup, NOW)
        service.close(s, agent, followup, "resolved", "communication", NOW + timedelta(hours=1))
    with pytest.raises(Conflict, match="closed already"):
        with UnitOfWork(engine) as s:
            service.close(s, agent, followup, "compensated", "billing_error", NOW + timedelta(hours=2))
    fu, _ = _load(engine, followup)
    assert (fu.outcome, fu.root_cause, fu.closed_at) == ("resolved", "communication", NOW + timedelta(hours=1))


def test_bad_close_input_names_the_fields(engine, org, followup):
    agent = actor(engine, org.users["agent_a"])
    with UnitOfWork(engine) as s:
        service.claim(s, agent, followup, NOW)
    with pytest.raises(ValidationFailed) as info:
        with UnitOfWork(engine) as s:
            service.close(s, agent, followup, "happy", "weather", NOW)
    assert {f for f, _ in info.value.problems} == {"outcome", "root_cause"}
    assert _load(engine, followup)[0].status == "claimed"


def test_outsiders_and_readers_cannot_claim(engine, org, followup):
    for who in ("agent_b", "analyst", "admin"):
        with pytest.raises(NotAllowed):
            with UnitOfWork(engine) as s:
                service.claim(s, actor(engine, org.users[who]), followup, NOW)
    assert _load(engine, followup)[0].status == "open"
    # a colleague cannot log on a follow-up claimed by someone else; the team lead can
    with UnitOfWork(engine) as s:
        service.claim(s, actor(engine, org.users["agent_a"]), followup, NOW)
    with pytest.raises(NotAllowed, match="claimed by a colleague"):
        with UnitOfWork(engine) as s:
            service.log_contact(s, actor(engine, org.users["agent_a2"]), followup, "hallo", None, NOW)
    with UnitOfWork(engine) as s:
        service.log_contact(s, actor(engine, org.users["lead"]), followup, "Lead belde", "resolved", NOW)


def test_two_people_claiming_at_the_same_moment(engine, org, followup):
    people = [actor(engine, org.users["agent_a"]), actor(engine, org.users["agent_a2"])]
    barrier = threading.Barrier(len(people))
    results: dict[int, str] = {}

    def claim(who):
        barrier.wait()
        try:
            with UnitOfWork(engine) as s:
                service.claim(s, who, followup, NOW)
            results[who.id] = "ok"
        except Conflict as exc:
            results[who.id] = str(exc)

    threads = [threading.Thread(target=claim, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outcomes = sorted(results.values())
    assert outcomes[1] == "ok" and outcomes[0].startswith(f"follow-up {followup} is claimed already by")
    winner = next(uid for uid, r in results.items() if r == "ok")
    fu, _ = _load(engine, followup)
    assert (fu.status, fu.assignee_id, fu.version) == ("claimed", winner, 2)


def test_overdue_follow_ups_escalate_once(engine, org, followup):
    with UnitOfWork(engine) as s:
        assert service.escalate_overdue(s, NOW + timedelta(days=1)) == []
    with UnitOfWork(engine) as s:
        assert service.escalate_overdue(s, NOW + timedelta(days=3)) == [followup]
    with UnitOfWork(engine) as s:
        assert service.escalate_overdue(s, NOW + timedelta(days=4)) == []
        jobs = list(s.scalars(select(Job).where(Job.kind == "followups.notify")))
        assert [j.payload.get("email") for j in jobs] == ["lead@example.org"]
    assert _load(engine, followup)[0].escalated_at == NOW + timedelta(days=3)


def test_escalation_runs_as_a_chain_of_jobs(engine, org, followup):
    from servicepulse.followups.jobs import ESCALATE_JOB, schedule_escalation
    from servicepulse.jobs.queue import run_pending

    with UnitOfWork(engine) as s:
        schedule_escalation(s, NOW)
        schedule_escalation(s, NOW + timedelta(minutes=1))  # same slot: still one job
    run_pending(engine, now=NOW + timedelta(days=3))
    with UnitOfWork(engine, readonly=True) as s:
        jobs = list(s.scalars(select(Job).where(Job.kind == ESCALATE_JOB).order_by(Job.run_at)))
        assert [j.status for j in jobs] == ["done", "queued"]  # ran once and queued the next run
        assert jobs[1].run_at == NOW + timedelta(days=3, minutes=15)
        assert s.get(FollowUp, followup).escalated_at == NOW + timedelta(days=3)
