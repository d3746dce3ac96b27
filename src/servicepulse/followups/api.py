"""/api/v1 routes of the closed loop. The API key acts for the user who created it, with that
user's role and teams: a key without a user (made on the command line) gets 403 here, because the
follow-ups are only ever shown per role. Refusals: 403 (role or team), 409 (state or budget)."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from servicepulse.followups import budget, config, dashboard, service
from servicepulse.followups.access import Actor
from servicepulse.followups.errors import Conflict, NotAllowed, OverBudget
from servicepulse.http.auth import needs
from servicepulse.http.deps import DbSession
from servicepulse.http.params import MAX_ID, ApiDate, ApiLines, ApiText
from servicepulse.models import FollowUp, utcnow

router = APIRouter(tags=["follow-ups"], responses={
    400: {"description": "The body is not valid JSON"},
    403: {"description": "Your role or team does not allow this, or the key acts for no user"},
    404: {"description": "No such follow-up or gesture"},
    409: {"description": "The follow-up's state or the recovery budget does not allow this"},
})


def api_actor(request: Request) -> Actor:
    """The key's user (servicepulse.http.auth.ApiCaller.actor); a key without a user gets 403 here."""
    caller = getattr(request.state, "api_key", None)
    if caller is None or caller.actor.id is None:
        raise HTTPException(403, "this API key does not act for an active user; follow-ups are shown per role, "
                                 "so create the key for a user")
    return caller.actor


ApiActor = Annotated[Actor, Depends(api_actor)]
TeamId = Annotated[int | None, Query(ge=1, le=MAX_ID)]


@contextmanager
def refusals():
    try:
        yield
    except NotAllowed as exc:
        raise HTTPException(403, str(exc)) from None
    except (Conflict, OverBudget) as exc:
        raise HTTPException(409, str(exc)) from None


def followup_json(fu: FollowUp) -> dict:
    return {
        "id": fu.id, "cause": fu.cause, "cause_ref": fu.cause_ref, "summary": fu.summary, "priority": fu.priority,
        "status": fu.status, "team_id": fu.team_id, "assignee_id": fu.assignee_id, "case_id": fu.case_id,
        "response_id": fu.response_id, "created_at": fu.created_at, "due_at": fu.due_at, "claimed_at": fu.claimed_at,
        "first_contact_at": fu.first_contact_at, "escalated_at": fu.escalated_at, "closed_at": fu.closed_at,
        "outcome": fu.outcome, "root_cause": fu.root_cause,
        "reasons": [{"rule": r.rule, "ref": r.ref, "at": r.at, "summary": r.summary, "priority": r.priority,
                     "response_id": r.response_id, "case_id": r.case_id} for r in fu.reasons],
    }


def gesture_json(g) -> dict:
    return {"id": g.id, "followup_id": g.followup_id, "kind": g.kind, "amount_cents": g.amount_cents,
            "status": g.status, "note": g.note, "at": g.at, "user_id": g.user_id, "decided_by_id": g.decided_by_id}


@router.get("/followups", dependencies=[needs("read:followups")])
def list_followups(session: DbSession, actor: ApiActor, team_id: TeamId = None, mine: bool = False,
                   status: Literal["open", "claimed", "closed"] | None = None):
    with refusals():
        return [followup_json(f) for f in service.work_list(session, actor, team_id=team_id, mine=mine, status=status)]


@router.get("/followups/{followup_id}", dependencies=[needs("read:followups")])
def get_followup(followup_id: int, session: DbSession, actor: ApiActor):
    with refusals():
        fu = service.get(session, actor, followup_id)
        body = followup_json(fu)
        body["contacts"] = [{"at": c.at, "note": c.note, "outcome": c.outcome, "user_id": c.user_id}
                            for c in fu.contacts]
        body["gestures"] = [gesture_json(g) for g in budget.gestures_of(session, fu.id)]
        return body


@router.get("/followups/{followup_id}/verbatim", dependencies=[needs("read:followups")])
def get_verbatim(followup_id: int, session: DbSession, actor: ApiActor):
    with refusals():
        v = service.verbatim(session, actor, followup_id)
        return None if v is None else {"response_id": v.response_id, "comment": v.comment, "nps": v.nps,
                                       "grade": v.grade, "ces": v.ces, "submitted_at": v.submitted_at}


@router.post("/followups/{followup_id}/claim", dependencies=[needs("write:followups")])
def claim(followup_id: int, session: DbSession, actor: ApiActor):
    with refusals():
        return followup_json(service.claim(session, actor, followup_id, utcnow()))


class ContactIn(BaseModel):
    note: ApiLines = Field(min_length=1, max_length=5000)
    outcome: Literal["resolved", "explained", "compensated", "unreachable"] | None = None


