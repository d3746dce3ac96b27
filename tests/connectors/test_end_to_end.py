"""End to end, by e-mail (SMS is built by another part of issue #19): a Zendesk "ticket solved" webhook
arrives, the trigger rule on "Ticket resolved" invites the customer, the e-mail reaches the loopback SMTP
server, the customer opens the link and answers, and the response belongs to the Zendesk case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.invitations import rules
from servicepulse.jobs import run_pending
from servicepulse.models import Case, Invitation, Response
from servicepulse.models.invitations import TriggerDecision

from ..invitations.support import add_customer, configure, seed_world, start_smtp, text_part, token_in
from ..web.conftest import csrf_from
from .conftest import counts, post_zendesk, zendesk_event


def _drain(engine, now):
    while run_pending(engine, now=now, limit=50).claimed:
        pass


def test_ticket_solved_in_zendesk_leads_to_an_answered_survey(engine, client, monkeypatch):
    controller, smtp = start_smtp()
    try:
        configure(monkeypatch, smtp)
        now = datetime.now(UTC).replace(microsecond=0)
        with UnitOfWork(engine) as s:
            seed_world(s)  # the shipped after_contact survey
            rules.upsert_rule(s, {"key": "zendesk-solved", "survey": "after_contact", "activity": "Ticket resolved",
                                  "delay": "30m", "require_closed": True, "reminder_after_days": None})
            # the customer as the customer import knows them, with the Zendesk requester id as external id
            add_customer(s, "zendesk:20978392", email="sanne@example.nl", language="nl", name="Sanne de Vries")

        created = zendesk_event("created", 35436, now - timedelta(hours=2), {"current": {"status": "NEW"}},
                                event_id="01HN-CREATED", status="NEW", channel="email")
        solved = zendesk_event("status_changed", 35436, now - timedelta(minutes=1),
                               {"current": "SOLVED", "previous": "OPEN"}, event_id="01HN-SOLVED", status="SOLVED",
                               channel="email")
        assert post_zendesk(client, created).json()["stored"] == 1
        assert post_zendesk(client, solved).json()["stored"] == 1
        with UnitOfWork(engine, readonly=True) as s:
            case = s.scalar(select(Case).where(Case.external_id == "zendesk:35436"))
            assert case.closed_at == now - timedelta(minutes=1)  # "Ticket resolved" closes the case
            case_id = case.id

        _drain(engine, now)
        with UnitOfWork(engine, readonly=True) as s:  # matched; the decision waits for the rule's 30 minutes
            assert s.scalars(select(TriggerDecision)).all() == [] and smtp.inbox.messages == []
        # a retried webhook changes nothing, also not what the trigger does
        before = counts(engine)
        assert post_zendesk(client, solved).json()["duplicates"] == 1
        assert counts(engine) == before

        _drain(engine, now + timedelta(minutes=30))
        with UnitOfWork(engine, readonly=True) as s:
            [decision] = s.scalars(select(TriggerDecision)).all()
            assert decision.reason == "invited" and decision.case_id == case_id
            invitation = s.get(Invitation, decision.invitation_id)
            assert (invitation.status, invitation.channel, invitation.case_id) == ("sent", "email", case_id)
            invitation_id = invitation.id
        [message] = smtp.inbox.wait_for(1)
        assert message["To"].addresses[0].addr_spec == "sanne@example.nl"
        assert message["Subject"] == "Hoe was uw contact met ons?"
        token = token_in(message)
        assert "Beste Sanne de Vries" in text_part(message)

        page = client.get(f"/s/{token}")
        assert page.status_code == 200 and "Hoe was uw contact met ons?" in page.text
        done = client.post(f"/s/{token}", data={"csrf_token": csrf_from(page.text), "q_ces": "6", "q_grade": "8",
                                                "q_resolved": "yes", "action": "submit"}, follow_redirects=False)
        assert done.status_code == 303
        with UnitOfWork(engine, readonly=True) as s:
            response = s.scalar(select(Response).where(Response.invitation_id == invitation_id))
            assert (response.completed, response.ces, response.grade, response.case_id) == (True, 6, 8, case_id)
    finally:
        controller.stop()
