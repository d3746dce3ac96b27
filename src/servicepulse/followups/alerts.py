"""Evaluating the alert rules on responses and cases, and opening follow-ups.

One follow-up per unhappy customer, not one per rule: every rule a response (a case, a promise) trips is
a *reason* (table followup_reasons). A response's reasons open one follow-up; a later reason of the same
customer (another response, a broken promise, a high effort index) is merged into the customer's open
follow-up when that follow-up's first reason lies within the merge window (a setting, 14 days by
default); otherwise it opens a new one. Anonymous answers (no customer) never open a follow-up: nobody
could contact them, and their comments feed the theme view through the verbatim analysis. Rules fire
only for recent answers and events (a setting, 14 days by default), so loading history never floods the
work lists.

A reason is recorded once per rule and source (unique rule, ref; INSERT ... ON CONFLICT DO NOTHING), so
running the rules again opens nothing; the customers' rows are locked (FOR UPDATE on PostgreSQL; SQLite
serialises write transactions) while their reasons are placed, so two workers never open two follow-ups
for one customer. The `not_solved` rule also reopens the case (followups.reopen). Never commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import column, func, inspect, select, table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from servicepulse.followups import notify, reopen
from servicepulse.followups.due import add_working_days
from servicepulse.followups.rules import (
    DEFAULTS,
    RESPONSE_RULES,
    SOLVED_QUESTIONS,
    Reason,
    RuleSetting,
    response_alerts,
)
from servicepulse.jobs.queue import enqueue_rows, job_row
from servicepulse.models import Answer, Case, Customer, FollowUp, Moment, OrgUnit, Promise, Response
from servicepulse.models.base import UTCDateTime
from servicepulse.models.followups import AlertRouting, AlertRule, FollowUpReason, FollowUpSettings

EVALUATE_JOB = "followups.evaluate_responses"
CHUNK = 500
DEFAULT_MERGE_WINDOW_DAYS = 14
DEFAULT_ALERT_MAX_AGE_DAYS = 14
_RULE_ORDER = {key: i for i, key in enumerate(DEFAULTS)}


@dataclass(frozen=True)
class LoopSettings:
    merge_window_days: int = DEFAULT_MERGE_WINDOW_DAYS  # 0: every response, case and promise on its own
    alert_max_age_days: int = DEFAULT_ALERT_MAX_AGE_DAYS  # 0: no limit


def loop_settings(session: Session) -> LoopSettings:
    row = session.get(FollowUpSettings, 1)
    return LoopSettings() if row is None else LoopSettings(row.merge_window_days, row.alert_max_age_days)


def oldest_alerting(settings: LoopSettings, now: datetime) -> datetime | None:
    """Answers and events before this moment never alert (None: no limit)."""
    return now - timedelta(days=settings.alert_max_age_days) if settings.alert_max_age_days else None


def rule_settings(session: Session) -> dict[str, RuleSetting]:
    stored = {r.key: r for r in session.scalars(select(AlertRule))}
    out = {}
    for key, default in DEFAULTS.items():
        row = stored.get(key)
        if row is None:
            out[key] = RuleSetting(key, default.enabled, default.threshold, default.priority, 2)
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


@dataclass
class Placed:
    opened: list[int] = field(default_factory=list)  # new follow-ups
    merged: list[int] = field(default_factory=list)  # open follow-ups that got a later reason
    reasons: int = 0


def _insert_followup(session: Session, row: dict, now: datetime) -> int | None:
    """A new follow-up (None when a concurrent writer opened it for the same cause meanwhile)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = (insert(FollowUp.__table__).values(status="open", version=1, created_at=now, **row)
            .on_conflict_do_nothing(index_elements=["cause", "cause_ref"]).returning(FollowUp.__table__.c.id))
    return session.execute(stmt).scalar()


