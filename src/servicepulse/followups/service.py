"""The follow-up workflow: work lists, claim, log contact, root cause, close, escalate, re-survey.

Framework-free; never commits. Every change loads the follow-up with a row
lock (FOR UPDATE on PostgreSQL; SQLite write transactions are serialised by
BEGIN IMMEDIATE) and checks its state after the lock, so two people claiming
at the same moment get one success and one clear refusal. The version column
(optimistic lock) guards whatever slips past.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session, selectinload

from servicepulse.errors import NotFound, ValidationFailed
from servicepulse.followups import notify
from servicepulse.followups.access import Actor, check_view, check_work
from servicepulse.followups.errors import Conflict, NotAllowed
from servicepulse.invitations import create_invitation
from servicepulse.jobs.queue import enqueue
from servicepulse.models import (
    Case,
    Customer,
    FollowUp,
    FollowUpContact,
    FollowUpReason,
    Moment,
    Response,
    SurveyVersion,
    TeamMembership,
    User,
    utcnow,
)
from servicepulse.models.followups import FOLLOWUP_OUTCOMES, Resurvey, RootCause

STATUSES = ("open", "claimed", "closed")


def get(session: Session, actor: Actor, followup_id: int, *, lock: bool = False) -> FollowUp:
    stmt = select(FollowUp).where(FollowUp.id == followup_id)
    if lock:
        stmt = stmt.with_for_update()
    fu = session.scalars(stmt.execution_options(populate_existing=True)).first()
    if fu is None:
        raise NotFound(f"there is no follow-up {followup_id}")
    check_view(actor, fu)
    return fu


WORK_LIST_SORTS = ("due", "due_date", "newest", "oldest")


def _work_list_order(sort: str, now: datetime) -> tuple:
    """Open before closed throughout; "due" (the default): overdue first (the escalation rule's test, due time
    passed), then priority, then due time; "due_date": by due time alone, so the longest overdue lead."""
    if sort == "newest":
        return (FollowUp.created_at.desc(),)
    if sort == "oldest":
        return (FollowUp.created_at,)
    if sort == "due_date":
        return (FollowUp.due_at, FollowUp.priority)
    return (case((FollowUp.due_at < now, 0), else_=1), FollowUp.priority, FollowUp.due_at)


def work_list(session: Session, actor: Actor, *, team_id: int | None = None, mine: bool = False,
              status: str | None = None, limit: int = 200, offset: int = 0, sort: str = "due",
              now: datetime | None = None) -> list[FollowUp]:
    """Follow-ups the actor may see: their teams' (or one team's), optionally only their own or by status;
    ``sort`` one of WORK_LIST_SORTS (see ``_work_list_order``; overdue is judged at ``now``); a page of ``limit``."""
    order = _work_list_order(sort if sort in WORK_LIST_SORTS else "due", now or utcnow())
    stmt = (select(FollowUp).options(selectinload(FollowUp.reasons))
            .order_by(FollowUp.status == "closed", *order, FollowUp.id)
            .limit(limit).offset(offset))
    return list(session.scalars(_work_list_where(stmt, actor, team_id, mine, status)))


def count_work_list(session: Session, actor: Actor, *, team_id: int | None = None, mine: bool = False,
                    status: str | None = None) -> int:
    """How many follow-ups ``work_list`` has with these filters, over all its pages."""
    return int(session.scalar(_work_list_where(select(func.count()).select_from(FollowUp), actor, team_id,
                                               mine, status)) or 0)


def _work_list_where(stmt, actor: Actor, team_id: int | None, mine: bool, status: str | None):
    visible = actor.visible_team_ids()
    if team_id is not None:
        if visible is not None and team_id not in visible:
            raise NotAllowed("you can only list the follow-ups of your own teams")
        stmt = stmt.where(FollowUp.team_id == team_id)
    elif visible is not None:
        stmt = stmt.where(FollowUp.team_id.in_(visible))
    if mine:
        stmt = stmt.where(FollowUp.assignee_id == actor.id)
    if status is not None:
        if status not in STATUSES:
            raise ValidationFailed(f"status {status!r} is unknown; choose one of {', '.join(STATUSES)}",
                                   [("status", "unknown")])
        stmt = stmt.where(FollowUp.status == status)
    return stmt


def claim(session: Session, actor: Actor, followup_id: int, now: datetime) -> FollowUp:
    fu = get(session, actor, followup_id, lock=True)
    check_work(actor, fu)
    if fu.status == "closed":
        raise Conflict(f"follow-up {fu.id} is closed already")
    if fu.status == "claimed":
        if fu.assignee_id == actor.id:
            return fu
        who = session.get(User, fu.assignee_id) if fu.assignee_id else None
        raise Conflict(f"follow-up {fu.id} is claimed already by {who.name if who else 'someone else'}")
    fu.status, fu.assignee_id, fu.claimed_at = "claimed", actor.id, now
    session.flush()
    return fu


def _check_own(actor: Actor, fu: FollowUp) -> None:
    """Working a claimed follow-up: its assignee, or a team lead of its team."""
    check_work(actor, fu)
    if fu.status == "closed":
        raise Conflict(f"follow-up {fu.id} is closed already")
    if fu.status == "open":
        raise Conflict(f"follow-up {fu.id} is not claimed yet; claim it first")
    if fu.assignee_id != actor.id and fu.team_id not in actor.led_team_ids:
        raise NotAllowed(f"follow-up {fu.id} is claimed by a colleague; only they or the team lead can work it")


def log_contact(session: Session, actor: Actor, followup_id: int, note: str, outcome: str | None,
                now: datetime) -> FollowUpContact:
    fu = get(session, actor, followup_id, lock=True)
    _check_own(actor, fu)
    problems = []
    if not (note or "").strip():
        problems.append(("note", "write down what was said with the customer"))
    if outcome is not None and outcome not in FOLLOWUP_OUTCOMES:
        problems.append(("outcome", f"outcome {outcome!r} is unknown; choose one of {', '.join(FOLLOWUP_OUTCOMES)}"))
    if problems:
        raise ValidationFailed("; ".join(m for _, m in problems), problems)
    contact = FollowUpContact(followup_id=fu.id, user_id=actor.id, at=now, note=note.strip()[:5000], outcome=outcome)
    session.add(contact)
    # Time to first contact counts a conversation, not an attempt that did not reach the customer.
    if fu.first_contact_at is None and outcome != "unreachable":
        fu.first_contact_at = now
    session.flush()
    return contact


def root_causes(session: Session, journey_id: int | None) -> list[RootCause]:
    stmt = select(RootCause).where(RootCause.active.is_(True)).order_by(RootCause.journey_id.is_(None), RootCause.key)
    if journey_id is None:
        stmt = stmt.where(RootCause.journey_id.is_(None))
    else:
        stmt = stmt.where((RootCause.journey_id == journey_id) | RootCause.journey_id.is_(None))
    return list(session.scalars(stmt))


def journey_of(session: Session, fu: FollowUp) -> int | None:
    """The case's journey, else the journey of the answered moment."""
    journey = session.scalar(select(Case.journey_id).where(Case.id == fu.case_id)) if fu.case_id else None
    if journey is None and fu.response_id:
        journey = session.scalar(select(Moment.journey_id).join(Response, Response.moment_id == Moment.id)
                                 .where(Response.id == fu.response_id))
    return journey


