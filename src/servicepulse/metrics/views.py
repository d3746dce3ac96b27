"""Dashboard pages: overview, journey (7+/9+ moment view), moment drill-down, key drivers, monthly report PDF.

Who sees them: administrators, analysts and team leads (agents see their own
follow-ups only). Query parameters that do not parse become a message on the
page, never an error.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response as HttpResponse
from sqlalchemy.orm import Session

from servicepulse.kernels.statistics import AnalyticsInputError
from servicepulse.metrics import charts, report, service
from servicepulse.metrics import repository as repo
from servicepulse.metrics.repository import MetricFilter
from servicepulse.models import Journey, Moment
from servicepulse.http.auth import require_role
from servicepulse.http.deps import DbSession
from servicepulse.http.errors import error_page
from servicepulse.http.i18n import request_language
from servicepulse.http.templating import base_context, render

VIEWERS = ("admin", "analyst", "teamlead")
router = APIRouter(prefix="/insights", dependencies=[Depends(require_role(*VIEWERS))])
PAGE_SIZE = 50


def _min_n(request: Request) -> int:
    return int(request.app.state.settings.min_n)


def parse_filter(request: Request, t, *, journey_id: int | None = None) -> tuple[MetricFilter, str, list[str]]:
    """MetricFilter and period from the query string; problems as messages for the page."""
    q = request.query_params
    problems: list[str] = []
    period = q.get("period") or "month"
    if period not in repo.PERIODS:
        problems.append(t("insights.error.period", value=period))
        period = "month"
    date_from = date_to = None
    if q.get("month"):
        try:
            f = service.month_filter(q["month"])
            date_from, date_to = f.date_from, f.date_to
        except AnalyticsInputError:
            problems.append(t("insights.error.month", value=q["month"]))
    for name in ("from", "to"):
        if q.get(name):
            try:
                value = date.fromisoformat(q[name])
            except ValueError:
                problems.append(t("insights.error.date", field=name, value=q[name]))
                continue
            if name == "from":
                date_from = value
            else:
                date_to = value
    if date_from and date_to and date_from >= date_to:
        problems.append(t("insights.error.range"))
        date_from = date_to = None

    def as_int(name: str) -> int | None:
        raw = q.get(name)
        if not raw:
            return None
        try:
            return int(raw)
        except ValueError:
            problems.append(t("insights.error.number", field=name, value=raw))
            return None

    f = MetricFilter(journey_id=journey_id if journey_id is not None else as_int("journey"),
                     channel=q.get("channel") or None, team_id=as_int("team"), segment=q.get("segment") or None,
                     date_from=date_from, date_to=date_to)
    return f, period, problems


def _t(request: Request):
    return base_context(request)["t"]


@router.get("")
def overview_page(request: Request, session: DbSession):
    t = _t(request)
    language = request_language(request)
    f, period, problems = parse_filter(request, t)
    view = service.overview(session, f, period=period, min_n=_min_n(request), language=language)
    trend_svg = charts.nps_trend(view.trend, t("insights.chart.nps_trend"), language=language)
    grade_svg = charts.grade_trend(view.trend, t("insights.chart.grade_trend"), t("insights.grade"), language=language)
    journeys = {j.id: j for j in repo.journeys(session)}
    return render(request, "metrics/overview.html", {
        "view": view, "problems": problems, "trend_svg": trend_svg, "grade_svg": grade_svg, "period": period,
        "journeys": journeys, "query": request.url.query, "periods": repo.PERIODS,
        "month": request.query_params.get("month", ""),
    })


@router.get("/journeys/{journey_id}")
def journey_page(request: Request, session: DbSession, journey_id: int):
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
    })


@router.get("/moments/{moment_id}")
def moment_page(request: Request, session: DbSession, moment_id: int,
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
        "dist_svg": charts.distribution(grade_counts, t("insights.chart.grade_distribution"), 6, 9, language=language),
        "query": _without_page(request),
    })


def _grade_distribution(session: Session, f: MetricFilter, moment_id: int) -> dict[int, int]:
    from dataclasses import replace

    frame = repo.moment_grade_frame(session, replace(f, moment_id=None))
    key = session.get(Moment, moment_id).key
    if key not in frame.columns:
        return {}
    counts = frame[key].dropna().round().astype(int).value_counts()
    return {int(k): int(v) for k, v in counts.sort_index().items()}


def _without_page(request: Request) -> str:
    return "&".join(f"{k}={v}" for k, v in request.query_params.multi_items() if k != "page")


@router.get("/drivers")
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
                                                  t("insights.drivers.performance"), language=language),
    })


@router.get("/report.pdf")
def report_pdf(request: Request, session: DbSession, month: str = ""):
    t = _t(request)
    language = request_language(request)
    if not month:
        last = repo.last_response_day(session) or date.today()
        month = f"{last:%Y-%m}"
    try:
        pdf = report.monthly_report_pdf(session, month, language=language, min_n=_min_n(request),
                                        organisation=request.app.state.settings.organisation_name)
    except AnalyticsInputError:
        return error_page(request, 400, detail=t("insights.error.month", value=month))
    return HttpResponse(pdf, media_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="servicepulse-{month}.pdf"'})