def _insert_reasons(session: Session, followup_id: int, reasons: list[Reason], now: datetime) -> list[Reason]:
    """Record reasons on a follow-up; returns those that were new (a concurrent writer may have one)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    t = FollowUpReason.__table__
    rows = [{"followup_id": followup_id, "rule": r.rule, "ref": r.ref, "at": r.at, "summary": r.summary,
             "priority": r.priority, "response_id": r.response_id, "case_id": r.case_id, "added_at": now}
            for r in reasons]
    stmt = insert(t).on_conflict_do_nothing(index_elements=["rule", "ref"]).returning(t.c.rule, t.c.ref)
    done = {(rule, ref) for rule, ref in session.execute(stmt, rows)} if rows else set()
    return [r for r in reasons if (r.rule, r.ref) in done]


def _known(session: Session, reasons: list[Reason]) -> set[tuple[str, str]]:
    refs = sorted({r.ref for r in reasons})
    known: set[tuple[str, str]] = set()
    for start in range(0, len(refs), CHUNK):
        known.update(session.execute(select(FollowUpReason.rule, FollowUpReason.ref)
                                     .where(FollowUpReason.ref.in_(refs[start:start + CHUNK]))).all())
    return known


def _open_followups(session: Session, customer_ids: list[int], case_ids: list[int]) -> dict[tuple, list]:
    """Open (or claimed) follow-ups by owner key ('customer', id) / ('case', id) for anonymous cases:
    [(first reason time, follow-up id)], oldest first."""
    first = func.min(FollowUpReason.at)
    q = (select(FollowUp.id, FollowUp.customer_id, FollowUp.case_id, first, FollowUp.created_at)
         .outerjoin(FollowUpReason, FollowUpReason.followup_id == FollowUp.id)
         .where(FollowUp.status != "closed")
         .group_by(FollowUp.id, FollowUp.customer_id, FollowUp.case_id, FollowUp.created_at))
    out: dict[tuple, list] = {}
    for start in range(0, max(len(customer_ids), 1), CHUNK):
        chunk = customer_ids[start:start + CHUNK]
        if chunk:
            for fid, customer_id, _case, at, created in session.execute(q.where(FollowUp.customer_id.in_(chunk))):
                out.setdefault(("customer", customer_id), []).append((at or created, fid))
    for start in range(0, max(len(case_ids), 1), CHUNK):
        chunk = case_ids[start:start + CHUNK]
        if chunk:
            for fid, _customer, case_id, at, created in session.execute(
                    q.where(FollowUp.customer_id.is_(None), FollowUp.case_id.in_(chunk))):
                out.setdefault(("case", case_id), []).append((at or created, fid))
    for found in out.values():
        found.sort()
    return out


def _owner(reason: Reason) -> tuple | None:
    if reason.customer_id is not None:
        return ("customer", reason.customer_id)
    if reason.case_id is not None and reason.response_id is None:  # a case without a known customer
        return ("case", reason.case_id)
    return None  # an anonymous answer: nobody to contact


def place_reasons(session: Session, reasons: list[Reason], now: datetime) -> Placed:
    """Record new reasons: merge them into their customer's open follow-up within the merge window, or
    open one follow-up per source (a response with all its reasons). Announces new follow-ups."""
    placed = Placed()
    reasons = [r for r in reasons if _owner(r) is not None]
    if not reasons:
        return placed
    known = _known(session, reasons)
    reasons = [r for r in reasons if (r.rule, r.ref) not in known]
    if not reasons:
        return placed
    window = timedelta(days=loop_settings(session).merge_window_days)
    customer_ids = sorted({r.customer_id for r in reasons if r.customer_id is not None})
    for start in range(0, len(customer_ids), CHUNK):  # in id order: two workers never wait on each other
        session.execute(select(Customer.id).where(Customer.id.in_(customer_ids[start:start + CHUNK]))
                        .order_by(Customer.id).with_for_update())
    anonymous_cases = sorted({r.case_id for r in reasons if r.customer_id is None and r.case_id is not None})
    open_by_owner = _open_followups(session, customer_ids, anonymous_cases)
    sources: dict[tuple, list[Reason]] = {}
    for r in reasons:
        sources.setdefault((_owner(r), r.ref), []).append(r)
    reopened: list[tuple[int, Reason]] = []
    for (owner, ref), group in sorted(sources.items(), key=lambda kv: (min(r.at for r in kv[1]), kv[0][1])):
        group.sort(key=lambda r: (r.priority, _RULE_ORDER.get(r.rule, 99)))
        at = min(r.at for r in group)
        candidates = [fid for first, fid in open_by_owner.get(owner, []) if abs(at - first) <= window]
        if candidates:
            fid = candidates[-1]
            added = _insert_reasons(session, fid, group, now)
            if added:
                fu = session.get(FollowUp, fid)
                priority = min(r.priority for r in added)
                due = min(r.due_at for r in added)
                if priority < fu.priority or due < fu.due_at:
                    fu.priority, fu.due_at = min(fu.priority, priority), min(fu.due_at, due)
                if fid not in placed.merged and fid not in placed.opened:
                    placed.merged.append(fid)
        else:
            head = group[0]
            fid = _insert_followup(session, {
                "cause": head.rule, "cause_ref": ref, "response_id": head.response_id, "case_id": head.case_id,
                "customer_id": head.customer_id, "priority": min(r.priority for r in group),
                "summary": ", ".join(r.summary for r in group)[:2000], "team_id": head.team_id,
                "due_at": min(r.due_at for r in group)}, now)
            if fid is None:
                continue
            added = _insert_reasons(session, fid, group, now)
            if not added:  # a concurrent evaluation recorded them first: this follow-up would be a twin
                session.execute(FollowUp.__table__.delete().where(FollowUp.__table__.c.id == fid))
                continue
            placed.opened.append(fid)
            open_by_owner.setdefault(owner, []).append((at, fid))
            open_by_owner[owner].sort()
        placed.reasons += len(added)
        reopened += [(fid, r) for r in added if r.rule == "not_solved" and r.case_id is not None]
    session.flush()
    notify.announce(session, placed.opened, "new", now)
    notify.announce(session, placed.merged, "merged", now, occasion=f"@{now.isoformat()}")
    if reopened:
        reopen.reopen_cases(session, reopened, now)
    return placed


def _solved_answers(session: Session, ids: list[int] | None) -> dict[int, dict[str, object]]:
    q = select(Answer.response_id, Answer.question_key, Answer.value_text).where(
        Answer.question_key.in_(SOLVED_QUESTIONS), Answer.value_text.is_not(None))
    if ids is not None:
        q = q.where(Answer.response_id.in_(ids))
    out: dict[int, dict[str, object]] = {}
    for rid, key, value in session.execute(q):
        out.setdefault(rid, {})[key] = value
    return out


def response_reasons(session: Session, response_ids: list[int] | None, now: datetime) -> list[Reason]:
    """The reasons the response rules find in these responses (None: every response), recent ones only."""
    settings = rule_settings(session)
    if not any(settings[k].enabled for k in RESPONSE_RULES):
        return []
    oldest = oldest_alerting(loop_settings(session), now)
    resolver = TeamResolver.load(session)
    query = (select(Response.id, Response.nps, Response.grade, Response.ces, Response.comment, Response.language,
                    Response.moment_id, Response.team_id, Response.case_id, Response.customer_id,
                    Response.submitted_at, Case.last_team_id)
             .outerjoin(Case, Case.id == Response.case_id)
             .where(Response.customer_id.is_not(None), Response.completed.is_(True)).order_by(Response.id))
    if oldest is not None:
        query = query.where(Response.submitted_at >= oldest)
    id_lists = [None] if response_ids is None else [response_ids[i:i + CHUNK] for i in range(0, len(response_ids), CHUNK)]
    out: list[Reason] = []
    for ids in id_lists:
        q = query if ids is None else query.where(Response.id.in_(ids))
        rows = session.execute(q).all()
        if not rows:
            continue
        answers = _solved_answers(session, ids) if settings["not_solved"].enabled else {}
        for r in rows:
            for alert in response_alerts(r.nps, r.grade, r.ces, r.comment, r.language, settings, answers.get(r.id)):
                out.append(Reason(
                    alert.rule, f"response:{r.id}", r.submitted_at, alert.reason, alert.priority,
                    add_working_days(max(now, r.submitted_at), settings[alert.rule].due_working_days),
                    r.customer_id, r.case_id, r.id, resolver.team_for(r.moment_id, r.team_id, r.last_team_id)))
    return out


def evaluate_responses(session: Session, response_ids: list[int] | None, now: datetime) -> list[int]:
    """Run the response rules on the given responses (None: every response); returns new follow-up ids."""
    return place_reasons(session, response_reasons(session, response_ids, now), now).opened


def _case_facts_table(session: Session):
    """The cases domain's case_facts table, if this database has it."""
    if not inspect(session.connection()).has_table("case_facts"):
        return None
    return table("case_facts", column("case_id"), column("effort_index"), column("updated_at", UTCDateTime()))