def close(session: Session, actor: Actor, followup_id: int, outcome: str, root_cause: str | None, now: datetime,
          resurvey: bool = False) -> FollowUp:
    fu = get(session, actor, followup_id, lock=True)
    _check_own(actor, fu)
    problems = []
    if outcome not in FOLLOWUP_OUTCOMES:
        problems.append(("outcome", f"choose an outcome: {', '.join(FOLLOWUP_OUTCOMES)}"))
    offered = {rc.key for rc in root_causes(session, journey_of(session, fu))}
    if root_cause and offered and root_cause not in offered:
        problems.append(("root_cause", f"root cause {root_cause!r} is not on this journey's list "
                                       f"({', '.join(sorted(offered))})"))
    elif offered and not root_cause:
        problems.append(("root_cause", "choose a root cause from the list"))
    if problems:
        raise ValidationFailed("; ".join(m for _, m in problems), problems)
    fu.status, fu.outcome, fu.root_cause, fu.closed_at = "closed", outcome, root_cause or None, now
    if fu.first_contact_at is None and outcome != "unreachable":
        fu.first_contact_at = now
    session.flush()
    if resurvey:
        request_resurvey(session, fu, now)
    return fu


def request_resurvey(session: Session, fu: FollowUp, now: datetime) -> Resurvey:
    """Invite the customer to the same survey again (via the invitations domain), or record why not."""

    existing = session.get(Resurvey, fu.id)
    if existing is not None:
        return existing
    row = Resurvey(followup_id=fu.id, requested_at=now)
    customer = session.get(Customer, fu.customer_id) if fu.customer_id else None
    survey_id = None
    if fu.response_id:
        survey_id = session.scalar(select(SurveyVersion.survey_id).join(Response, Response.survey_version_id == SurveyVersion.id)
                                   .where(Response.id == fu.response_id))
    if customer is None:
        row.note = "no customer on this follow-up"
    elif customer.opted_out_at is not None:
        row.note = "the customer opted out of surveys"
    elif survey_id is None:
        row.note = "no survey to repeat (the follow-up did not come from a response)"
    else:
        invitation = create_invitation(session, survey_id, customer, now, case_id=fu.case_id)
        row.invitation_id = invitation.id
        enqueue(session, "invitations.send", {"invitation_id": invitation.id}, run_at=now,
                dedupe_key=f"resurvey:{fu.id}")
    session.add(row)
    session.flush()
    return row


