"""Home page: a workspace per role.

* agents land on their work: their own and their teams' open follow-ups (overdue and due today first),
  their teams' unresolved signals;
* team leads land on their teams: follow-ups, signals, promises at risk, the teams' scores and the use of
  their recovery budgets;
* administrators and analysts land on the overview: the 7+/9+ status of every moment of every journey (the
  metrics domain's moment view, the one the journey pages show) and a ranked "what to improve first".

Every list is cut to what the reader may see (`followups.access`, `Actor.visible_team_ids`); the follow-up
rows show what the follow-up work list shows (reasons, team, status, assignee, due), nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from fastapi import APIRouter, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepulse.expectations.dashboard import at_risk
from servicepulse.expectations.signals import team_work_list
from servicepulse.followups import budget
from servicepulse.followups import service as followups
from servicepulse.followups.dashboard import figures as loop_figures
from servicepulse.http.auth import CurrentUser
from servicepulse.http.deps import DbSession
from servicepulse.http.i18n import request_language
from servicepulse.http.templating import render
from servicepulse.metrics import MetricFilter, graded_counts
from servicepulse.metrics import service as metrics
from servicepulse.metrics.figures import figure_helper
from servicepulse.models import Case, Journey, Moment, OrgUnit, User
from servicepulse.models.expectations import SignalRule
from servicepulse.models.followups import RootCause
from servicepulse.org import Actor

router = APIRouter()

MANAGERS = ("admin", "analyst")
TEAM_LIST = 15  # rows per panel on the agent's and the team lead's workspace
SCORE_DAYS = 90  # the team lead's scores: the last three months


@dataclass
class MomentRow:
    key: str
    name: str
    kind: str
    norm: float
    responses: int
    id: int | None = None
    status: object | None = None  # metrics' moment row (score with interval, 7+/9+ status), managers only


@dataclass
class JourneyRow:
    key: str
    name: str
    description: str | None
    moments: list[MomentRow] = field(default_factory=list)
    id: int | None = None


def journey_overview(session: Session, language: str) -> list[JourneyRow]:
    """All journeys with their moments in order and, per moment, the submitted answers that graded it.

    A journey-end answer grades several moments and counts for each of them (the counts the moment pages
    show, from the metrics domain: the daily aggregate when it is current, else the raw tables).
    """
    counts = graded_counts(session)
    rows = [
        (*row, counts.get(row[-1], 0)) if row[-1] is not None else (*row, 0)
        for row in session.execute(
            select(
                Journey.id, Journey.key, Journey.name_nl, Journey.name_en, Journey.description_nl,
                Journey.description_en, Moment.key, Moment.name_nl, Moment.name_en, Moment.kind, Moment.norm,
                Moment.id,
            )
            .select_from(Journey)
            .outerjoin(Moment, Moment.journey_id == Journey.id)
            .order_by(Journey.id, Moment.position, Moment.id)
        ).all()
    ]
    journeys: dict[int, JourneyRow] = {}
    for (jid, jkey, jnl, jen, dnl, den, mkey, mnl, men, kind, norm, mid, n) in rows:
        journey = journeys.get(jid)
        if journey is None:
            journey = journeys[jid] = JourneyRow(jkey, jnl if language == "nl" else jen,
                                                 dnl if language == "nl" else den, id=jid)
        if mkey is not None:
            journey.moments.append(MomentRow(mkey, mnl if language == "nl" else men, kind, norm, int(n), id=mid))
    return list(journeys.values())


# -- managers: the overview ----------------------------------------------------------

@dataclass
class Priority:
    rank: int
    journey: str
    row: object  # metrics' moment row


def with_statuses(session: Session, journeys: list[JourneyRow], language: str, min_n: int) -> list[Priority]:
    """Each moment's 7+/9+ status from the metrics domain's moment view (as the journey pages show it),
    and the ranked list of what to improve first: moments below the basics (under a 7, either kind) first, then
    the moments of truth still to win, each group by the number of customers that grade them (the most
    customers reached first)."""
    fix, win = [], []
    for journey in journeys:
        if not journey.moments:
            continue
        view = metrics.moment_view(session, journey.id, min_n=min_n, language=language)
        by_id = {r.id: r for r in view.moments}
        for m in journey.moments:
            m.status = by_id.get(m.id)
            if m.status is None:
                continue
            if m.status.status.code == "fix_basics":
                fix.append((journey.name, m.status))
            elif m.status.status.code == "win_moment":
                win.append((journey.name, m.status))
    ranked = sorted(fix, key=lambda p: -p[1].n) + sorted(win, key=lambda p: -p[1].n)
    return [Priority(i, name, row) for i, (name, row) in enumerate(ranked, start=1)]


# -- agents and team leads: the work -------------------------------------------------

def _local_today(request: Request, now: datetime) -> date:
    return now.astimezone(request.app.state.settings.zone()).date()


def _work(request: Request, session: Session, actor: Actor, now: datetime) -> dict:
    """The open follow-ups of the actor's teams, split into overdue, due today, and the later ones claimed by
    the actor and the rest of the team's."""
    items = [fu for fu in followups.work_list(session, actor, limit=500) if fu.status != "closed"]
    zone = request.app.state.settings.zone()
    today = _local_today(request, now)
    overdue = [fu for fu in items if fu.due_at < now]
    due_today = [fu for fu in items if fu.due_at >= now and fu.due_at.astimezone(zone).date() == today]
    later = [fu for fu in items if fu.due_at >= now and fu.due_at.astimezone(zone).date() > today]
    # each follow-up in one panel: what is urgent first, then the rest split into own and the team's
    return {
        "open_count": len(items), "overdue": overdue, "due_today": due_today,
        "mine": [fu for fu in later if fu.assignee_id == actor.id],
        "team": [fu for fu in later if fu.assignee_id != actor.id],
    }


