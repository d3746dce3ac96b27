"""Evaluating the alert rules on responses and cases, and opening follow-ups.

Opening is an INSERT ... ON CONFLICT DO NOTHING on the unique (cause,
cause_ref), so the same alert never opens two follow-ups, also when two
workers evaluate the same response at the same moment. Never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import column, inspect, select, table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from servicepulse.followups import notify
from servicepulse.followups.due import add_working_days
from servicepulse.followups.rules import (
    DEFAULTS,
    RESPONSE_RULES,
    RuleSetting,
    response_alerts,
)
from servicepulse.jobs.queue import enqueue_rows, job_row
from servicepulse.models import Case, FollowUp, Moment, OrgUnit, Promise, Response
from servicepulse.models.base import UTCDateTime
from servicepulse.models.followups import AlertRouting, AlertRule

EVALUATE_JOB = "followups.evaluate_responses"
CHUNK = 500


def rule_settings(session: Session) -> dict[str, RuleSetting]:
    stored = {r.key: r for r in session.scalars(select(AlertRule))}
    out = {}
    for key, default in DEFAULTS.items():
        row = stored.get(key)
        if row is None:
            out[key] = RuleSetting(key, True, default.threshold, default.priority, 2)
        else:
            out[key] = RuleSetting(key, row.enabled, default.threshold if row.threshold is None else row.threshold,
                                   row.priority, row.due_working_days)
    return out


@dataclass
class TeamResolver:
    """The team closest to the customer: a configured mapping for the moment, else a team in the
    moment's department (the answering or handling team when it is one), else the case's last team."""

    routing: dict[int, int]
    moment_department: dict[int, int | None]
    team_parent: dict[int, int | None]
    first_team_of_department: dict[int, int]

    @classmethod
    def load(cls, session: Session) -> TeamResolver:
        routing = dict(session.execute(select(AlertRouting.moment_id, AlertRouting.team_id)).all())
        moments = dict(session.execute(select(Moment.id, Moment.department_id)).all())
        teams = session.execute(select(OrgUnit.id, OrgUnit.parent_id, OrgUnit.line)
                                .where(OrgUnit.kind == "team").order_by(OrgUnit.id)).all()
        first: dict[int, int] = {}
        for team_id, parent, _line in sorted(teams, key=lambda t: (t.line != "front", t.id)):
            if parent is not None:
                first.setdefault(parent, team_id)
        return cls(routing, moments, {t.id: t.parent_id for t in teams}, first)

    def team_for(self, moment_id: int | None, handling_team: int | None, case_team: int | None) -> int | None:
        if moment_id is not None and moment_id in self.routing:
            return self.routing[moment_id]
        department = self.moment_department.get(moment_id) if moment_id is not None else None
        if department is not None:
            for candidate in (handling_team, case_team):
                if candidate is not None and self.team_parent.get(candidate) == department:
                    return candidate
            if department in self.first_team_of_department:
                return self.first_team_of_department[department]
        for candidate in (handling_team, case_team):
            if candidate in self.team_parent:
                return candidate
        return None


def _insert(session: Session, rows: list[dict], now: datetime) -> list[int]:
    """Insert follow-ups, skipping causes that have one already; returns the ids of the new ones."""
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    new_ids: list[int] = []
    for start in range(0, len(rows), CHUNK):
        chunk = [{"status": "open", "version": 1, "created_at": now, **r} for r in rows[start:start + CHUNK]]
        stmt = insert(FollowUp.__table__).on_conflict_do_nothing(index_elements=["cause", "cause_ref"])
        new_ids += list(session.execute(stmt.returning(FollowUp.__table__.c.id), chunk).scalars())
    return new_ids


def evaluate_responses(session: Session, response_ids: list[int] | None, now: datetime) -> list[int]:
    """Run the response rules on the given responses (None: every response); returns new follow-up ids."""
    settings = rule_settings(session)
    if not any(settings[k].enabled for k in RESPONSE_RULES):
        return []
    resolver = TeamResolver.load(session)
    query = (select(Response.id, Response.nps, Response.grade, Response.ces, Response.comment, Response.language,
                    Response.moment_id, Response.team_id, Response.case_id, Response.customer_id,
                    Response.submitted_at, Case.last_team_id)
             .outerjoin(Case, Case.id == Response.case_id).order_by(Response.id))
    id_lists = [None] if response_ids is None else [response_ids[i:i + CHUNK] for i in range(0, len(response_ids), CHUNK)]
    new: list[int] = []
    for ids in id_lists:
        rows = []
        q = query if ids is None else query.where(Response.id.in_(ids))
        for r in session.execute(q):
            for alert in response_alerts(r.nps, r.grade, r.ces, r.comment, r.language, settings):
                rows.append({
                    "cause": alert.rule, "cause_ref": f"response:{r.id}", "response_id": r.id, "case_id": r.case_id,
                    "customer_id": r.customer_id, "priority": alert.priority, "summary": alert.reason,
                    "team_id": resolver.team_for(r.moment_id, r.team_id, r.last_team_id),
                    "due_at": add_working_days(max(now, r.submitted_at), settings[alert.rule].due_working_days),
                })
        new += _insert(session, rows, now)
    notify.announce(session, new, "new", now)
    return new


def _case_facts_table(session: Session):
    """The cases domain's case_facts table, if this database has it."""
    if not inspect(session.connection()).has_table("case_facts"):
        return None
    return table("case_facts", column("case_id"), column("effort_index"), column("updated_at", UTCDateTime()))


