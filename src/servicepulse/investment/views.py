"""The /investment page (cost to serve, avoidable contact, the investment compass), its CSV exports, the
per-team view (/investment/teams) and the department report's section on the contacts, effort and detractors a
department causes.

Administrators and analysts: the figures cover every team (aggregates of cost and demand, no customer data).
Team leads: /investment/teams only, cut to the cases their own teams handled (`org.Actor`); the organisation-wide
page and the compass stay with administrators and analysts (they compare every team and department). Nothing is
stored: an erased customer's events leave every figure at the next request.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from servicepulse import metrics
from servicepulse.http import params
from servicepulse.http.auth import CurrentActor, require_role
from servicepulse.http.deps import DbSession
from servicepulse.http.i18n import request_language
from servicepulse.http.templating import base_context, render
from servicepulse.investment import charts, compass, costs, demand, effect, repository, service
from servicepulse.investment.department import department_impact
from servicepulse.kernels.spreadsheet import csv_text
from servicepulse.models import OrgUnit

VIEWERS = ("admin", "analyst")
TEAM_VIEWERS = ("admin", "analyst", "teamlead")  # /investment/teams: a team lead sees their own teams only
ORDER = ("under_invested", "fix_basics", "over_invested", "keep", "unknown")  # the compass table, most urgent first
router = APIRouter(prefix="/investment")


def _period(request: Request) -> tuple[date | None, date | None, dict]:
    q = request.query_params
    raw = {"from": q.get("from", ""), "to": q.get("to", ""), "measure": q.get("measure", "")}
    start, end = params.parse_date(raw["from"], "from"), params.parse_date(raw["to"], "to")
    params.check_range(start, end)
    if raw["measure"] not in effect.OUTCOMES:  # a display choice: anything else shows the default
        raw["measure"] = ""
    return start, end, raw


def _measure(raw: dict) -> str:
    return raw["measure"] or "nps"


def _figures(request: Request, session: Session, start, end, measure: str = "nps"):
    language = request_language(request)
    settings = request.app.state.settings
    analysis = service.contact_analysis(session, settings, start, end)
    facts, notes = metrics.moment_facts(session, metrics.MetricFilter(date_from=start, date_to=end), outcome="nps",
                                        min_n=int(settings.min_n), language=language)
    slopes = service.effect_slopes(session, analysis.moments, measure, start, end, int(settings.min_n))
    rows = compass.compass(facts, analysis.moments, analysis.events, language, slopes=slopes, measure=measure)
    return analysis, rows, notes


def _name(analysis: service.ContactAnalysis, unit_id, t) -> str:
    if unit_id is None or unit_id not in analysis.departments:
        return t("investment.demand.unknown_department")
    return analysis.departments[unit_id][1]


def _journey(analysis: service.ContactAnalysis, journey_id, language: str) -> str:
    if journey_id not in analysis.journeys:
        return "-"
    _, nl, en = analysis.journeys[journey_id]
    return nl if language == "nl" else en


def _table(frame, name) -> list[dict]:
    return [{"name": name(k), **{c: (None if isinstance(v, float) and np.isnan(v) else v) for c, v in row.items()}}
            for k, row in frame.iterrows()]


@router.get("", dependencies=[Depends(require_role(*VIEWERS))])
def investment_page(request: Request, session: DbSession):
    try:
        start, end, raw = _period(request)
    except params.ParamError as exc:
        return params.refused_page(request, exc)
    language = request_language(request)
    ctx = base_context(request)
    t = ctx["t"]
    measure = _measure(raw)
    analysis, rows, notes = _figures(request, session, start, end, measure)
    rows = sorted(rows, key=lambda r: (ORDER.index(r.label), -(r.effect or 0.0)))
    contacts = analysis.contacts
    moment_names = {int(k): (m["name_nl"] if language == "nl" else m["name_en"]) for k, m in analysis.moments.iterrows()}
    teams = repository.unit_names(session)
    by = {
        "reason": _table(service.reason_table(analysis), lambda k: t(f"investment.demand.reason.{k}")),
        "department": _table(demand.share_table(contacts[contacts["cause"].notna()], "cause")
                             .sort_values("failure", ascending=False), lambda k: _name(analysis, int(k), t)),
        "journey": _table(demand.share_table(contacts, "journey_id"), lambda k: _journey(analysis, int(k), language)),
        "moment": _table(demand.share_table(contacts, "moment_id").sort_values("failure_cost", ascending=False)
                         .head(10), lambda k: moment_names.get(int(k), "-")),
    }
    by["department"] = [r for r in by["department"] if r["failure"]]
    cost = {
        "journey": _table(costs.rollup(analysis.events, "journey_id"),
                          lambda k: _journey(analysis, int(k), language)),
        "team": _table(costs.rollup(analysis.events, "team_id").sort_values("cost", ascending=False),
                       lambda k: teams.get(int(k), ("", "-"))[1]),
    }
    months = service.monthly(analysis, str(request.app.state.settings.zone()))
    query = "&".join(f"{k}={v}" for k, v in raw.items() if v)
    return render(request, "investment/investment.html", {
        "raw": raw, "query": query, "measure": measure, "totals": service.totals(analysis), "rows": rows, "notes": notes,
        "by": by, "cost": cost, "months": _table(months, lambda k: ctx["month_text"](k)),
        "journey_of": lambda j: _journey(analysis, j, language),
        "compass_chart": charts.compass_chart(rows, t, language),
        "trend_chart": charts.cost_trend(months, t, language),
    })


def _csv(request: Request, header_keys, rows, name: str) -> Response:
    ctx = base_context(request)
    t = ctx["t"]
    text = csv_text([t(f"investment.csv.{k}") for k in header_keys], rows, request_language(request))
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


COMPASS_COLUMNS = ("journey", "moment", "kind", "score", "norm", "answers", "slope", "slope_se", "cases", "cost",
                   "cost_per_case", "cost_low", "cost_high", "label", "target", "effect", "effect_low",
                   "effect_high", "saving", "saving_low", "saving_high")


@router.get("/compass.csv", dependencies=[Depends(require_role(*VIEWERS))])
def compass_csv(request: Request, session: DbSession):
    try:
        start, end, raw = _period(request)
    except params.ParamError as exc:
        return params.refused_page(request, exc)
    language = request_language(request)
    t = base_context(request)["t"]
    measure = _measure(raw)
    analysis, rows, _ = _figures(request, session, start, end, measure)
    out = [[_journey(analysis, r.journey_id, language), r.name, t(f"investment.compass.kind.{r.kind}"), r.score,
            r.norm, r.n, r.slope, r.slope_se, r.cases, round(r.cost, 2), r.cost_per_case, r.cost_low, r.cost_high,
            t(f"investment.compass.label.{r.label}"), r.target, r.effect, r.effect_low, r.effect_high, r.saving,
            r.saving_low, r.saving_high] for r in rows]
    header = [c if c not in ("effect", "effect_low", "effect_high") else f"{c}_{measure}" for c in COMPASS_COLUMNS]
    return _csv(request, header, out, "investment-compass")


DEMAND_COLUMNS = ("month", "journey", "moment", "reason", "department", "contacts", "cost")


@router.get("/contacts.csv", dependencies=[Depends(require_role(*VIEWERS))])
def contacts_csv(request: Request, session: DbSession):
    """Contacts and their cost per month, journey, moment, reason and causing department."""
    try:
        start, end, _ = _period(request)
    except params.ParamError as exc:
        return params.refused_page(request, exc)
    language = request_language(request)
    t = base_context(request)["t"]
    analysis = service.contact_analysis(session, request.app.state.settings, start, end)
    contacts = analysis.contacts
    names = {int(k): (m["name_nl"] if language == "nl" else m["name_en"]) for k, m in analysis.moments.iterrows()}
    out = []
    if not contacts.empty:
        keyed = contacts.assign(moment=contacts["moment_id"].fillna(-1).astype(int),
                                dept=contacts["cause"].fillna(-1).astype(int))
        grouped = keyed.groupby(["month", "journey_id", "moment", "reason", "dept"])["cost"].agg(["size", "sum"])
        for (month, journey_id, moment, reason, dept), row in grouped.iterrows():
            out.append([month, _journey(analysis, int(journey_id), language), names.get(moment, ""),
                        t(f"investment.demand.reason.{reason}"), "" if dept < 0 else _name(analysis, dept, t),
                        int(row["size"]), round(float(row["sum"]), 2)])
    return _csv(request, DEMAND_COLUMNS, out, "investment-contacts")


def department_section(request: Request, session: Session, department: OrgUnit, date_from: date | None,
                       date_to: date | None, pdf: bool = False) -> Markup:
    """The department report's section (registry.DEPARTMENT_SECTIONS): the failure demand, effort and
    detractors this department causes further down the journey. ``date_to`` is included (as the report's).
    Only for the roles that see /investment: the department report is also a team lead's page."""
    if getattr(request.state, "user", None) is None or request.state.user.role not in VIEWERS:
        return Markup("")
    end = None if date_to is None else date_to + timedelta(days=1)
    analysis = service.contact_analysis(session, request.app.state.settings, date_from, end)
    impact = department_impact(analysis.contacts, repository.case_outcomes(session))
    row = impact.loc[department.id].to_dict() if department.id in impact.index else None
    reasons = []
    if row is not None:
        own = analysis.contacts[analysis.contacts["cause"] == department.id]
        reasons = [(k, int(v)) for k, v in own["reason"].value_counts().items()]
    ctx = base_context(request)
    ctx.update({"impact": row, "reasons": reasons, "pdf": pdf, "department": department})
    template = request.app.state.templates.env.get_template("investment/department_section.html")
    return Markup(template.render(ctx))


@router.get("/teams", dependencies=[Depends(require_role(*TEAM_VIEWERS))])
def teams_page(request: Request, session: DbSession, actor: CurrentActor):
    """Cost to serve and avoidable contact of the cases each visible team handled in the period."""
    try:
        start, end, raw = _period(request)
        chosen = params.parse_int(request.query_params.get("team"), "team")
    except params.ParamError as exc:
        return params.refused_page(request, exc)
    language = request_language(request)
    t = base_context(request)["t"]
    visible = actor.visible_team_ids()
    teams = [(i, n) for i, n in repository.teams(session) if visible is None or i in visible]
    names = dict(teams)
    if chosen is not None and chosen not in names:  # another team's figures: not found, as elsewhere
        return render(request, "investment/teams.html", {"raw": raw, "teams": teams, "chosen": None,
                                                          "missing": True, "rows": [], "by": None,
                                                          "query": ""}, status_code=404)
    shown = [chosen] if chosen is not None else [i for i, _ in teams]
    analysis = service.contact_analysis(session, request.app.state.settings, start, end)
    table = service.team_table(analysis, shown)
    scoped = service.team_scope(analysis, shown)
    by = {
        "reason": _table(service.reason_table(scoped), lambda k: t(f"investment.demand.reason.{k}")),
        "journey": _table(demand.share_table(scoped.contacts, "journey_id"),
                          lambda k: _journey(analysis, int(k), language)),
    }
    query = "&".join(f"{k}={v}" for k, v in raw.items() if v)
    return render(request, "investment/teams.html", {
        "raw": raw, "teams": teams, "chosen": chosen, "missing": False, "query": query,
        "rows": _table(table, lambda k: names[int(k)]), "totals": service.totals(scoped), "by": by})