def _signals(session: Session, actor: Actor) -> list[dict]:
    signals = team_work_list(session, actor.team_ids)  # all of them, newest first: the panel's count is the total
    keys = dict(session.execute(select(SignalRule.id, SignalRule.key)).all())
    cases = dict(session.execute(select(Case.id, Case.external_id)
                                 .where(Case.id.in_({s.case_id for s in signals} or {-1}))).all())
    return [{"signal": s, "rule": keys.get(s.rule_id), "case": cases.get(s.case_id), "team_id": s.team_id}
            for s in signals]


def _names(session: Session, team_ids) -> tuple[dict[int, str], dict[int, str]]:
    teams = dict(session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(sorted(team_ids) or [-1]))).all())
    users = dict(session.execute(select(User.id, User.name)).all())
    return teams, users


def _promises_at_risk(session: Session, actor: Actor, now: datetime) -> list[dict]:
    """Cases at risk that the actor's teams hold now (the case's last team, the team the list names): a case
    another team took over is that team's to handle, though the actor's team once touched it."""
    rows = at_risk(session, now, limit=10_000)
    teams = actor.visible_team_ids()
    if teams is None or not rows:
        return rows
    ids = set(session.scalars(select(Case.id).where(Case.id.in_([r["case_id"] for r in rows]),
                                                    Case.last_team_id.in_(sorted(teams) or [-1]))))
    return [r for r in rows if r["case_id"] in ids]


def _team_scores(session: Session, team_ids, teams: dict[int, str], language: str, min_n: int,
                 today: date) -> list[dict]:
    since = today - timedelta(days=SCORE_DAYS)
    out = []
    for team_id in sorted(team_ids, key=lambda t: teams.get(t, "")):
        f = MetricFilter(team_id=team_id, date_from=since, date_to=today + timedelta(days=1))
        row = metrics.metrics(session, f, min_n=min_n, language=language)[0]
        out.append({"team_id": team_id, "team": teams.get(team_id, str(team_id)), "figures": row.figures})
    return out


@router.get("/")
def home(request: Request, user: CurrentUser, session: DbSession):
    language = request_language(request)
    min_n = int(request.app.state.settings.min_n)
    actor = Actor.of(user)
    now = datetime.now(UTC)
    if user.role in MANAGERS or not actor.team_ids:
        journeys = journey_overview(session, language)
        priorities = with_statuses(session, journeys, language, min_n) if user.role in MANAGERS else []
        return render(request, "home.html", {"journeys": journeys, "priorities": priorities,
                                             "manager": user.role in MANAGERS, "figure": figure_helper(language)})
    teams, users = _names(session, actor.team_ids)
    context = {
        "work": _work(request, session, actor, now), "signals": _signals(session, actor), "teams": teams,
        "users": users, "now": now, "limit": TEAM_LIST, "figure": figure_helper(language),
        "views": lambda reasons: [followups.reason_view(r) for r in reasons],
    }
    if user.role == "teamlead":
        context.update({
            "figures": loop_figures(session, actor, now),
            "journey_names": {j.key: j.name(language) for j in session.scalars(select(Journey))},
            "cause_labels": {c.key: c.label(language) for c in session.scalars(select(RootCause).order_by(RootCause.id.desc()))},
            "at_risk": _promises_at_risk(session, actor, now),
            "scores": _team_scores(session, actor.team_ids, teams, language, min_n, _local_today(request, now)),
            "score_days": SCORE_DAYS,
            "budget_use": budget.use_by_team(session, actor, budget.local_day(now)),
            "pending": budget.pending_for(session, actor),
        })
        return render(request, "home_team.html", context)
    return render(request, "home_agent.html", context)


__all__ = ["JourneyRow", "MomentRow", "journey_overview", "router", "with_statuses"]
