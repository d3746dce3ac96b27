"""Erasure (art. 17 GDPR) and access (art. 15) for one customer. Never commits.

`erase_customer` runs every owning domain's ``erase_customer(session, customer_id)`` in one unit of work,
in an order that lets each still find its rows (follow-ups, expectations and verbatims hang on responses
and cases; the aggregate's journey and segment of a response come from its case and customer), cleans the
job queue of work about those rows, and records what it removed in the audit log: counts per kind and a
keyed hash of the customer's external id, so an admin can later show that customer X was erased without
the log naming anyone.

`export_customer` gathers everything held on one customer as plain JSON-ready data.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepulse.cases import erase_customer as erase_cases
from servicepulse.customers import case_ids_of, find_customer, invitation_ids_of, response_ids_of
from servicepulse.customers import erase_customer as erase_customer_row
from servicepulse.expectations import erase_customer as erase_expectations
from servicepulse.followups import erase_customer as erase_followups
from servicepulse.invitations import erase_customer as erase_invitations
from servicepulse.jobs import erase_job_references
from servicepulse.models import (
    Answer,
    Case,
    CaseEvent,
    ContactPreference,
    Customer,
    FollowUp,
    FollowUpContact,
    FollowUpReason,
    ForecastSnapshot,
    Gesture,
    Invitation,
    Promise,
    Response,
    Signal,
    SurveyVersion,
    TextMessage,
    TriggerDecision,
    Verbatim,
    VerbatimMention,
    utcnow,
)
from servicepulse.org import record_audit
from servicepulse.responses import erase_customer as erase_responses
from servicepulse.settings import get_settings
from servicepulse.verbatims import erase_customer as erase_verbatims

ERASE_ACTION = "customer.erase"
EXPORT_ACTION = "customer.export"
# the order of the erasure: a domain's rows are found through rows erased after it
ERASURE_STEPS = (
    ("followups", erase_followups),
    ("expectations", erase_expectations),
    ("verbatims", erase_verbatims),
    ("responses", erase_responses),
    ("invitations", erase_invitations),
    ("cases", erase_cases),
)


@dataclass(frozen=True)
class Erasure:
    subject: str  # keyed hash of the external id (what the audit log keeps)
    rows: dict[str, int]  # rows removed per kind
    audit_id: int

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def subject_hash(external_id: str, secret: str | None = None) -> str:
    """HMAC-SHA256 of the external id under the installation's secret: the same customer gives the same
    value, but the value alone names nobody."""
    key = (secret if secret is not None else get_settings().resolved_secret_key()).encode()
    return hmac.new(key, external_id.encode(), hashlib.sha256).hexdigest()[:32]


def _ids(session: Session, stmt) -> list[int]:
    return [int(i) for i in session.scalars(stmt)]


def erase_customer(session: Session, ident: str, actor: str, now: datetime | None = None,
                   secret: str | None = None) -> Erasure:
    """Remove every trace of one customer (external id, or internal id when unambiguous); see the module
    docstring. Raises NotFound for an unknown customer."""
    customer_id = find_customer(session, ident)
    customer = session.get(Customer, customer_id)
    needles = [v for v in (customer.external_id, customer.email, customer.phone, customer.name) if v]
    subject = subject_hash(customer.external_id, secret)
    responses = _ids(session, response_ids_of(customer_id))
    cases = _ids(session, case_ids_of(customer_id))
    invitations = _ids(session, invitation_ids_of(customer_id))
    followups = _ids(session, select(FollowUp.id).where(
        (FollowUp.customer_id == customer_id) | FollowUp.response_id.in_(responses or [-1])
        | FollowUp.case_id.in_(cases or [-1])))
    signals = _ids(session, select(Signal.id).where(Signal.case_id.in_(cases or [-1])))
    session.expunge(customer)
    rows: dict[str, int] = {}
    for kind, erase in ERASURE_STEPS:
        rows[kind] = erase(session, customer_id)
    rows["jobs"] = erase_job_references(
        session, {"response_id": responses, "response_ids": responses, "case_id": cases, "case_ids": cases,
                  "invitation_id": invitations, "followup_id": followups, "signal_id": signals}, needles)
    rows["customer"] = erase_customer_row(session, customer_id)
    session.flush()
    audit_id = record_audit(session, actor, ERASE_ACTION, {"subject": subject, "rows": rows},
                            at=now or utcnow())
    return Erasure(subject, rows, audit_id)


# -- access (art. 15) -------------------------------------------------------------------------------------

def _plain(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _row(obj, exclude: tuple[str, ...] = ()) -> dict:
    return {c.key: _plain(getattr(obj, c.key)) for c in obj.__mapper__.column_attrs if c.key not in exclude}


def export_customer(session: Session, ident: str) -> dict:
    """Everything held on one customer, as JSON-ready data: the customer record, responses with answers and
    analysed comments, contact preferences, invitations (without token hashes) with their text messages,
    trigger decisions, cases with events, promises, signals and forecasts, follow-ups with their reasons,
    contacts and gestures."""
    customer_id = find_customer(session, ident)
    customer = session.get(Customer, customer_id)
    response_ids = _ids(session, response_ids_of(customer_id))
    case_ids = _ids(session, case_ids_of(customer_id))
    surveys = dict(session.execute(select(SurveyVersion.id, SurveyVersion.survey_id)).all())
    answers: dict[int, list] = {}
    for a in session.scalars(select(Answer).where(Answer.response_id.in_(response_ids or [-1]))):
        answers.setdefault(a.response_id, []).append(_row(a, ("id", "response_id")))
    verbatims = {v.response_id: _row(v) for v in session.scalars(
        select(Verbatim).where(Verbatim.response_id.in_(response_ids or [-1])))}
    for m in session.scalars(select(VerbatimMention).where(VerbatimMention.response_id.in_(response_ids or [-1]))):
        verbatims.setdefault(m.response_id, {}).setdefault("themes", []).append(
            {"theme": m.theme, "matched": m.matched, "sentiment": m.sentiment})
    responses = []
    for r in session.scalars(select(Response).where(Response.id.in_(response_ids or [-1])).order_by(Response.submitted_at)):
        item = _row(r, ("content_hash",))
        item["survey_id"] = surveys.get(r.survey_version_id)
        item["answers"] = answers.get(r.id, [])
        item["verbatim"] = verbatims.get(r.id)
        responses.append(item)
    events: dict[int, list] = {}
    for e in session.scalars(select(CaseEvent).where(CaseEvent.case_id.in_(case_ids or [-1]))
                             .order_by(CaseEvent.occurred_at, CaseEvent.seq)):
        events.setdefault(e.case_id, []).append(_row(e, ("case_id",)))
    by_case = {}
    for model, key in ((Promise, "promises"), (Signal, "signals"), (ForecastSnapshot, "forecasts")):
        for obj in session.scalars(select(model).where(model.case_id.in_(case_ids or [-1]))):
            by_case.setdefault(obj.case_id, {}).setdefault(key, []).append(_row(obj, ("case_id",)))
    cases = []
    for c in session.scalars(select(Case).where(Case.id.in_(case_ids or [-1])).order_by(Case.id)):
        item = _row(c)
        item["events"] = events.get(c.id, [])
        item.update({k: by_case.get(c.id, {}).get(k, []) for k in ("promises", "signals", "forecasts")})
        cases.append(item)
    followups = []
    for fu in session.scalars(select(FollowUp).where(
            (FollowUp.customer_id == customer_id) | FollowUp.response_id.in_(response_ids or [-1])
            | FollowUp.case_id.in_(case_ids or [-1])).order_by(FollowUp.id)):
        item = _row(fu, ("version",))
        item["contacts"] = [_row(x, ("followup_id",)) for x in session.scalars(
            select(FollowUpContact).where(FollowUpContact.followup_id == fu.id).order_by(FollowUpContact.at))]
        item["gestures"] = [_row(x, ("followup_id",)) for x in session.scalars(
            select(Gesture).where(Gesture.followup_id == fu.id).order_by(Gesture.at))]
        item["reasons"] = [_row(x, ("followup_id",)) for x in session.scalars(
            select(FollowUpReason).where(FollowUpReason.followup_id == fu.id).order_by(FollowUpReason.at))]
        followups.append(item)
    invitations = []
    for i in session.scalars(select(Invitation).where(Invitation.customer_id == customer_id)
                             .order_by(Invitation.created_at)):
        item = _row(i, ("token_hash",))
        # the text messages sent for it (the number only as the keyed hash STOP replies are matched by)
        item["text_messages"] = [_row(m, ("invitation_id", "recipient_hash")) for m in session.scalars(
            select(TextMessage).where(TextMessage.invitation_id == i.id).order_by(TextMessage.id))]
        invitations.append(item)
    preference = session.get(ContactPreference, customer_id)
    decisions = [_row(d) for d in session.scalars(select(TriggerDecision).where(
        (TriggerDecision.customer_id == customer_id) | TriggerDecision.case_id.in_(case_ids or [-1])))]
    return {
        "customer": _row(customer),
        "responses": responses,
        "contact_preferences": None if preference is None else _row(preference, ("customer_id",)),
        "invitations": invitations,
        "trigger_decisions": decisions,
        "cases": cases,
        "followups": followups,
        "exported_at": utcnow().isoformat(),
    }


def record_export(session: Session, actor: str, ident: str, now: datetime | None = None) -> int:
    """Note an export in the audit log (the subject as a keyed hash, as for an erasure)."""
    customer = session.get(Customer, find_customer(session, ident))
    return record_audit(session, actor, EXPORT_ACTION, {"subject": subject_hash(customer.external_id)},
                        at=now or utcnow())
