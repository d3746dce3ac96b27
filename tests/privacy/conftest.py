"""A customer with everything the product can hold on them: responses with personal data in the open
answer, verbatims, invitations with tokens, a trigger decision, a case with events, a promise, a signal, a
forecast, a follow-up with a contact note and a gesture, and jobs that name them. Next to them another
customer (of tests/followups/conftest.py) whose data must stay."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.followups import alerts
from servicepulse.jobs import enqueue, run_pending
from servicepulse.models import (
    Base,
    Case,
    CaseEvent,
    Customer,
    FollowUp,
    FollowUpContact,
    ForecastSnapshot,
    Gesture,
    Invitation,
    InvitationToken,
    Job,
    Promise,
    Signal,
    SignalRule,
    SurveyVersion,
    TriggerDecision,
    TriggerRule,
)
from servicepulse.responses import refresh_daily_counts
from servicepulse.responses.service import ingest
from servicepulse.verbatims.analysis import analyse_responses
from tests.conftest import engine_seeded_if
from tests.followups.conftest import NOW, Org, build_org
from tests.web.conftest import PASSWORD, csrf_from, fast_password_hashing, login  # noqa: F401

EXTERNAL_ID = "CUST-ERASE-7731"
CASE_ID = "CASE-ERASE-7731"
NAME = "Josefien Verbrugge"
EMAIL = "josefien.verbrugge@example.net"
PHONE = "+31 6 1234 5678"
TEXT_EMAIL = "jv.thuis@example.com"
IBAN = "NL91ABNA0417164300"
BSN = "111222333"
COMMENT = (f"Josefien hier. Mail mij op {TEXT_EMAIL}, stort het terug op {IBAN}, mijn BSN is {BSN}. "
           "De monteur kwam drie keer niet opdagen in Zwijndrecht-Oost.")
NOTE = "Teruggebeld over de gemiste afspraken in Zwijndrecht-Oost"
GESTURE_NOTE = "Bloemetje wegens het wachten op Hoefslag"
EVENT_ACTOR = "Medewerker Hoefslag"
# what must not be found anywhere after the erasure (the open-answer PII must never be stored at all)
TRACES = (EXTERNAL_ID, CASE_ID, NAME, "Verbrugge", EMAIL, TEXT_EMAIL, IBAN, BSN, "Zwijndrecht", "Hoefslag",
          "RESP-ERASE-1", "RESP-ERASE-2", "PROMISE-ERASE")
PII = (TEXT_EMAIL, IBAN, BSN, "Josefien")


@dataclass
class Subject:
    org: Org
    customer_id: int
    case_id: int
    response_ids: list[int]
    followup_id: int
    invitation_id: int
    other_response_id: int


def _ingest(engine, external_id: str, customer: str, *, grade: int, why: str, case: str | None = None,
            at=NOW) -> int:
    item = {"external_id": external_id, "survey": "after_contact", "customer": customer,
            "submitted_at": at.isoformat(), "language": "nl", "answers": {"ces": 5, "grade": grade, "why": why}}
    if case:
        item["case"] = case
    with UnitOfWork(engine) as s:
        return ingest(s, item, now=at).new_response_ids[0]


def build_subject(engine) -> Subject:
    org = build_org(engine)
    with UnitOfWork(engine) as s:
        customer = Customer(external_id=EXTERNAL_ID, name=NAME, email=EMAIL, phone=PHONE, language="nl",
                            segment="particulier", attributes={"address": "Hoefslag 12, Zwijndrecht"})
        s.add(customer)
        s.flush()
        case = Case(external_id=CASE_ID, customer_id=customer.id, journey_id=org.journey, last_team_id=org.team_a,
                    opened_at=NOW - timedelta(days=3), attributes={"contact": EMAIL})
        s.add(case)
        s.flush()
        s.add_all([CaseEvent(case_id=case.id, occurred_at=NOW - timedelta(days=3, hours=i), seq=i,
                             activity=f"call {i}", actor=EVENT_ACTOR, channel="phone", direction="inbound",
                             team_id=org.team_a, attributes={"caller": NAME}) for i in range(3)])
        ids = (customer.id, case.id)
    customer_id, case_id = ids
    # a baseline aggregate, so the erasure must take the scores back out of it
    other = _ingest(engine, "RESP-OTHER-1", "C-1", grade=8, why="Prima geholpen")
    r1 = _ingest(engine, "RESP-ERASE-1", EXTERNAL_ID, grade=3, why=COMMENT, case=CASE_ID)
    with UnitOfWork(engine) as s:
        refresh_daily_counts(s)
    r2 = _ingest(engine, "RESP-ERASE-2", EXTERNAL_ID, grade=2, why=f"Nogmaals: {COMMENT}",
                 at=NOW + timedelta(hours=1))
    with UnitOfWork(engine) as s:
        version = s.scalar(select(SurveyVersion.id))
        rule = TriggerRule(key="after-call", survey_id=s.scalar(select(SurveyVersion.survey_id)), activity="call *")
        s.add(rule)
        s.flush()
        invitation = Invitation(token_hash=hashlib.sha256(b"t1").hexdigest(), survey_version_id=version,
                                customer_id=customer_id, case_id=case_id, scheduled_at=NOW,
                                expires_at=NOW + timedelta(days=14), status="sent", sent_at=NOW)
        s.add(invitation)
        s.flush()
        s.add(InvitationToken(invitation_id=invitation.id, token_hash=hashlib.sha256(b"t2").hexdigest()))
        s.add(TriggerDecision(rule_id=rule.id, survey_id=rule.survey_id, case_id=case_id, customer_id=customer_id,
                              reason="invited", invitation_id=invitation.id))
        promise = Promise(case_id=case_id, external_id="PROMISE-ERASE", kind="callback", made_at=NOW - timedelta(days=2),
                          due_at=NOW + timedelta(days=1), status="open")
        s.add(promise)
        srule = SignalRule(key="dark", kind="dark_too_long", params={"hours": 48})
        s.add(srule)
        s.flush()
        s.add(Signal(rule_id=srule.id, case_id=case_id, promise_id=promise.id, cause_key=f"dark:{CASE_ID}",
                     fired_at=NOW, details={"customer": NAME}))
        s.add(ForecastSnapshot(case_id=case_id, made_at=NOW, anchor_at=NOW, remaining_s=3600.0, lower_s=600.0,
                               upper_s=7200.0, expected_at=NOW + timedelta(hours=1),
                               upper_at=NOW + timedelta(hours=2), promise_at=NOW + timedelta(days=1)))
        enqueue(s, "invitations.send", {"invitation_id": invitation.id}, run_at=NOW + timedelta(days=30))
        job = enqueue(s, "invitations.remind", {"invitation_id": -5}, run_at=NOW + timedelta(days=30))
        job.status, job.last_error = "failed", f"SMTP 550 mailbox {EMAIL} unavailable"
        invitation_id = invitation.id
    # the queued work of the ingests: verbatim analysis, alert rules (a follow-up), webhooks
    while run_pending(engine, now=NOW + timedelta(hours=2), limit=50).claimed:
        pass
    with UnitOfWork(engine) as s:
        analyse_responses(s, [r1, r2, other])  # its job is queued at the wall clock's now
        fids = alerts.evaluate_responses(s, [r1, r2], NOW + timedelta(hours=2))
        fid = fids[0] if fids else s.scalar(select(FollowUp.id).where(FollowUp.customer_id == customer_id))
        s.add(FollowUpContact(followup_id=fid, user_id=org.users["agent_a"], at=NOW + timedelta(hours=3), note=NOTE,
                              outcome="resolved"))
        s.add(Gesture(followup_id=fid, team_id=org.team_a, user_id=org.users["agent_a"], kind="gift",
                      amount_cents=1500, note=GESTURE_NOTE, status="granted", at=NOW + timedelta(hours=3)))
        # a notification about the follow-up, still waiting
        s.add(Job(kind="followups.notify", payload={"followup_id": fid, "event": "new", "channel_id": 1},
                  run_at=NOW + timedelta(days=30)))
    return Subject(org, customer_id, case_id, [r1, r2], fid, invitation_id, other)


@pytest.fixture
def engine(request, templates):  # noqa: F811
    """A test that takes `subject` starts on a copy of the subject's database (built once per run and
    database); the others get the usual empty one."""
    with engine_seeded_if(request, templates, "subject", "privacy-subject", build_subject) as e:
        yield e


@pytest.fixture
def subject(engine, templates) -> Subject:
    return templates.ensure("privacy-subject", build_subject)


def dump_all(engine) -> str:
    """Every row of every table, stringified."""
    lines = []
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(table.select()):
                lines.append(f"{table.name}: {tuple(row)!r}")
    return "\n".join(lines)