def case_reasons(session: Session, now: datetime, since: datetime | None = None) -> list[Reason]:
    """The reasons the case rules (high effort index, broken promise) find over all cases, or over those whose
    facts changed or whose promise broke at or after ``since``; recent ones only."""
    settings = rule_settings(session)
    oldest = oldest_alerting(loop_settings(session), now)
    resolver = TeamResolver.load(session)
    out: list[Reason] = []
    s = settings["high_effort_index"]
    facts = _case_facts_table(session) if s.enabled else None
    if facts is not None:
        at = func.coalesce(Case.closed_at, facts.c.updated_at)
        q = (select(Case.id, Case.customer_id, Case.last_team_id, facts.c.effort_index, at.label("at"))
             .join(facts, facts.c.case_id == Case.id).where(facts.c.effort_index >= s.threshold))
        if since is not None:
            q = q.where(facts.c.updated_at >= since)
        for r in session.execute(q):
            when = min(r.at or now, now)  # facts computed "after" an as-of evaluation count as of then
            if oldest is not None and when < oldest:
                continue
            out.append(Reason("high_effort_index", f"case:{r.id}", when, f"effort index {r.effort_index:.0f}",
                              s.priority, add_working_days(now, s.due_working_days), r.customer_id, r.id,
                              team_id=resolver.team_for(None, None, r.last_team_id)))
    s = settings["broken_promise"]
    if s.enabled:
        q = (select(Promise.id, Promise.kind, Promise.made_by_team_id, Promise.broken_at, Case.id.label("case_id"),
                    Case.customer_id, Case.last_team_id)
             .join(Case, Case.id == Promise.case_id).where(Promise.status == "broken"))
        if since is not None:
            q = q.where(Promise.broken_at >= since)
        if oldest is not None:
            q = q.where(Promise.broken_at >= oldest)
        for r in session.execute(q):
            when = r.broken_at or now
            out.append(Reason("broken_promise", f"promise:{r.id}", when, f"broken promise ({r.kind})", s.priority,
                              add_working_days(max(now, when), s.due_working_days), r.customer_id, r.case_id,
                              team_id=resolver.team_for(None, r.made_by_team_id, r.last_team_id)))
    return out


