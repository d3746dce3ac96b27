"""The demo's recovery side of the closed loop: root-cause lists, monthly recovery budgets per team, and the
older part of the recent follow-ups worked and closed (with a root cause, and a gesture where the outcome
was compensation), so that the root-cause and budget panels show real figures at first sight.

Written directly (the demo loader is the one edge that bulk-writes a whole organisation); deterministic, so
the same seed gives the same demo.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from servicepulse.followups import add_working_days
from servicepulse.models import Case, FollowUp, FollowUpReason, Moment, Response, TeamMembership
from servicepulse.models.followups import Gesture, RecoveryBudget, RootCause

# (key, Dutch, English); journey None: offered on every journey
ROOT_CAUSES = (
    (None, "communication", "Slechte of geen communicatie", "Poor or no communication"),
    (None, "appointment", "Afspraak niet nagekomen", "Appointment not kept"),
    (None, "knowledge", "Onvoldoende kennis bij medewerker", "Agent lacked knowledge"),
    (None, "process", "Proces of systeem schoot tekort", "Process or system failed"),
    (None, "expectation", "Verwachting niet waargemaakt", "Expectation not met"),
    ("new_connection", "installation", "Installatie mislukt of onvolledig", "Installation failed or incomplete"),
    ("fault_repair", "network", "Storing in het netwerk", "Network fault"),
    ("billing_question", "invoice_error", "Fout in de factuur", "Invoice error"),
)
TEAM_BUDGET_CENTS = 50_000  # per team and calendar month
WORKED_AFTER = timedelta(days=3)  # follow-ups opened longer ago than this were worked by load time
WORKED_WINDOW = timedelta(days=14)  # the follow-ups the demo opens: the last two weeks' answers (after_load)
OUTCOMES = ("resolved", "explained", "compensated", "resolved", "unreachable")
GESTURE_CENTS = (1_500, 2_500, 5_000)


def create_root_causes(session: Session, journeys: dict[str, int]) -> int:
    rows = [RootCause(journey_id=None if j is None else journeys[j], key=key, label_nl=nl, label_en=en, active=True)
            for j, key, nl, en in ROOT_CAUSES if j is None or j in journeys]
    session.add_all(rows)
    return len(rows)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def create_budgets(session: Session, teams: dict[str, int], last_day: date) -> int:
    """A budget per team for every calendar month from the start of the follow-up window (two weeks before the
    demo's last day) to three months after it: what the recent gestures spend from, and a while to look."""
    rows, start, until = [], _month_start(last_day - WORKED_WINDOW), last_day + timedelta(days=92)
    while start <= until:
        end = _next_month(start) - timedelta(days=1)
        rows += [RecoveryBudget(team_id=team_id, period_start=start, period_end=end, amount_cents=TEAM_BUDGET_CENTS)
                 for team_id in teams.values()]
        start = end + timedelta(days=1)
    session.add_all(rows)
    return len(rows)


def _working_days(start: datetime, due: datetime) -> int:
    """How many working days after `start` the moment `due` is (as `add_working_days` counts them)."""
    days = 0
    while days < 30 and add_working_days(start, days) < due:
        days += 1
    return days


def work_older_followups(session: Session, now: datetime) -> int:
    """Give the demo's follow-ups the history the worker would have written: each opened when its first
    reason arrived (not at load time) and due as its rule's working days from then, and three in four of those opened
    more than WORKED_AFTER ago worked and closed by a member of its team, with a root cause from its
    journey's list; a compensation comes with a gesture from the team's budget. The rest stay open, some
    past their due time, as in a real week."""
    first = dict(session.execute(select(FollowUpReason.followup_id, func.min(FollowUpReason.at))
                                 .group_by(FollowUpReason.followup_id)).all())
    followups = list(session.scalars(select(FollowUp).where(FollowUp.status == "open").order_by(FollowUp.id)))
    causes = list(session.execute(select(RootCause.journey_id, RootCause.key).order_by(RootCause.id)))
    members = {}
    for team_id, user_id in session.execute(select(TeamMembership.team_id, TeamMembership.user_id)
                                            .where(TeamMembership.is_lead.is_(False))
                                            .order_by(TeamMembership.user_id)):
        members.setdefault(team_id, user_id)
    closed = older = 0
    for fu in followups:
        opened = first.get(fu.id)
        if opened is None:
            continue
        opened = opened if opened.tzinfo else opened.replace(tzinfo=UTC)  # SQLite hands back naive UTC
        if opened < fu.created_at:
            # due as the rule set it when the reason arrived: its working days from then (a Friday's complaint
            # is due on Tuesday), not the load time's due moved back by the same hours
            fu.created_at, fu.due_at = opened, add_working_days(opened, _working_days(fu.created_at, fu.due_at))
        if opened >= now - WORKED_AFTER or fu.team_id not in members:
            continue
        older += 1
        if older % 4 == 0:
            continue
        journey = None
        if fu.case_id is not None:
            journey = session.scalar(select(Case.journey_id).where(Case.id == fu.case_id))
        if journey is None and fu.response_id is not None:
            journey = session.scalar(select(Moment.journey_id).join(Response, Response.moment_id == Moment.id)
                                     .where(Response.id == fu.response_id))
        offered = [k for j, k in causes if j is None or j == journey]
        own = [k for j, k in causes if j is not None and j == journey]
        outcome = OUTCOMES[closed % len(OUTCOMES)]
        contact = opened + timedelta(hours=3 + closed % 20)
        fu.status, fu.assignee_id, fu.claimed_at = "closed", members[fu.team_id], contact
        fu.first_contact_at = None if outcome == "unreachable" else contact
        fu.closed_at = min(contact + timedelta(hours=20 + 7 * (closed % 4)), now)
        fu.outcome = outcome
        fu.root_cause = (own + offered)[closed % 3 if own else closed % len(offered)]
        if outcome == "compensated":
            session.add(Gesture(followup_id=fu.id, team_id=fu.team_id, user_id=members[fu.team_id], kind="credit",
                                amount_cents=GESTURE_CENTS[closed % len(GESTURE_CENTS)], note="", status="granted",
                                at=fu.closed_at))
        closed += 1
    session.flush()
    return closed
