"""Pages of the closed loop: work lists, a follow-up (claim, contact, gesture, close), the dashboard,
and the administrator's settings (budgets, rules). Forbidden actions get the 403 refusal page."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from servicepulse.cases import story_of
from servicepulse.errors import ValidationFailed
from servicepulse.followups import budget, config, dashboard, service
from servicepulse.followups.access import Actor, is_lead_of
from servicepulse.followups.alerts import loop_settings
from servicepulse.followups.due import overdue_by, overdue_span
from servicepulse.followups.errors import Conflict, NotAllowed, OverBudget
from servicepulse.followups.rules import DEFAULTS
from servicepulse.http import params
from servicepulse.http.auth import CurrentUser, Forbidden, require_role
from servicepulse.http.deps import DbSession
from servicepulse.http.errors import error_page
from servicepulse.http.i18n import request_language
from servicepulse.http.templating import render
from servicepulse.models import Customer, Journey, OrgUnit, User, utcnow
from servicepulse.models.followups import (
    FOLLOWUP_OUTCOMES,
    GESTURE_KINDS,
    RecoveryBudget,
    RootCause,
)

router = APIRouter(prefix="/followups")
TeamId = Annotated[int | None, Query(ge=1, le=params.MAX_ID)]


@contextmanager
def refusals():
    try:
        yield
    except NotAllowed:
        raise Forbidden() from None


def _teams(session) -> dict[int, str]:
    return dict(session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.kind == "team")).all())


def _users(session) -> dict[int, str]:
    return dict(session.execute(select(User.id, User.name)).all())


PAGE_SIZE = 50


@router.get("")
def work_list(request: Request, session: DbSession, user: CurrentUser, team: TeamId = None,
              mine: bool = False, status: str | None = None, sort: str | None = None,
              page: Annotated[int, Query(ge=1, le=params.MAX_PAGE)] = 1):
    actor = Actor.of(user)
    sort = sort if sort in service.WORK_LIST_SORTS else "due"
    now = utcnow()
    with refusals():
        total = service.count_work_list(session, actor, team_id=team, mine=mine, status=status or None)
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(page, pages)
        items = service.work_list(session, actor, team_id=team, mine=mine, status=status or None,
                                  limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, sort=sort, now=now)
        figures = dashboard.figures(session, actor, now, team)
    keep = [(k, v) for k, v in (("team", team), ("mine", "true" if mine else None), ("status", status))
            if v not in (None, "")]
    return render(request, "followups/list.html", {
        "page": page, "pages": pages, "total": total, "sort": sort,
        "query": urlencode(keep), "page_query": urlencode([*keep, ("sort", sort)]),
        "items": items, "figures": figures, "teams": _teams(session), "users": _users(session), "mine": mine,
        "team": team, "status": status or "", "now": now, "my_teams": sorted(actor.team_ids),
        "sorts": service.WORK_LIST_SORTS, "late": _late(now),
        "pending": budget.pending_for(session, actor),
        "views": lambda reasons: [service.reason_view(r) for r in reasons],
        "budget_use": budget.use_by_team(session, actor, budget.local_day(utcnow())),
        **_names(session, request_language(request)),
    })


def _late(now):
    """For the templates: a follow-up's overdue span (unit, amount) at ``now``, or None (followups/_overdue.html)."""
    def late(fu):
        span = overdue_by(fu.status, fu.due_at, now)
        return None if span is None else overdue_span(span)
    return late


def _names(session, language: str) -> dict:
    """Journey and root-cause names in the reader's language (the figures hold their keys), as the home page."""
    return {"journey_names": {j.key: j.name(language) for j in session.scalars(select(Journey))},
            "cause_labels": {c.key: c.label(language) for c in session.scalars(select(RootCause))}}


