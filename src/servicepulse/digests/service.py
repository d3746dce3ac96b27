"""Digest subscriptions and who gets which digest when.

A user subscribes themselves to the figures of the organisation (those who may see the /metrics pages:
administrators, analysts, team leads) or of a team they may see; an administrator subscribes a team,
and then every active member gets the team's figures in their own language (a member may unsubscribe
themselves; the team's subscription stays). What a digest shows is decided again when it is sent, from
the recipient's role and teams at that moment.

``queue_due`` (the hourly job) queues one send job per subscription, recipient and period once the period
has ended (from periods.SEND_HOUR on the organisation's clock the next day); the job's dedupe key and the
``digest_sends`` ledger make it happen once. Validation problems name the field and a message key of
http/i18n/digests.yaml, so pages show them in the user's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepulse.digests.periods import Period, last_complete
from servicepulse.errors import NotFound, ValidationFailed
from servicepulse.jobs.queue import enqueue_rows_once, job_row
from servicepulse.models import OrgUnit, TeamMembership, User
from servicepulse.models.digests import FREQUENCIES, DigestOptOut, DigestSend, DigestSubscription
from servicepulse.org import Actor

SEND_JOB = "digests.send"
SEND_MAX_ATTEMPTS = 6
# Who may see figures of the whole organisation: the roles of the /metrics pages and the monthly report.
ORGANISATION_ROLES = ("admin", "analyst", "teamlead")


def may_see(actor: Actor, team_id: int | None) -> bool:
    """Whether a digest about ``team_id`` (None: the organisation) may go to this person."""
    if team_id is None:
        return actor.role in ORGANISATION_ROLES
    return actor.sees_team(team_id)


def actor_of(session: Session, user_id: int) -> tuple[User, Actor] | None:
    user = session.get(User, user_id)
    return (user, Actor.of(user)) if user is not None else None


def teams(session: Session) -> dict[int, str]:
    return dict(session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.kind == "team")
                                .order_by(OrgUnit.name)).all())


def scopes_for(session: Session, actor: Actor) -> list[tuple[int | None, str | None]]:
    """The scopes this person may subscribe to: (None, None) for the organisation, then (team id, name)."""
    found: list[tuple[int | None, str | None]] = [(None, None)] if may_see(actor, None) else []
    found += [(tid, name) for tid, name in teams(session).items() if actor.sees_team(tid)]
    return found


def _check_frequency(frequency: str) -> list[tuple[str, str]]:
    return [] if frequency in FREQUENCIES else [("frequency", "digests.error.frequency")]


def subscribe(session: Session, user: User, frequency: str, team_id: int | None,
              now: datetime) -> DigestSubscription:
    """The user's own subscription to the figures of ``team_id`` (None: the organisation)."""
    problems = _check_frequency(frequency)
    actor = Actor.of(user)
    if team_id is not None and team_id not in teams(session):
        problems.append(("scope", "digests.error.scope"))
    elif not may_see(actor, team_id):
        problems.append(("scope", "digests.error.scope"))
    if not problems and session.scalar(select(DigestSubscription.id).where(
            DigestSubscription.user_id == user.id, DigestSubscription.frequency == frequency,
            DigestSubscription.team_id.is_(None) if team_id is None else DigestSubscription.team_id == team_id)):
        problems.append(("scope", "digests.error.duplicate"))
    if problems:
        raise ValidationFailed("; ".join(f"{field}: {key}" for field, key in problems), problems)
    row = DigestSubscription(user_id=user.id, team_id=team_id, frequency=frequency, created_at=now,
                             created_by_id=user.id)
    session.add(row)
    session.flush()
    return row


def remove_own(session: Session, user_id: int, subscription_id: int) -> None:
    row = session.get(DigestSubscription, subscription_id)
    if row is None or row.user_id != user_id:  # someone else's: as if it did not exist
        raise NotFound(f"there is no digest subscription {subscription_id}")
    session.delete(row)
    session.flush()


def subscribe_team(session: Session, team_id: int | None, frequency: str, by_user_id: int | None,
                   now: datetime) -> DigestSubscription:
    """A team's subscription (administrators): every active member gets the team's figures."""
    problems = _check_frequency(frequency)
    if team_id is None or team_id not in teams(session):
        problems.append(("team", "digests.error.team"))
    elif session.scalar(select(DigestSubscription.id).where(
            DigestSubscription.user_id.is_(None), DigestSubscription.team_id == team_id,
            DigestSubscription.frequency == frequency)):
        problems.append(("team", "digests.error.duplicate"))
    if problems:
        raise ValidationFailed("; ".join(f"{field}: {key}" for field, key in problems), problems)
    row = DigestSubscription(user_id=None, team_id=team_id, frequency=frequency, created_at=now,
                             created_by_id=by_user_id)
    session.add(row)
    session.flush()
    return row


def remove_team(session: Session, subscription_id: int) -> DigestSubscription:
    row = session.get(DigestSubscription, subscription_id)
    if row is None or row.user_id is not None:
        raise NotFound(f"there is no team digest subscription {subscription_id}")
    session.delete(row)
    session.flush()
    return row


def _member(session: Session, user_id: int, team_id: int | None) -> bool:
    return team_id is not None and session.scalar(select(TeamMembership.id).where(
        TeamMembership.user_id == user_id, TeamMembership.team_id == team_id)) is not None