def evaluate_cases(session: Session, now: datetime, since: datetime | None = None) -> list[int]:
    """Run the case rules; returns new follow-up ids (reasons merged into open follow-ups open none)."""
    return place_reasons(session, case_reasons(session, now, since), now).opened


def run_all(session: Session, now: datetime, since: datetime | None = None) -> dict[str, int]:
    """Every rule over everything, or over what arrived or changed at or after ``since`` (idempotent either way:
    one reason per rule and source), recent answers and events only: what `servicepulse alerts run` does.
    Returns the follow-ups opened from responses and from cases, and those that got a later reason merged."""
    response_ids = None
    if since is not None:
        response_ids = list(session.scalars(select(Response.id).where(Response.submitted_at >= since)
                                            .order_by(Response.id)))
    from_responses = place_reasons(session, response_reasons(session, response_ids, now), now)
    from_cases = place_reasons(session, case_reasons(session, now, since), now)
    merged = set(from_responses.merged) | set(from_cases.merged)
    return {"responses": len(from_responses.opened), "cases": len(from_cases.opened), "merged": len(merged)}


def evaluation_row(response_ids: list[int], now: datetime) -> dict:
    """The job that evaluates the rules over new responses (a row for `jobs.queue.enqueue_rows`):
    response ingestion queues it in its transaction, so it never waits for (or fails on) the rules."""

    return job_row(EVALUATE_JOB, {"response_ids": [int(i) for i in response_ids]}, now)


def enqueue_evaluation(session: Session, response_ids: list[int], now: datetime) -> None:
    if response_ids:

        enqueue_rows(session, [evaluation_row(response_ids, now)])