def escalate_overdue(session: Session, now: datetime) -> list[int]:
    """Mark follow-ups past their due time (not closed, not escalated yet) and notify the team leads.

    One set-based UPDATE (version bumped, so a concurrent claim or close of the same row notices):
    a backlog of thousands must not cost a round trip each."""
    candidates = (select(FollowUp.id, FollowUp.team_id)
                  .where(FollowUp.status != "closed", FollowUp.due_at < now, FollowUp.escalated_at.is_(None))
                  .order_by(FollowUp.id).with_for_update(skip_locked=True))
    due = session.execute(candidates).all()
    if not due:
        return []
    ids = [fid for fid, _ in due]
    for start in range(0, len(ids), 500):
        session.execute(update(FollowUp).where(FollowUp.id.in_(ids[start:start + 500]), FollowUp.escalated_at.is_(None))
                        .values(escalated_at=now, version=FollowUp.version + 1)
                        .execution_options(synchronize_session=False))
    team_ids = {team_id for _, team_id in due if team_id is not None}
    leads: dict[int, list[str]] = {}
    for team_id, email in session.execute(
            select(TeamMembership.team_id, User.email).join(User, User.id == TeamMembership.user_id)
            .where(TeamMembership.team_id.in_(team_ids), TeamMembership.is_lead.is_(True), User.active.is_(True))
            .order_by(User.email)):
        leads.setdefault(team_id, []).append(email)
    notify.announce(session, ids, "overdue", now, extra_emails={fid: leads.get(team_id, []) for fid, team_id in due})
    return ids


@dataclass(frozen=True)
class Verbatim:
    response_id: int
    comment: str | None
    nps: int | None
    grade: int | None
    ces: int | None
    submitted_at: datetime


def verbatim(session: Session, actor: Actor, followup_id: int) -> Verbatim | None:
    """The customer's own words behind a follow-up, for those who may see it."""
    fu = get(session, actor, followup_id)
    if fu.response_id is None:
        return None
    r = session.get(Response, fu.response_id)
    if r is None:
        return None
    return Verbatim(r.id, r.comment, r.nps, r.grade, r.ces, r.submitted_at)


def counts_by_status(session: Session, actor: Actor) -> dict[str, int]:
    stmt = select(FollowUp.status, func.count()).group_by(FollowUp.status)
    visible = actor.visible_team_ids()
    if visible is not None:
        stmt = stmt.where(FollowUp.team_id.in_(visible))
    return {s: n for s, n in session.execute(stmt)}


@dataclass(frozen=True)
class ReasonView:
    """A reason as a page shows it: the rule, when, and what tripped it (a score, risk-word categories,
    a promise kind), to be worded in the reader's language by the template."""

    rule: str
    at: datetime
    value: str | None = None  # the score or index
    words: tuple[str, ...] = ()  # risk-word categories
    kind: str | None = None  # the broken promise's kind
    response_id: int | None = None
    case_id: int | None = None


_NUMBER = re.compile(r"(-?\d+(?:\.\d+)?)\s*$")
_WORDS = re.compile(r"risk words:?\s*(.+)$")
_KIND = re.compile(r"\(([a-z_]+)\)\s*$")


def reason_view(reason: FollowUpReason) -> ReasonView:
    """The stored summary (written by followups.alerts in a fixed form) taken apart for the page."""
    summary = reason.summary or ""
    value = words = kind = None
    if reason.rule in ("risk_word", "not_solved") and (m := _WORDS.search(summary)):
        words = tuple(w.strip() for w in m[1].split(",") if w.strip())
    elif reason.rule == "broken_promise" and (m := _KIND.search(summary)):
        kind = m[1]
    elif reason.rule != "not_solved" and (m := _NUMBER.search(summary)):
        value = m[1]
    return ReasonView(reason.rule, reason.at, value, words or (), kind, reason.response_id, reason.case_id)


def reasons_of(session: Session, actor: Actor, followup_id: int) -> list[ReasonView]:
    """Every reason of a follow-up, oldest first."""
    fu = get(session, actor, followup_id)
    return [reason_view(r) for r in fu.reasons]