def _detail(request: Request, session, actor: Actor, followup_id: int, error: str | None = None,
            status_code: int = 200):
    fu = service.get(session, actor, followup_id)
    language = request_language(request)
    customer = session.get(Customer, fu.customer_id) if fu.customer_id else None
    now = utcnow()
    day = budget.local_day(now)
    can_work = actor.role in ("agent", "teamlead") and fu.team_id in actor.team_ids and fu.status != "closed"
    # Phone and e-mail only for the team working this follow-up while it is open (the customer page's rule,
    # docs/architecture.md): administrators, analysts, other teams and closed follow-ups get neither.
    contact = ((customer.phone, customer.email) if customer is not None and can_work
               and (customer.phone or customer.email) else None)
    return render(request, "followups/detail.html", {
        "fu": fu, "verbatim": service.verbatim(session, actor, followup_id), "customer": customer,
        "contact": contact,
        "reasons": service.reasons_of(session, actor, followup_id),
        "case_story": story_of(session, fu.case_id, utcnow()),  # the case told with the customer's answers
        "teams": _teams(session), "users": _users(session), "gestures": budget.gestures_of(session, fu.id),
        "root_causes": [(rc.key, rc.label(language)) for rc in service.root_causes(session, service.journey_of(session, fu))],
        "outcomes": FOLLOWUP_OUTCOMES, "kinds": GESTURE_KINDS, "error": error,
        "can_work": can_work,
        "is_mine": fu.assignee_id == actor.id or is_lead_of(actor, fu.team_id),
        "is_lead": is_lead_of(actor, fu.team_id),
        "my_budget": budget.state(session, day, user_id=actor.id),
        "team_budget": budget.state(session, day, team_id=fu.team_id) if fu.team_id else None,
        "euros": budget.euros, "late": _late(now),
    }, status_code=status_code)


@router.get("/{followup_id:int}")
def detail(request: Request, followup_id: params.PathId, session: DbSession, user: CurrentUser):
    with refusals():
        return _detail(request, session, Actor.of(user), followup_id)


def _act(request: Request, session, actor: Actor, followup_id: int, action):
    """Run a change; refusals of state or budget re-show the page with the reason (409)."""
    with refusals():
        try:
            with session.begin_nested():
                action()
        except (Conflict, OverBudget) as exc:
            return _detail(request, session, actor, followup_id, error=str(exc), status_code=409)
        except ValidationFailed as exc:
            return _detail(request, session, actor, followup_id, error=_said(request, exc), status_code=400)
    return RedirectResponse(f"/followups/{followup_id}", status_code=303)


def _said(request: Request, exc: ValidationFailed) -> str:
    """A refusal for the page: a refused form value in the visitor's language."""
    return exc.text(request) if isinstance(exc, params.ParamError) else str(exc)


@router.post("/{followup_id:int}/claim")
def claim(request: Request, followup_id: params.PathId, session: DbSession, user: CurrentUser):
    actor = Actor.of(user)
    return _act(request, session, actor, followup_id, lambda: service.claim(session, actor, followup_id, utcnow()))


@router.post("/{followup_id:int}/contact")
def contact(request: Request, followup_id: params.PathId, session: DbSession, user: CurrentUser,
            note: Annotated[str, Form()] = "", outcome: Annotated[str, Form()] = ""):
    actor = Actor.of(user)
    return _act(request, session, actor, followup_id,
                lambda: service.log_contact(session, actor, followup_id,
                                            params.clean_text(note, "note", limit=5000, multiline=True) or "",
                                            outcome or None, utcnow()))


@router.post("/{followup_id:int}/gesture")
def gesture(request: Request, followup_id: params.PathId, session: DbSession, user: CurrentUser,
            kind: Annotated[str, Form()] = "", amount: Annotated[str, Form()] = "",
            note: Annotated[str, Form()] = "", ask_approval: Annotated[str, Form()] = ""):
    actor = Actor.of(user)
    return _act(request, session, actor, followup_id,
                lambda: budget.spend(session, actor, followup_id, kind, params.parse_cents(amount, "amount"),
                                     params.clean_text(note, "note", limit=2000, multiline=True) or "", utcnow(),
                                     ask_approval=bool(ask_approval)))


@router.post("/{followup_id:int}/close")
def close(request: Request, followup_id: params.PathId, session: DbSession, user: CurrentUser,
          outcome: Annotated[str, Form()] = "", root_cause: Annotated[str, Form()] = "",
          resurvey: Annotated[str, Form()] = ""):
    actor = Actor.of(user)
    return _act(request, session, actor, followup_id,
                lambda: service.close(session, actor, followup_id, outcome,
                                      params.clean_text(root_cause, "root_cause", limit=120), utcnow(),
                                      resurvey=bool(resurvey)))