def evaluate_cases(session: Session, now: datetime, since: datetime | None = None) -> list[int]:
    """Run the case rules (high effort index, broken promise) over all cases, or over those whose facts changed
    or whose promise broke at or after ``since``; returns new follow-up ids."""
    settings = rule_settings(session)
    resolver = TeamResolver.load(session)
    rows: list[dict] = []
    s = settings["high_effort_index"]
    facts = _case_facts_table(session) if s.enabled else None
    if facts is not None:
        q = (select(Case.id, Case.customer_id, Case.last_team_id, facts.c.effort_index)
             .join(facts, facts.c.case_id == Case.id).where(facts.c.effort_index >= s.threshold))
        if since is not None:
            q = q.where(facts.c.updated_at >= since)
        for r in session.execute(q):
            rows.append({"cause": "high_effort_index", "cause_ref": f"case:{r.id}", "case_id": r.id,
                         "customer_id": r.customer_id, "priority": s.priority,
                         "summary": f"effort index {r.effort_index:.0f}",
                         "team_id": resolver.team_for(None, None, r.last_team_id),
                         "due_at": add_working_days(now, s.due_working_days)})
    s = settings["broken_promise"]
    if s.enabled:
        q = (select(Promise.id, Promise.kind, Promise.made_by_team_id, Promise.broken_at, Case.id.label("case_id"),
                    Case.customer_id, Case.last_team_id)
             .join(Case, Case.id == Promise.case_id).where(Promise.status == "broken"))
        if since is not None:
            q = q.where(Promise.broken_at >= since)
        for r in session.execute(q):
            rows.append({"cause": "broken_promise", "cause_ref": f"promise:{r.id}", "case_id": r.case_id,
                         "customer_id": r.customer_id, "priority": s.priority,
                         "summary": f"broken promise ({r.kind})",
                         "team_id": resolver.team_for(None, r.made_by_team_id, r.last_team_id),
                         "due_at": add_working_days(max(now, r.broken_at or now), s.due_working_days)})
    new = _insert(session, rows, now)
    notify.announce(session, new, "new", now)
    return new


def run_all(session: Session, now: datetime, since: datetime | None = None) -> dict[str, int]:
    """Every rule over everything, or over what arrived or changed at or after ``since`` (idempotent either way:
    one follow-up per cause): what `servicepulse alerts run` does."""
    response_ids = None
    if since is not None:
        response_ids = list(session.scalars(select(Response.id).where(Response.submitted_at >= since)
                                            .order_by(Response.id)))
    from_responses = evaluate_responses(session, response_ids, now)
    from_cases = evaluate_cases(session, now, since)
    return {"responses": len(from_responses), "cases": len(from_cases)}


def evaluation_row(response_ids: list[int], now: datetime) -> dict:
    """The job that evaluates the rules over new responses (a row for `jobs.queue.enqueue_rows`):
    response ingestion queues it in its transaction, so it never waits for (or fails on) the rules."""

    return job_row(EVALUATE_JOB, {"response_ids": [int(i) for i in response_ids]}, now)


def enqueue_evaluation(session: Session, response_ids: list[int], now: datetime) -> None:
    if response_ids:

        enqueue_rows(session, [evaluation_row(response_ids, now)])
