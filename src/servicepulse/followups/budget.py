"""Recovery budgets: what a team and an employee may spend on gestures per period without asking.

A gesture is granted at once when it fits in what is left of every budget
that applies (the employee's and the team's, for the period that contains the
day); otherwise it is refused, or, when the employee asks for it, waits for a
team lead's approval. The budget rows are locked while checking (FOR UPDATE on
PostgreSQL, BEGIN IMMEDIATE on SQLite), so two gestures at the same moment
cannot both take the last euro. Amounts are whole cents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from servicepulse.errors import NotFound, ValidationFailed
from servicepulse.followups.access import Actor, check_admin, check_lead, is_lead_of
from servicepulse.followups.errors import Conflict, OverBudget
from servicepulse.followups.service import _check_own, get
from servicepulse.models import Case, FollowUp, Journey, OrgUnit, Response, User
from servicepulse.models.followups import (
    GESTURE_KINDS,
    Gesture,
    RecoveryBudget,
    Resurvey,
)
from servicepulse.org import actor_label, record_audit

SPENT = ("granted", "approved")
CANCELLATION_JOURNEYS = ("cancellation",)
_TZ = ZoneInfo("Europe/Amsterdam")


def local_day(at: datetime) -> date:
    return at.astimezone(_TZ).date()


def set_budget(session: Session, actor: Actor, *, team_id: int | None = None, user_id: int | None = None,
               period_start: date, period_end: date, amount_cents: int) -> RecoveryBudget:
    check_admin(actor, "recovery budgets")
    problems = []
    if (team_id is None) == (user_id is None):
        problems.append(("owner", "a budget belongs to one team or one employee"))
    if team_id is not None and session.get(OrgUnit, team_id) is None:
        problems.append(("team_id", f"there is no team {team_id}"))
    if user_id is not None and session.get(User, user_id) is None:
        problems.append(("user_id", f"there is no user {user_id}"))
    if period_end < period_start:
        problems.append(("period_end", "the period ends before it starts"))
    if amount_cents < 0:
        problems.append(("amount", "a budget cannot be negative"))
    if problems:
        raise ValidationFailed("; ".join(m for _, m in problems), problems)
    owner = RecoveryBudget.team_id == team_id if team_id is not None else RecoveryBudget.user_id == user_id
    row = session.scalar(select(RecoveryBudget).where(owner, RecoveryBudget.period_start == period_start,
                                                      RecoveryBudget.period_end == period_end))
    if row is None:
        row = RecoveryBudget(team_id=team_id, user_id=user_id, period_start=period_start, period_end=period_end,
                             amount_cents=amount_cents)
        session.add(row)
    else:
        row.amount_cents = amount_cents
    session.flush()
    record_audit(session, actor_label(actor), "budget.set",
                 {"budget_id": row.id, "team_id": team_id, "user_id": user_id, "period_start": period_start.isoformat(),
                  "period_end": period_end.isoformat(), "amount_cents": amount_cents})
    return row


def _budget(session: Session, day: date, *, team_id: int | None = None, user_id: int | None = None,
            lock: bool = False) -> RecoveryBudget | None:
    owner = RecoveryBudget.team_id == team_id if team_id is not None else RecoveryBudget.user_id == user_id
    stmt = select(RecoveryBudget).where(owner, RecoveryBudget.period_start <= day, RecoveryBudget.period_end >= day)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt.order_by(RecoveryBudget.period_start.desc())).first()


def _spent(session: Session, budget: RecoveryBudget) -> int:
    owner = Gesture.team_id == budget.team_id if budget.team_id is not None else Gesture.user_id == budget.user_id
    # Periods are local calendar days; gestures are compared on their UTC instant against the period's bounds
    # widened by a day and then filtered exactly in Python, to stay portable across databases.
    rows = session.execute(select(Gesture.amount_cents, Gesture.at).where(owner, Gesture.status.in_(SPENT)))
    return sum(a for a, at in rows if budget.period_start <= local_day(at) <= budget.period_end)


@dataclass(frozen=True)
class BudgetState:
    scope: str  # 'team' or 'user'
    owner_id: int
    amount_cents: int
    spent_cents: int
    period_start: date
    period_end: date

    @property
    def left_cents(self) -> int:
        return max(0, self.amount_cents - self.spent_cents)


def state(session: Session, day: date, *, team_id: int | None = None, user_id: int | None = None,
          lock: bool = False) -> BudgetState | None:
    b = _budget(session, day, team_id=team_id, user_id=user_id, lock=lock)
    if b is None:
        return None
    return BudgetState("team" if team_id is not None else "user", team_id or user_id, b.amount_cents,
                       _spent(session, b), b.period_start, b.period_end)


def euros(cents: int) -> str:
    return f"€ {cents / 100:,.2f}".replace(",", " ").replace(".", ",")


def spend(session: Session, actor: Actor, followup_id: int, kind: str, amount_cents: int, note: str,
          now: datetime, ask_approval: bool = False) -> Gesture:
    """Grant a gesture on a follow-up the actor works. Over budget: OverBudget, or a pending request."""
    fu = get(session, actor, followup_id, lock=True)
    _check_own(actor, fu)
    problems = []
    if kind not in GESTURE_KINDS:
        problems.append(("kind", f"gesture {kind!r} is unknown; choose one of {', '.join(GESTURE_KINDS)}"))
    if not isinstance(amount_cents, int) or amount_cents <= 0:
        problems.append(("amount", "the amount must be more than zero"))
    elif amount_cents > 100_000_00:
        problems.append(("amount", "the amount is implausibly large"))
    if problems:
        raise ValidationFailed("; ".join(m for _, m in problems), problems)
    day = local_day(now)
    budgets = [b for b in (state(session, day, user_id=actor.id, lock=True),
                           state(session, day, team_id=fu.team_id, lock=True)) if b is not None]
    short = [b for b in budgets if amount_cents > b.left_cents]
    gesture = Gesture(followup_id=fu.id, team_id=fu.team_id, user_id=actor.id, kind=kind, amount_cents=amount_cents,
                      note=(note or "").strip()[:2000], at=now)
    if budgets and not short:
        gesture.status = "granted"
    elif is_lead_of(actor, fu.team_id):
        # A team lead may exceed the budget on their own authority; it is recorded as their approval.
        gesture.status, gesture.decided_by_id, gesture.decided_at = "approved", actor.id, now
    elif ask_approval:
        gesture.status = "pending"
    else:
        if not budgets:
            reason = "there is no recovery budget for you or your team in this period"
        else:
            reason = "; ".join(f"{'your' if b.scope == 'user' else 'the team'} budget has {euros(b.left_cents)} left"
                               for b in short)
        raise OverBudget(f"{euros(amount_cents)} does not fit: {reason}. Ask your team lead to approve it.")
    session.add(gesture)
    session.flush()
    return gesture


def decide(session: Session, actor: Actor, gesture_id: int, approve: bool, now: datetime) -> Gesture:
    gesture = session.scalars(select(Gesture).where(Gesture.id == gesture_id).with_for_update()).first()
    if gesture is None:
        raise NotFound(f"there is no gesture {gesture_id}")
    fu = get(session, actor, gesture.followup_id)
    check_lead(actor, fu.team_id)
    if gesture.status != "pending":
        raise Conflict(f"gesture {gesture.id} is not waiting for approval (it is {gesture.status})")
    gesture.status = "approved" if approve else "refused"
    gesture.decided_by_id, gesture.decided_at = actor.id, now
    session.flush()
    return gesture


def gestures_of(session: Session, followup_id: int) -> list[Gesture]:
    return list(session.scalars(select(Gesture).where(Gesture.followup_id == followup_id).order_by(Gesture.at)))


def pending_for(session: Session, actor: Actor) -> list[Gesture]:
    if actor.role != "teamlead" or not actor.led_team_ids:
        return []
    return list(session.scalars(select(Gesture).where(Gesture.status == "pending",
                                                      Gesture.team_id.in_(actor.led_team_ids)).order_by(Gesture.at)))


def use_by_team(session: Session, actor: Actor, day: date) -> list[dict]:
    """Budget and spend per visible team for the period containing `day`."""
    teams = session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.kind == "team").order_by(OrgUnit.name))
    visible = actor.visible_team_ids()
    out = []
    for team_id, name in teams:
        if visible is not None and team_id not in visible:
            continue
        s = state(session, day, team_id=team_id)
        spent_total = session.scalar(select(func.coalesce(func.sum(Gesture.amount_cents), 0))
                                     .where(Gesture.team_id == team_id, Gesture.status.in_(SPENT)))
        if s is None and not spent_total:
            continue
        out.append({"team_id": team_id, "team": name, "budget_cents": s.amount_cents if s else 0,
                    "spent_cents": s.spent_cents if s else 0, "spent_all_time_cents": int(spent_total or 0)})
    return out


def spend_report(session: Session, actor: Actor) -> list[dict]:
    """Each granted gesture against what happened next: the re-survey's score and whether the
    customer started a cancellation afterwards."""
    stmt = (select(Gesture, FollowUp.customer_id, FollowUp.team_id, Resurvey.invitation_id)
            .join(FollowUp, FollowUp.id == Gesture.followup_id)
            .outerjoin(Resurvey, Resurvey.followup_id == FollowUp.id)
            .where(Gesture.status.in_(SPENT)).order_by(Gesture.at))
    visible = actor.visible_team_ids()
    if visible is not None:
        stmt = stmt.where(FollowUp.team_id.in_(visible))
    rows = []
    for gesture, customer_id, team_id, invitation_id in session.execute(stmt):
        score = None
        if invitation_id is not None:
            r = session.execute(select(Response.nps, Response.grade).where(Response.invitation_id == invitation_id)).first()
            if r is not None:
                score = {"nps": r.nps, "grade": r.grade}
        cancelled = False
        if customer_id is not None:
            cancelled = session.scalar(
                select(func.count()).select_from(Case).join(Journey, Journey.id == Case.journey_id)
                .where(and_(Case.customer_id == customer_id, Journey.key.in_(CANCELLATION_JOURNEYS),
                            Case.opened_at >= gesture.at))) > 0
        rows.append({"gesture_id": gesture.id, "followup_id": gesture.followup_id, "team_id": team_id,
                     "kind": gesture.kind, "amount_cents": gesture.amount_cents, "at": gesture.at,
                     "resurveyed": invitation_id is not None, "resurvey_score": score, "cancelled_after": cancelled})
    return rows