@router.post("/gestures/{gesture_id:int}/decide")
def decide(request: Request, gesture_id: params.PathId, session: DbSession, user: CurrentUser,
           approve: Annotated[str, Form()] = ""):
    actor = Actor.of(user)
    with refusals():
        try:
            g = budget.decide(session, actor, gesture_id, approve == "1", utcnow())
        except Conflict as exc:
            return error_page(request, 409, detail=str(exc))
    return RedirectResponse(f"/followups/{g.followup_id}", status_code=303)


@router.get("/settings", dependencies=[Depends(require_role("admin"))])
def settings_page(request: Request, session: DbSession):
    return _settings(request, session)


def _settings(request: Request, session, error: str | None = None, status_code: int = 200):
    budgets = list(session.scalars(select(RecoveryBudget).order_by(RecoveryBudget.period_start.desc())))
    return render(request, "followups/settings.html", {
        "budgets": budgets, "rules": config.list_rules(session), "teams": _teams(session), "users": _users(session),
        "defaults": DEFAULTS, "error": error, "euros": budget.euros, "loop_settings": loop_settings(session),
    }, status_code=status_code)


@router.post("/settings/budget", dependencies=[Depends(require_role("admin"))])
def settings_budget(request: Request, session: DbSession, user: CurrentUser,
                    owner: Annotated[str, Form()] = "", period_start: Annotated[str, Form()] = "",
                    period_end: Annotated[str, Form()] = "", amount: Annotated[str, Form()] = ""):
    actor = Actor.of(user)
    try:
        kind, _, raw_id = owner.partition(":")
        owner_id = params.parse_int(raw_id, "owner")
        start, end = params.parse_date(period_start, "period_start"), params.parse_date(period_end, "period_end")
        if kind not in ("team", "user") or owner_id is None or start is None or end is None:
            raise ValueError(owner)
        budget.set_budget(session, actor, team_id=owner_id if kind == "team" else None,
                          user_id=owner_id if kind == "user" else None, period_start=start, period_end=end,
                          amount_cents=params.parse_cents(amount, "amount", zero=True))
    except ValueError:
        return _settings(request, session, error="choose an owner and give dates as YYYY-MM-DD", status_code=400)
    except ValidationFailed as exc:
        return _settings(request, session, error=_said(request, exc), status_code=400)
    return RedirectResponse("/followups/settings", status_code=303)


@router.post("/settings/rule", dependencies=[Depends(require_role("admin"))])
def settings_rule(request: Request, session: DbSession, user: CurrentUser,
                  key: Annotated[str, Form()] = "", enabled: Annotated[str, Form()] = "",
                  threshold: Annotated[str, Form()] = "", priority: Annotated[int, Form()] = 2,
                  due_working_days: Annotated[int, Form()] = 2):
    actor = Actor.of(user)
    try:
        value = params.parse_number(threshold, "threshold", low=-1e6, high=1e6)
        config.set_rule(session, actor, key, enabled=bool(enabled), threshold=value, priority=priority,
                        due_working_days=due_working_days)
    except ValidationFailed as exc:
        return _settings(request, session, error=_said(request, exc), status_code=400)
    return RedirectResponse("/followups/settings", status_code=303)


@router.post("/settings/loop", dependencies=[Depends(require_role("admin"))])
def settings_loop(request: Request, session: DbSession, user: CurrentUser,
                  merge_window_days: Annotated[str, Form()] = "", alert_max_age_days: Annotated[str, Form()] = ""):
    actor = Actor.of(user)
    try:
        days = {}
        for field, raw in (("merge_window_days", merge_window_days), ("alert_max_age_days", alert_max_age_days)):
            days[field] = params.parse_int(raw, field, low=0, high=config.MAX_DAYS)
            if days[field] is None:  # both are needed: an empty field is no number of days
                raise params.ParamError(field, raw, "number")
        config.set_loop_settings(session, actor, **days)
    except ValidationFailed as exc:
        return _settings(request, session, error=_said(request, exc), status_code=400)
    return RedirectResponse("/followups/settings", status_code=303)
