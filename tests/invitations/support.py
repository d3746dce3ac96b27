"""Test support shared by tests/invitations, tests/public and tests/e2e: a real SMTP server on
loopback, settings pointing at it, and a small seeded world (journey, survey, customer, case)."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiosmtpd.controller import Controller
from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.metrics.survey_repository import totals
from servicepulse.models import Case, CaseEvent, Customer, Journey, Moment, Survey
from servicepulse.settings import get_settings
from servicepulse.surveys import load_template

LINK = re.compile(r"https?://[^\s<>\"]+/s/([A-Za-z0-9_\-]+)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Collector:
    """aiosmtpd handler keeping every message that arrives."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self.arrived:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 10.0) -> list:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.messages) >= count, timeout)
        return list(self.messages)


@dataclass
class SmtpServer:
    host: str
    port: int
    inbox: Collector


def start_smtp():
    inbox = Collector()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, SmtpServer("127.0.0.1", port, inbox)


def configure(monkeypatch, smtp: SmtpServer, base_url: str = "http://survey.test") -> None:
    monkeypatch.setenv("SERVICEPULSE_SMTP_HOST", smtp.host)
    monkeypatch.setenv("SERVICEPULSE_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("SERVICEPULSE_SMTP_SECURITY", "none")  # the test server speaks plain SMTP on loopback
    monkeypatch.setenv("SERVICEPULSE_SMTP_SENDER", "feedback@glasvezelnoord.example")
    monkeypatch.setenv("SERVICEPULSE_BASE_URL", base_url)
    monkeypatch.setenv("SERVICEPULSE_SECRET_KEY", "test-secret-key-for-invitations")
    get_settings.cache_clear()


def text_part(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_part(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def token_in(message) -> str:
    match = LINK.search(text_part(message))
    assert match, f"no survey link in:\n{text_part(message)}"
    return match[1]


def seed_world(session, journey_key: str = "service", moment_key: str = "contact") -> dict:
    """A journey with one moment and the shipped after_contact survey linked to it."""
    journey = session.scalar(select(Journey).where(Journey.key == journey_key))
    if journey is None:
        journey = Journey(key=journey_key, name_nl="Service", name_en="Service")
        journey.moments.append(Moment(key=moment_key, position=0, name_nl="Contact", name_en="Contact",
                                      kind="functional", norm=7.0))
        session.add(journey)
        session.flush()
    version = load_template(session, "after_contact", moment=f"{journey_key}/{moment_key}")
    survey = session.get(Survey, version.survey_id)
    return {"journey": journey, "survey": survey, "version": version}


def add_customer(session, external_id: str, email: str | None = "klant@example.nl", language: str = "nl",
                 name: str | None = "Sanne de Vries") -> Customer:
    customer = Customer(external_id=external_id, email=email, language=language, name=name)
    session.add(customer)
    session.flush()
    return customer


def add_case(session, external_id: str, customer: Customer | None, journey: Journey, events: list[tuple[str, datetime]],
             closed_at: datetime | None = None) -> Case:
    opened = events[0][1] if events else None
    case = Case(external_id=external_id, customer_id=customer.id if customer else None, journey_id=journey.id,
                opened_at=opened, closed_at=closed_at, attributes={})
    session.add(case)
    session.flush()
    for seq, (activity, at) in enumerate(events):
        session.add(CaseEvent(case_id=case.id, occurred_at=at, seq=seq, activity=activity, attributes={},
                              ingested_at=at))
    session.flush()
    return case


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def sent_invitation(session, survey, customer, now: datetime, case=None, expires_days: int = 14):
    """An invitation as if e-mailed at `now`; returns (invitation, token)."""
    from servicepulse.invitations import service
    from servicepulse.invitations.tokens import hash_token, new_token

    invitation = service.create_invitation(session, survey.id, customer, now, case_id=case.id if case else None,
                                           expires_days=expires_days)
    token = new_token()
    invitation.token_hash = hash_token(token)
    invitation.status = "sent"
    invitation.sent_at = now
    session.flush()
    return invitation, token


def invitation_counts(engine, survey_key: str) -> tuple[int, int]:
    """(sent, answered) as the survey page counts them: the demo sends invitations of its own, so a test that
    adds one compares against what was there before."""
    with UnitOfWork(engine, readonly=True) as s:
        survey_id = s.scalar(select(Survey.id).where(Survey.key == survey_key))
        [row] = totals(s, survey_id)
        return row.invitations_sent, row.invitations_answered


def dutch_count(n: int) -> str:
    """A count as the Dutch pages write it (1.234)."""
    return f"{n:,}".replace(",", ".")