def set_opted_out(session: Session, user_id: int, subscription_id: int, out: bool, now: datetime) -> None:
    """A member stops (or resumes) receiving a team's digest."""
    row = session.get(DigestSubscription, subscription_id)
    if row is None or row.user_id is not None or not _member(session, user_id, row.team_id):
        raise NotFound(f"there is no team digest subscription {subscription_id} for you")
    existing = session.get(DigestOptOut, (subscription_id, user_id))
    if out and existing is None:
        session.add(DigestOptOut(subscription_id=subscription_id, user_id=user_id, at=now))
    elif not out and existing is not None:
        session.delete(existing)
    session.flush()


def unsubscribe(session: Session, subscription_id: int, user_id: int, now: datetime) -> str:
    """What the one-click link does: 'done' the first time, 'already' after that (the subscription is gone
    or the member has opted out)."""
    row = session.get(DigestSubscription, subscription_id)
    if row is None:
        return "already"
    if row.user_id is not None:
        if row.user_id != user_id:
            return "already"
        session.delete(row)
        session.flush()
        return "done"
    if session.get(DigestOptOut, (subscription_id, user_id)) is not None:
        return "already"
    session.add(DigestOptOut(subscription_id=subscription_id, user_id=user_id, at=now))
    session.flush()
    return "done"


@dataclass(frozen=True)
class Listed:
    subscription: DigestSubscription
    team: str | None
    opted_out: bool = False


def own_subscriptions(session: Session, user_id: int) -> list[Listed]:
    names = teams(session)
    rows = session.scalars(select(DigestSubscription).where(DigestSubscription.user_id == user_id)
                           .order_by(DigestSubscription.id))
    return [Listed(r, names.get(r.team_id)) for r in rows]


def team_subscriptions_for(session: Session, user_id: int) -> list[Listed]:
    """The team digests that reach this user as a member, each with whether they opted out."""
    names = teams(session)
    member_of = select(TeamMembership.team_id).where(TeamMembership.user_id == user_id)
    rows = session.scalars(select(DigestSubscription).where(DigestSubscription.user_id.is_(None),
                                                            DigestSubscription.team_id.in_(member_of))
                           .order_by(DigestSubscription.id)).all()
    out = set(session.scalars(select(DigestOptOut.subscription_id).where(DigestOptOut.user_id == user_id)))
    return [Listed(r, names.get(r.team_id), r.id in out) for r in rows]


def all_team_subscriptions(session: Session) -> list[Listed]:
    names = teams(session)
    rows = session.scalars(select(DigestSubscription).where(DigestSubscription.user_id.is_(None))
                           .order_by(DigestSubscription.id))
    return [Listed(r, names.get(r.team_id)) for r in rows]


def recipients(session: Session, subscription: DigestSubscription) -> list[User]:
    """Active users the subscription reaches now (a team's members without those who opted out)."""
    if subscription.user_id is not None:
        user = session.get(User, subscription.user_id)
        return [user] if user is not None and user.active else []
    opted = select(DigestOptOut.user_id).where(DigestOptOut.subscription_id == subscription.id)
    return list(session.scalars(select(User).join(TeamMembership, TeamMembership.user_id == User.id)
                                .where(TeamMembership.team_id == subscription.team_id, User.active.is_(True),
                                       User.id.not_in(opted)).order_by(User.id)))


def already_sent(session: Session, subscription_id: int, user_id: int, period: Period) -> bool:
    return session.scalar(select(DigestSend.id).where(
        DigestSend.subscription_id == subscription_id, DigestSend.user_id == user_id,
        DigestSend.period_start == period.start)) is not None


def due_sends(session: Session, now: datetime, zone: ZoneInfo, *, immediately: bool = False,
              user_id: int | None = None, include_sent: bool = False) -> list[dict]:
    """Payloads of the digests due at ``now`` and not sent yet: for each subscription the newest complete
    period, once its send hour has come and if the subscription is older than the period's end (a new
    subscriber gets the next digest, not an old one). ``immediately`` (the CLI's --now) skips both waits;
    ``include_sent`` (the CLI's --again) lists sent ones too."""
    found = []
    for sub in session.scalars(select(DigestSubscription).order_by(DigestSubscription.id)):
        period = last_complete(sub.frequency, now.astimezone(zone).date())
        if not immediately and (now < period.due_at(zone) or sub.created_at > period.due_at(zone)):
            continue
        for user in recipients(session, sub):
            if user_id is not None and user.id != user_id:
                continue
            if include_sent or not already_sent(session, sub.id, user.id, period):
                found.append({"subscription_id": sub.id, "user_id": user.id, "frequency": sub.frequency,
                              "period_start": period.start.isoformat()})
    return found


def queue_due(session: Session, now: datetime, zone: ZoneInfo, **kwargs) -> int:
    """Queue a send job per due digest (a dedupe key per subscription, recipient and period)."""
    rows = [job_row(SEND_JOB, payload, now, max_attempts=SEND_MAX_ATTEMPTS,
                    dedupe_key=f"digest:{payload['subscription_id']}:{payload['user_id']}:{payload['period_start']}")
            for payload in due_sends(session, now, zone, **kwargs)]
    return enqueue_rows_once(session, rows) if rows else 0
