"""Pages: the expectations dashboard (/expectations), one case's promises, signals and
forecast (/expectations/cases/{id}), and `forecast_panel`, a panel for the cases domain's case page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepulse.cases import can_see_case, visible_cases
from servicepulse.errors import NotFound
from servicepulse.expectations import dashboard, forecasting, kept_rate
from servicepulse.expectations.signals import WORK_LIST_SORTS, count_team_work, team_work_list, work_list_rules
from servicepulse.http import params
from servicepulse.http.auth import CurrentActor, require_role
from servicepulse.http.deps import DbSession
from servicepulse.http.i18n import request_language
from servicepulse.http.templating import base_context, render
from servicepulse.kernels import charts
from servicepulse.kernels.statistics.intervals import wilson
from servicepulse.models import Case, Journey, OrgUnit
from servicepulse.models.expectations import Signal, SignalRule

VIEWERS = ("admin", "analyst", "teamlead")
router = APIRouter(prefix="/expectations")


def _moment(at: str | None) -> datetime:
    """``?at=`` lets a person (and a test) look at the situation as of another moment (with an offset,
    within the bounds of servicepulse.http.params)."""
    return params.parse_moment(at, "at") or datetime.now(UTC)


def forecast_context(request: Request, session: Session, case: Case, now: datetime | None = None) -> dict:
    now = now or datetime.now(UTC)
    path = forecasting.model_path(request.app.state.settings.data_dir)
    result = forecasting.forecast_cases(session, [case.id], now, forecasting.load_forecaster(path),
                                        model_file=path)[case.id]
    return {"forecast": result, "forecast_promise": forecasting.open_promise(session, case.id),
            "elapsed_hours": result.elapsed_s / 3600}


def forecast_panel(request: Request, session: Session, case: Case, now: datetime | None = None) -> Markup:
    """The forecast panel as an HTML fragment, for any case page: this domain's case page puts it
    inline, and the app assembly registers it as a panel of the cases domain's page
    (``app.state.case_panels``, called as ``panel(request, session, case, now)``)."""
    context = base_context(request)
    context.update(forecast_context(request, session, case, now))
    template = request.app.state.templates.env.get_template("expectations/forecast_panel.html")
    return Markup(template.render(context))


def _own_cases(session: Session, actor, rows: list[dict]) -> list[dict]:
    """The at-risk list is team work: a team lead sees the cases of their own teams."""
    scope = visible_cases(actor)
    if scope is None or not rows:
        return rows
    ids = set(session.scalars(select(Case.id).where(Case.id.in_([r["case_id"] for r in rows]), scope)))
    return [r for r in rows if r["case_id"] in ids]


AT_RISK_SORTS = {  # sort key -> row key; the default "due" is the most urgent first (dashboard.at_risk's order)
    "due": None,
    "silent": lambda r: (r["silent_since"] is None, r["silent_since"] or datetime.min.replace(tzinfo=UTC)),
    "case": lambda r: r["external_id"],
    "team": lambda r: (r["team"] is None, r["team"] or ""),
}
AT_RISK_PER_PAGE = 25


@router.get("", dependencies=[Depends(require_role(*VIEWERS))])
def dashboard_page(request: Request, session: DbSession, actor: CurrentActor,
                   at: Annotated[str | None, Query()] = None, team: Annotated[str | None, Query()] = None,
                   sort: Annotated[str | None, Query()] = None,
                   page: Annotated[int, Query(ge=1, le=params.MAX_PAGE)] = 1):
    """Cases at risk (25 a page, most urgent first or by silence, case or team), kept promises and signals;
    ``?team=`` scopes the figures to one team (its promises, its signals, its cases at risk)."""
    try:
        now = _moment(at)
        team_id = params.parse_int(team, "team")
    except params.ParamError as exc:
        return params.refused_page(request, exc)
    if team_id is not None and not actor.sees_team(team_id):
        raise NotFound(f"team {team} is not one of your teams")
    language = request_language(request)
    catalogue = request.app.state.catalogue
    since = now - timedelta(days=365)
    trend = kept_rate.kept_trend(session, since=since, until=now, team_id=team_id)
    chart = None
    if not trend.empty:
        rows = []
        for item in trend.itertuples():
            share = wilson(int(item.kept), int(item.kept + item.broken), min_n=1)
            rows.append({"month": item.period.strftime("%Y-%m-%d"), "kept": 100 * share.share,
                         "low": 100 * share.low, "high": 100 * share.high})
        title = catalogue.translate("expectations.trend_chart", language)
        chart = charts.svg(charts.specs.line_with_band(rows, "month", "kept", "low", "high", y_title="%"),
                           title=title, language=language)
    effects = {m: kept_rate.broken_promise_effect(session, m, since=since, until=now) for m in kept_rate.MEASURES}
    at_risk = _own_cases(session, actor, dashboard.at_risk(session, now, limit=None))
    if team_id is not None:
        at_risk = [r for r in at_risk if r["case_id"] in _team_cases(session, team_id, [r["case_id"] for r in at_risk])]
    sort = sort if sort in AT_RISK_SORTS else "due"
    if AT_RISK_SORTS[sort] is not None:
        at_risk = sorted(at_risk, key=AT_RISK_SORTS[sort])  # stable: ties stay most urgent first
    risk_pages = max(1, -(-len(at_risk) // AT_RISK_PER_PAGE))
    page = min(page, risk_pages)
    keep = [(name, value) for name, value in (("team", team), ("at", at)) if value]
    visible = actor.visible_team_ids()
    teams = [(i, n) for i, n in session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.kind == "team")
                                                .order_by(OrgUnit.name)) if visible is None or i in visible]
    return render(request, "expectations/dashboard.html", {
        "now": now, "at": at or "", "team_id": team_id, "teams": teams,
        "team_name": dict(teams).get(team_id),
        "at_risk": at_risk[(page - 1) * AT_RISK_PER_PAGE: page * AT_RISK_PER_PAGE], "at_risk_total": len(at_risk),
        "page": page, "pages": risk_pages, "sort": sort, "query": urlencode(keep),
        "page_query": urlencode([*keep, ("sort", sort)]),
        "team_chip_remove": "/expectations" + (f"?{urlencode([('at', at)])}" if at else ""),
        "rates": {by: kept_rate.kept_rates(session, by, since=since, until=now, team_id=team_id)
                  for by in kept_rate.GROUPINGS},
        "journey_names": {j.key: j.name(language) for j in session.scalars(select(Journey))},
        "trend_chart": Markup(chart) if chart else None, "trend": trend, "effects": effects,
        "per_team": dashboard.signals_per_team(session, team_id=team_id),
    })


def _team_cases(session, team_id: int, case_ids: list[int]) -> set[int]:
    """Of these cases, those whose last team is ``team_id`` (the team that holds them now)."""
    return set(session.scalars(select(Case.id).where(Case.id.in_(case_ids or [-1]), Case.last_team_id == team_id)))


@router.get("/cases/{external_id}")
def case_page(request: Request, external_id: params.PathKey, actor: CurrentActor, session: DbSession,
              at: Annotated[str | None, Query()] = None):
    try:
        now = _moment(at)
    except params.ParamError as exc:
        return params.refused_page(request, exc)
    case = session.scalar(select(Case).where(Case.external_id == external_id))
    if case is None or not can_see_case(session, actor, case):  # another team's case: as if it did not exist
        raise NotFound(f"there is no case {external_id!r}")
    signals = session.execute(select(Signal, SignalRule.key, OrgUnit.name)
                              .join(SignalRule, SignalRule.id == Signal.rule_id)
                              .outerjoin(OrgUnit, OrgUnit.id == Signal.team_id)
                              .where(Signal.case_id == case.id).order_by(Signal.fired_at.desc())).all()
    return render(request, "expectations/case.html", {
        "case": case, "promises": list(case.promises), "signals": signals,
        "forecast_panel": forecast_panel(request, session, case, now),
    })


SIGNALS_PER_PAGE = 50


@router.get("/signals")
def work_list(request: Request, actor: CurrentActor, session: DbSession,
              team: Annotated[str | None, Query()] = None, sort: Annotated[str | None, Query()] = None,
              page: Annotated[int, Query(ge=1, le=params.MAX_PAGE)] = 1):
    """The team's work list: unresolved signals, newest first (or by rule, team or case), 50 a page. Without
    ``?team=`` a person sees the signals of their own teams (administrators and analysts: all teams; a person
    in no team: none)."""
    try:
        team_id = params.parse_int(team, "team")
    except params.ParamError as exc:
        return params.refused_page(request, exc)
    if team_id is not None and not actor.sees_team(team_id):
        raise NotFound(f"team {team} is not one of your teams")
    scope = [team_id] if team_id is not None else actor.visible_team_ids()  # None: every team
    sort = sort if sort in WORK_LIST_SORTS else "fired"
    total = count_team_work(session, scope)
    pages = max(1, -(-total // SIGNALS_PER_PAGE))
    page = min(page, pages)
    signals = team_work_list(session, scope, sort=sort, limit=SIGNALS_PER_PAGE, offset=(page - 1) * SIGNALS_PER_PAGE)
    rules = work_list_rules(session, scope)
    by_id = {r["id"]: r for r in rules}
    teams = dict(session.execute(select(OrgUnit.id, OrgUnit.name)).all())
    cases = dict(session.execute(select(Case.id, Case.external_id)
                                 .where(Case.id.in_({s.case_id for s in signals} or {-1}))).all())
    now = datetime.now(UTC)
    shown = [{"signal": s, "rule": by_id[s.rule_id]["key"], "kind": by_id[s.rule_id]["kind"], "team": teams.get(s.team_id), "case": cases.get(s.case_id),
              "why": _why(s.details or {}, now)} for s in signals]
    keep = [("team", team)] if team else []
    return render(request, "expectations/signals.html", {
        "rows": shown, "rules": rules, "total": total, "page": page, "pages": pages, "sort": sort,
        "team_name": teams.get(team_id) if team_id is not None else None,
        "query": urlencode(keep), "page_query": urlencode([*keep, ("sort", sort)])})


def _at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _why(details: dict, now: datetime) -> dict:
    """What a signal's stored details say, as moments and hours the template words per rule."""
    since = _at(details.get("since"))
    return {"since": since, "silent_hours": (now - since).total_seconds() / 3600 if since else None,
            "at": _at(details.get("at")), "activity": details.get("activity"), "kind": details.get("kind"),
            "due_at": _at(details.get("due_at")), "expected_at": _at(details.get("expected_at"))}


@router.post("/signals/{signal_id}/resolve")
def resolve_signal(request: Request, signal_id: params.PathId, actor: CurrentActor, session: DbSession):  # POST: writable
    signal = session.get(Signal, signal_id)
    if signal is None or not actor.sees_team(signal.team_id):  # another team's signal: as if it did not exist
        raise NotFound(f"there is no signal {signal_id}")
    if signal.resolved_at is None:
        signal.resolved_at = datetime.now(UTC)
    return RedirectResponse("/expectations/signals", status_code=303)
