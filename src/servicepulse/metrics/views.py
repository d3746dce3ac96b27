"""Dashboard pages: overview, journey (7+/9+ moment view), moment drill-down, key drivers, monthly report PDF
(under /metrics), and the survey pages /surveys (every survey with its response rate) and /surveys/{key}.

Who sees the /metrics pages: administrators, analysts and team leads (agents
see their own follow-ups only); the survey pages: every logged-in user. Query
parameters that do not parse become a message on the page, never an error.
The pages were served under /insights before; those URLs redirect here.

Everything is on the one ``router``, so the app registers a single object.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse
from fastapi.responses import Response as HttpResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepulse.errors import NotFound
from servicepulse.http import params
from servicepulse.http.auth import CurrentActor, CurrentUser, require_role
from servicepulse.http.deps import DbSession
from servicepulse.http.errors import error_page
from servicepulse.http.i18n import request_language
from servicepulse.http.params import ParamError
from servicepulse.http.templating import base_context, render
from servicepulse.invitations import list_rules
from servicepulse.kernels import charts as chart_kernel
from servicepulse.kernels.statistics import AnalyticsInputError, format_p
from servicepulse.kernels.statistics.intervals import wilson
from servicepulse.kernels.statistics.nps import nps
from servicepulse.metrics import charts, predicted, predicted_charts, report, service, survey_repository
from servicepulse.metrics import repository as repo
from servicepulse.metrics.repository import MetricFilter
from servicepulse.models import Journey, Moment, Survey, SurveyVersion
from servicepulse.models.invitations import AnonymousLink
from servicepulse.surveys import SCALES, SCORE_TYPES

VIEWERS = ("admin", "analyst", "teamlead")
PREFIX = "/metrics"
OLD_PREFIX = "/insights"  # where the pages were served before; kept as redirects for bookmarks and old links
router = APIRouter()
PAGE_SIZE = 50


def _page(path: str):
    """A /metrics page: for administrators, analysts and team leads."""
    return router.get(PREFIX + path, dependencies=[Depends(require_role(*VIEWERS))])


def _min_n(request: Request) -> int:
    return int(request.app.state.settings.min_n)


def parse_filter(request: Request, t, *, journey_id: int | None = None) -> tuple[MetricFilter, str, list[str]]:
    """MetricFilter and period from the query string; problems as messages for the page (the value that
    caused one is left out of the filter). Dates, ids and texts are bounded (servicepulse.http.params)."""
    q = request.query_params
    problems: list[str] = []

    def value(parse, name: str, *args, **kwargs):
        try:
            return parse(q.get(name), name, *args, **kwargs)
        except ParamError as exc:
            problems.append(exc.text(request))
            return None

    period = q.get("period") or "month"
    if period not in repo.PERIODS:
        problems.append(t("insights.error.period", value=params.shown(period)))
        period = "month"
    date_from = date_to = None
    if month := value(params.parse_month, "month"):
        date_from, date_to = month
    date_from = value(params.parse_date, "from") or date_from
    date_to = value(params.parse_date, "to") or date_to
    try:
        params.check_range(date_from, date_to)
    except ParamError as exc:
        problems.append(t("insights.error.range") if exc.key == "order" else exc.text(request))
        date_from = date_to = None
    f = MetricFilter(journey_id=journey_id if journey_id is not None else value(params.parse_int, "journey"),
                     channel=value(params.clean_text, "channel"), team_id=value(params.parse_int, "team"),
                     segment=value(params.clean_text, "segment"), date_from=date_from, date_to=date_to)
    return f, period, problems


def _t(request: Request):
    return base_context(request)["t"]


FILTER_PARAMS = ("month", "from", "to", "journey", "channel", "team", "segment")


def active_filters(request: Request, path: str) -> list[dict]:
    """The filters in the URL as removable chips: each with the link to the same page without it (the other
    parameters kept), so that a shared link never hides a filter its figures depend on."""
    items = [(k, v) for k, v in request.query_params.multi_items() if v and k != "page"]
    chips = []
    for name, value in items:
        if name in FILTER_PARAMS:
            rest = urlencode([(k, v) for k, v in items if k != name])
            chips.append({"name": name, "value": value, "remove": path + ("?" + rest if rest else "")})
    return chips


@_page("")
def overview_page(request: Request, session: DbSession):
    t = _t(request)
    language = request_language(request)
    f, period, problems = parse_filter(request, t)
    view = service.overview(session, f, period=period, min_n=_min_n(request), language=language)
    trend_svg = charts.nps_trend(view.trend, t("insights.chart.nps_trend"), language=language)
    grade_svg = charts.grade_trend(view.trend, t("insights.chart.grade_trend"), t("insights.grade"), language=language)
    journeys = {j.id: j for j in repo.journeys(session)}
    # all closed cases as predicted, beside the respondents: over all time, so only on the unfiltered overview
    user = getattr(request.state, "user", None)
    ahead = (predicted.predicted_experience(session)
             if f == MetricFilter() and user is not None and user.role in ("admin", "analyst") else None)
    return render(request, "metrics/overview.html", {
        "choices": repo.filter_choices(session), "chips": active_filters(request, PREFIX),
        "selected": {k: request.query_params.get(k, "") for k in FILTER_PARAMS},
        "predicted": ahead,
        "view": view, "problems": problems, "trend_svg": trend_svg, "grade_svg": grade_svg, "period": period,
        "journeys": journeys, "query": request.url.query, "periods": repo.PERIODS,
        "month": request.query_params.get("month", ""), "one_day": timedelta(days=1),
        "pvalue": lambda p: (lambda text: text if text.startswith("<") else "= " + text)(format_p(p, language)),
    })


@_page("/journeys/{journey_id}")
def journey_page(request: Request, session: DbSession, journey_id: params.PathId):
    t = _t(request)
    language = request_language(request)
    if session.get(Journey, journey_id) is None:
        return error_page(request, 404)
    f, period, problems = parse_filter(request, t, journey_id=journey_id)
    outcome = request.query_params.get("outcome", "nps")
    if outcome not in ("nps", "grade"):
        problems.append(t("insights.error.outcome", value=outcome))
        outcome = "nps"
    view = service.moment_view(session, journey_id, f, outcome=outcome, min_n=_min_n(request), language=language)
    trend = service.metrics(session, f, by="period", period=period, min_n=_min_n(request), language=language)
    return render(request, "metrics/journey.html", {
        "view": view, "problems": problems, "outcome": outcome,
        "row_svg": charts.moment_row(view, t("insights.chart.moment_row", journey=view.journey_name),
                                     language=language),
        "trend_svg": charts.nps_trend(trend, t("insights.chart.nps_trend"), language=language),
        "query": request.url.query,
        "choices": repo.filter_choices(session), "chips": active_filters(request, f"{PREFIX}/journeys/{journey_id}"),
    })


@_page("/moments/{moment_id}")
def moment_page(request: Request, session: DbSession, moment_id: params.PathId,
                page: Annotated[int, Query(ge=1, le=100_000)] = 1):
    t = _t(request)
    language = request_language(request)
    moment = session.get(Moment, moment_id)
    if moment is None:
        return error_page(request, 404)
    f, period, problems = parse_filter(request, t, journey_id=moment.journey_id)
    view = service.moment_view(session, moment.journey_id, f, min_n=_min_n(request), language=language)
    row = next(m for m in view.moments if m.id == moment_id)
    total, responses = repo.list_responses(session, f, graded_moment_id=moment_id, limit=PAGE_SIZE,
                                           offset=(page - 1) * PAGE_SIZE)
    grade_counts = _grade_distribution(session, f, moment_id)
    pages = max(1, -(-total // PAGE_SIZE))
    return render(request, "metrics/moment.html", {
        "moment": moment, "row": row, "view": view, "problems": problems, "responses": responses,
        "total": total, "page": page, "pages": pages,
        "dist_svg": charts.distribution(grade_counts, t("insights.chart.grade_distribution"), "grade", language=language),
        "query": _without_page(request),
    })


def _grade_distribution(session: Session, f: MetricFilter, moment_id: int) -> dict[int, int]:
    frame = repo.moment_grade_frame(session, replace(f, moment_id=None))
    key = session.get(Moment, moment_id).key
    if key not in frame.columns:
        return {}
    counts = frame[key].dropna().round().astype(int).value_counts()
    return {int(k): int(v) for k, v in counts.sort_index().items()}


def _without_page(request: Request) -> str:
    return "&".join(f"{k}={v}" for k, v in request.query_params.multi_items() if k != "page")


@_page("/drivers")
def drivers_page(request: Request, session: DbSession):
    t = _t(request)
    language = request_language(request)
    f, period, problems = parse_filter(request, t)
    q = request.query_params
    outcome = q.get("outcome", "nps")
    include = q.get("include", "case")
    if outcome not in ("nps", "grade"):
        problems.append(t("insights.error.outcome", value=outcome))
        outcome = "nps"
    if include not in ("case", "moments", "all"):
        include = "case"
    if include != "case" and f.journey_id is None:
        problems.append(t("insights.error.journey_needed"))
        include = "case"
    analysis = service.key_drivers(session, f, include=include, outcome=outcome, min_n=_min_n(request),
                                   language=language)
    return render(request, "metrics/drivers.html", {
        "analysis": analysis, "problems": problems, "outcome": outcome, "include": include,
        "journeys": repo.journeys(session), "journey_id": f.journey_id,
        "bars_svg": charts.driver_bars(analysis, t("insights.chart.drivers"), t("insights.drivers.weight"),
                                       language=language),
        "grid_svg": charts.importance_performance(analysis, t("insights.chart.grid"), t("insights.drivers.importance"),
                                                  t("insights.drivers.gap"), language=language),
    })


@_page("/report.pdf")
def report_pdf(request: Request, session: DbSession, month: str = ""):
    t = _t(request)
    language = request_language(request)
    if not month.strip():  # the last complete month: the running one would be a few days presented as a month
        month = service.last_complete_month(repo.last_response_day(session))
    try:
        month = f"{params.parse_month(month, 'month')[0]:%Y-%m}"
    except ParamError as exc:
        return error_page(request, 400, detail=exc.text(request))
    try:
        pdf = report.monthly_report_pdf(session, month, language=language, min_n=_min_n(request),
                                        organisation=request.app.state.settings.organisation_name)
    except AnalyticsInputError:
        return error_page(request, 400, detail=t("insights.error.month", value=month))
    return HttpResponse(pdf, media_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="servicepulse-{month}.pdf"'})


@router.get(PREFIX + "/predicted", dependencies=[Depends(require_role("admin", "analyst"))])
def predicted_page(request: Request, session: DbSession):
    """The predicted experience of every closed case, with its held-out validation (servicepulse.metrics.predicted)."""
    t = _t(request)
    language = request_language(request)
    view = predicted.predicted_experience(session)
    context = {"view": view, "summary": predicted.summary_dict(view), "rule": predicted.PredictedSettings(),
               "journey_names": predicted.journey_names(session, language),
               "driver_label": lambda d: predicted.driver_label(d, language)}
    if view.ok:
        context["reliability_svg"] = predicted_charts.reliability(
            view.validation.reliability, t("predicted.chart.title"), t("predicted.chart.predicted_share"),
            t("predicted.chart.observed_share"), language=language)
    return render(request, "metrics/predicted.html", context)


# --- the survey pages ---------------------------------------------------------------------------

def _rate(total: survey_repository.SurveyTotals, min_n: int):
    if total.invitations_sent == 0:
        return None
    return wilson(total.invitations_answered, total.invitations_sent, min_n=min_n)


@router.get("/surveys")
def survey_list(request: Request, user: CurrentUser, session: DbSession):
    min_n = request.app.state.settings.min_n
    rows = [{"totals": t, "rate": _rate(t, min_n)} for t in survey_repository.totals(session)]
    return render(request, "metrics/survey_list.html", {"rows": rows})


@router.get("/surveys/{key}")
def survey_page(request: Request, key: params.PathKey, actor: CurrentActor, session: DbSession):
    survey = session.scalar(select(Survey).where(Survey.key == key))
    if survey is None:
        raise NotFound(f"survey {key!r} does not exist")
    lang = request_language(request)
    settings = request.app.state.settings
    [total] = survey_repository.totals(session, survey.id)
    latest = session.scalar(select(SurveyVersion).where(SurveyVersion.survey_id == survey.id)
                            .order_by(SurveyVersion.version.desc()).limit(1))
    asked = [q["type"] for q in (latest.definition["questions"] if latest else []) if q["type"] in SCORE_TYPES]
    catalogue = request.app.state.catalogue
    scores = []
    for score in dict.fromkeys(asked):
        counts = survey_repository.score_counts(session, survey.id, score)
        n = sum(counts.values())
        scale = SCALES[score]
        title = catalogue.translate(f"surveys_dashboard.score.{score}", lang)
        full = {value: counts.get(value, 0) for value in range(scale.low, scale.high + 1)}
        chart = chart_kernel.svg(chart_kernel.specs.distribution(full, scale=score),
                                 title=catalogue.translate("surveys_dashboard.chart_label", lang, score=title, n=n),
                                 language=lang)
        summary = None
        if score == "nps":
            result = nps(sum(full[v] for v in range(0, 7)), full[7] + full[8], full[9] + full[10],
                         min_n=settings.min_n)
            summary = {"kind": "nps", "result": result}
        elif n:
            summary = {"kind": "mean", "mean": sum(v * c for v, c in full.items()) / n}
        scores.append({"score": score, "title": title, "n": n, "chart": chart, "summary": summary,
                       "table": sorted(full.items())})
    anonymous = session.scalar(select(AnonymousLink).where(AnonymousLink.survey_id == survey.id,
                                                           AnonymousLink.enabled.is_(True)))
    return render(request, "metrics/survey.html", {
        "survey": survey, "version": latest.version if latest else None, "totals": total,
        "rate": _rate(total, settings.min_n), "scores": scores,
        "verbatims": survey_repository.latest_verbatims(session, survey.id, team_ids=actor.visible_team_ids()),
        "reasons": survey_repository.decisions_by_reason(session, survey.id),
        "by_rule": survey_repository.decisions_by_rule(session, survey.id),
        "rules": list_rules(session, survey.id),
        "anonymous_url": f"{settings.base_url.rstrip('/')}/a/{survey.key}" if anonymous else None,
    })


# --- the old /insights URLs -----------------------------------------------------------------------

def old_insights_url(request: Request):
    """Permanent redirect to the same page under /metrics, query string kept (no role check: the page does it)."""
    target = PREFIX + request.url.path[len(OLD_PREFIX):]
    if request.url.query:
        target += f"?{request.url.query}"
    return RedirectResponse(target, status_code=308)


# One old URL per page (not a catch-all), so that an unknown /insights/... stays a 404 and every redirect
# leads to a page that checks the visitor.
for _path in [r.path for r in router.routes if r.path == PREFIX or r.path.startswith(PREFIX + "/")]:
    router.add_api_route(OLD_PREFIX + _path.removeprefix(PREFIX), old_insights_url, methods=["GET", "HEAD"],
                         include_in_schema=False)