@router.post("/followups/{followup_id}/contacts", dependencies=[needs("write:followups")], status_code=201)
def log_contact(followup_id: int, body: ContactIn, session: DbSession, actor: ApiActor):
    with refusals():
        c = service.log_contact(session, actor, followup_id, body.note, body.outcome, utcnow())
        return {"id": c.id, "at": c.at, "note": c.note, "outcome": c.outcome}


class GestureIn(BaseModel):
    kind: Literal["credit", "gift", "free_service"]
    amount_cents: int = Field(gt=0, le=10_000_000)
    note: ApiLines = Field("", max_length=2000)
    ask_approval: bool = False


@router.post("/followups/{followup_id}/gestures", dependencies=[needs("write:followups")], status_code=201)
def spend(followup_id: int, body: GestureIn, session: DbSession, actor: ApiActor):
    with refusals():
        return gesture_json(budget.spend(session, actor, followup_id, body.kind, body.amount_cents, body.note,
                                         utcnow(), ask_approval=body.ask_approval))


class DecisionIn(BaseModel):
    approve: bool


@router.post("/gestures/{gesture_id}/decision", dependencies=[needs("write:followups")])
def decide(gesture_id: int, body: DecisionIn, session: DbSession, actor: ApiActor):
    with refusals():
        return gesture_json(budget.decide(session, actor, gesture_id, body.approve, utcnow()))


class CloseIn(BaseModel):
    outcome: Literal["resolved", "explained", "compensated", "unreachable"]
    root_cause: ApiText | None = Field(None, max_length=120)
    resurvey: bool = False


@router.post("/followups/{followup_id}/close", dependencies=[needs("write:followups")])
def close(followup_id: int, body: CloseIn, session: DbSession, actor: ApiActor):
    with refusals():
        return followup_json(service.close(session, actor, followup_id, body.outcome, body.root_cause, utcnow(),
                                           resurvey=body.resurvey))


class BudgetIn(BaseModel):
    team_id: int | None = Field(None, ge=1, le=MAX_ID)
    user_id: int | None = Field(None, ge=1, le=MAX_ID)
    period_start: ApiDate
    period_end: ApiDate
    amount_cents: int = Field(ge=0, le=1_000_000_000)


@router.put("/recovery-budgets", dependencies=[needs("admin")])
def set_budget(body: BudgetIn, session: DbSession, actor: ApiActor):
    with refusals():
        b = budget.set_budget(session, actor, team_id=body.team_id, user_id=body.user_id,
                              period_start=body.period_start, period_end=body.period_end,
                              amount_cents=body.amount_cents)
        return {"id": b.id, "team_id": b.team_id, "user_id": b.user_id, "period_start": b.period_start,
                "period_end": b.period_end, "amount_cents": b.amount_cents}


@router.get("/recovery-budgets/report", dependencies=[needs("read:followups")])
def budget_report(session: DbSession, actor: ApiActor):
    return budget.spend_report(session, actor)


class RuleIn(BaseModel):
    enabled: bool = True
    threshold: float | None = Field(None, allow_inf_nan=False, ge=-1e6, le=1e6)
    priority: int = Field(2, ge=1, le=3)
    due_working_days: int = Field(2, ge=0, le=30)


def rule_json(r) -> dict:
    return {"key": r.key, "enabled": r.enabled, "threshold": r.threshold, "priority": r.priority,
            "due_working_days": r.due_working_days}


@router.get("/alert-rules", dependencies=[needs("read:followups")])
def list_rules(session: DbSession, actor: ApiActor):
    return [rule_json(r) for r in config.list_rules(session)]


@router.put("/alert-rules/{key}", dependencies=[needs("admin")])
def set_rule(key: str, body: RuleIn, session: DbSession, actor: ApiActor):
    with refusals():
        return rule_json(config.set_rule(session, actor, key, enabled=body.enabled, threshold=body.threshold,
                                         priority=body.priority, due_working_days=body.due_working_days))


@router.get("/followups-dashboard", dependencies=[needs("read:followups")])
def loop_dashboard(session: DbSession, actor: ApiActor, team_id: TeamId = None):
    now: datetime = utcnow()
    with refusals():
        if team_id is not None and actor.visible_team_ids() is not None and team_id not in actor.visible_team_ids():
            raise NotAllowed("you can only see the figures of your own teams")
        f = dashboard.figures(session, actor, now, team_id)
        return {"total": f.total, "by_status": f.by_status, "overdue": f.overdue,
                "closed_loop_rate": f.closed_loop_rate, "median_first_contact_hours": f.median_first_contact_hours,
                "top_root_causes": {k: [{"root_cause": c, "count": n} for c, n in v]
                                    for k, v in f.top_root_causes.items()},
                "budget_use": budget.use_by_team(session, actor, budget.local_day(now))}
