"""Dashboard pages: overview, journey (7+/9+ moment view), moment drill-down, key drivers, monthly report PDF
(under /metrics), and the survey pages /surveys (every survey with its response rate) and /surveys/{key}.

Who sees the /metrics pages: administrators, analysts and team leads (agents
see their own follow-ups only); the survey pages: every logged-in user. Query
parameters that do not parse become a message on the page, never an error.
The pages were served under /insights before; those URLs redirect here.

Everything is on the one ``router``, so the app registers a single object.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta
from typing import Annotated
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse
from fastapi.responses import Response as HttpResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepulse.errors import NotFound
from servicepulse.http import params
from servicepulse.http.auth import CurrentActor, CurrentUser, current_user, require_role
from servicepulse.http.deps import DbSession
from servicepulse.http.errors import error_page
from servicepulse.http.i18n import request_language
from servicepulse.http.params import ParamError
from servicepulse.http.templating import base_context
from servicepulse.http.templating import render as render_page
from servicepulse.invitations import list_rules
from servicepulse.kernels import charts as chart_kernel
from servicepulse.kernels.statistics import AnalyticsInputError, format_p
from servicepulse.kernels.statistics.intervals import wilson
from servicepulse.kernels.statistics.nps import nps
from servicepulse.metrics import (
    charts,
    predicted,
    predicted_charts,
    predicted_repository,
    report,
    service,
    survey_repository,
)
from servicepulse.metrics import repository as repo
from servicepulse.metrics.figures import figure_helper
from servicepulse.metrics.repository import MetricFilter
from servicepulse.metrics.saved_views import FILTER_PARAMS, VIEW_PARAMS
from servicepulse.models import Journey, Moment, Survey, SurveyVersion
from servicepulse.models.invitations import AnonymousLink
from servicepulse.org import Actor
from servicepulse.surveys import SCALES, SCORE_TYPES

VIEWERS = ("admin", "analyst", "teamlead")
PREFIX = "/metrics"
OLD_PREFIX = "/insights"  # where the pages were served before; kept as redirects for bookmarks and old links
router = APIRouter()
PAGE_SIZE = 50


def _page(path: str):
    """A /metrics page: for administrators, analysts and team leads."""
    return router.get(PREFIX + path, dependencies=[Depends(require_role(*VIEWERS))])


def render(request: Request, template: str, context: dict | None = None, **kwargs):
    """A metrics page, with ``figure(kind, value, change=False)``: NPS, grades and CES written one way
    (metrics/figures.py)."""
    return render_page(request, template, {"figure": figure_helper(request_language(request)), **(context or {})},
                       **kwargs)


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
    language = value(params.clean_text, "language", limit=5)
    f = MetricFilter(journey_id=journey_id if journey_id is not None else value(params.parse_int, "journey"),
                     channel=value(params.clean_text, "channel"), team_id=value(params.parse_int, "team"),
                     segment=value(params.clean_text, "segment"), date_from=date_from, date_to=date_to,
                     language=language)
    return f, period, problems


def _t(request: Request):
    return base_context(request)["t"]


_MONTH = re.compile(r"\d{4}-\d{2}")
# the filters, and the pages' own choices (trend grain, outcome, what the drivers include): kept by links,
# exports and saved views (one list, in saved_views, which checks a saved view's query against it)


def kept_query(request: Request, *, drop: tuple[str, ...] = ()) -> str:
    """The page's filters and choices as a query string (URL-encoded, empty values and the page number left
    out): what every link, form, download and saved view of the page carries on."""
    return urlencode([(k, v) for k, v in request.query_params.multi_items()
                      if v and k in VIEW_PARAMS and k not in drop])


def active_filters(request: Request, path: str, choices: dict | None = None, *, fixed: tuple[str, ...] = ()) -> list[dict]:
    """The filters in the URL as removable chips: each with its name and shown value in the reader's language
    and the link to the same page without it (the other parameters kept), so that a shared link never hides a
    filter its figures depend on. ``fixed`` names parameters the page's path already decides (a journey page's
    journey): they are no chips."""
    return active_filters_of(request, path, request.url.query, choices, fixed=fixed)


def active_filters_of(request: Request, path: str, query: str, choices: dict | None = None, *,
                      fixed: tuple[str, ...] = ()) -> list[dict]:
    """``active_filters`` for any query string of a page (a saved view's)."""
    t = _t(request)
    context = base_context(request)
    language = context["lang"]
    items = [(k, v) for k, v in parse_qsl(query) if v and k in VIEW_PARAMS and k not in fixed]
    journeys = {str(i): j.name(language) for i, j in (choices or {}).get("journeys", [])}
    teams = {str(i): name for i, name in (choices or {}).get("all_teams", {}).items()}
    shown = {"journey": lambda v: journeys.get(v, v), "team": lambda v: teams.get(v, v),
             "channel": lambda v: context["label"]("labels.channel", v),
             "segment": lambda v: context["label"]("labels.segment", v),
             "language": lambda v: language_name(request, v),
             "month": lambda v: context["month_text"](v) if _MONTH.fullmatch(v) else v,
             "from": lambda v: _day_shown(context, v), "to": lambda v: _day_shown(context, v)}
    chips = []
    for name, raw in items:
        if name in FILTER_PARAMS:
            rest = urlencode([(k, v) for k, v in items if k != name])
            label = t(f"insights.filter.{name}")
            value = shown[name](raw)
            chips.append({"name": name, "value": value, "raw": raw, "label": label,
                          "remove": path + ("?" + rest if rest else ""),
                          "remove_label": t("insights.filter.remove", name=label, value=value)})
    return chips


def filter_choices_for(session: Session) -> dict:
    """The filters' choices, and every team by name (a chip names a team that has no answers as well)."""
    return {**repo.filter_choices(session), "all_teams": repo.team_names(session)}


def _day_shown(context: dict, raw: str) -> str:
    try:
        return context["day_text"](date.fromisoformat(raw))
    except ValueError:
        return raw


def language_name(request: Request, code: str) -> str:
    """A response language by its name in the reader's language (as stored when the catalogue has no name)."""
    catalogue = request.app.state.catalogue
    key = f"insights.language.{code}"
    return catalogue.translate(key, request_language(request)) if key in catalogue.messages else code


def filter_context(request: Request, session: Session, path: str, *, fixed: tuple[str, ...] = ()) -> dict:
    """What the shared filter bar (metrics/_macros.html ``filter_form``) needs: the choices, the selected values,
    the chips, the kept query and the page's own path (for the save-this-view form)."""
    choices = filter_choices_for(session)
    return {
        "choices": choices, "fixed": fixed, "filter_path": path,
        "selected": {k: request.query_params.get(k, "") for k in VIEW_PARAMS},
        "chips": active_filters(request, path, choices, fixed=fixed),
        "language_names": {code: language_name(request, code) for code in choices["languages"]},
        "query": kept_query(request),
    }


# --- the pages -----------------------------------------------------------------------------------
# Each page's figures come from one function that the page and its downloads share (export_views.py): a
# download is the page's own chart spec or table rows, so the two cannot disagree.

def overview_data(request: Request, session: DbSession) -> dict:
    t = _t(request)
    language = request_language(request)
    f, period, problems = parse_filter(request, t)
    view = service.overview(session, f, period=period, min_n=_min_n(request), language=language)
    return {
        "f": f, "period": period, "problems": problems, "view": view,
        "charts": {
            "nps-trend": lambda: charts.nps_trend_spec(view.trend, t("insights.chart.nps_trend"), language=language),
            "grade-trend": lambda: charts.grade_trend_spec(view.trend, t("insights.chart.grade_trend"),
                                                           t("insights.grade"), language=language),
        },
        "tables": {},
    }


@_page("")
def overview_page(request: Request, session: DbSession):
    t = _t(request)
    language = request_language(request)
    data = overview_data(request, session)
    f, period, view = data["f"], data["period"], data["view"]
    trend_svg = charts.nps_trend(view.trend, t("insights.chart.nps_trend"), language=language)
    grade_svg = charts.grade_trend(view.trend, t("insights.chart.grade_trend"), t("insights.grade"), language=language)
    journeys = {j.id: j for j in repo.journeys(session)}
    # all closed cases as predicted, beside the respondents: over all time, so only on the unfiltered overview
    user = getattr(request.state, "user", None)
    ahead = (predicted.predicted_experience(session)
             if f == MetricFilter() and user is not None and user.role in ("admin", "analyst") else None)
    return render(request, "metrics/overview.html", {
        **filter_context(request, session, PREFIX),
        "predicted": ahead,
        "view": view, "problems": data["problems"], "trend_svg": trend_svg, "grade_svg": grade_svg,
        "period": period, "journeys": journeys, "periods": repo.PERIODS,
        "month": request.query_params.get("month", ""), "one_day": timedelta(days=1),
        "pvalue": lambda p: (lambda text: text if text.startswith("<") else "= " + text)(format_p(p, language)),
    })


def journey_data(request: Request, session: DbSession, journey_id: int) -> dict | None:
    t = _t(request)
    language = request_language(request)
    if session.get(Journey, journey_id) is None:
        return None
    f, period, problems = parse_filter(request, t, journey_id=journey_id)
    outcome = request.query_params.get("outcome", "nps")
    if outcome not in ("nps", "grade"):
        problems.append(t("insights.error.outcome", value=params.shown(outcome)))
        outcome = "nps"
    view = service.moment_view(session, journey_id, f, outcome=outcome, min_n=_min_n(request), language=language)
    trend = service.metrics(session, f, by="period", period=period, min_n=_min_n(request), language=language)
    row_title = t("insights.chart.moment_row", journey=view.journey_name)

    def moments_table():
        header = [t(f"insights.export.moment.{c}") for c in MOMENT_TABLE]
        rows = [[m.name, t(f"web.kind.{m.kind}"), m.norm, m.n, m.score.mean, m.score.low, m.score.high,
                 m.share_7.share, m.share_9.share, m.status.label_nl if language == "nl" else m.status.label_en,
                 t("insights.behaviour." + m.behaviour.replace(" ", "_")) if m.behaviour else None]
                for m in view.moments]
        return header, rows

    return {
        "f": f, "period": period, "problems": problems, "view": view, "trend": trend, "outcome": outcome,
        "row_title": row_title,
        "charts": {
            "moments": lambda: charts.moment_row_spec(view, row_title, language=language),
            "nps-trend": lambda: charts.nps_trend_spec(trend, t("insights.chart.nps_trend"), language=language),
        },
        "tables": {"moments": moments_table},
    }


MOMENT_TABLE = ("moment", "kind", "norm", "n", "mean", "low", "high", "share_7", "share_9", "status", "behaviour")


@_page("/journeys/{journey_id}")
def journey_page(request: Request, session: DbSession, journey_id: params.PathId):
    t = _t(request)
    language = request_language(request)
    data = journey_data(request, session, journey_id)
    if data is None:
        return error_page(request, 404)
    view = data["view"]
    path = f"{PREFIX}/journeys/{journey_id}"
    return render(request, "metrics/journey.html", {
        **filter_context(request, session, path, fixed=("journey",)),
        "view": view, "problems": data["problems"], "outcome": data["outcome"], "base": path,
        "row_svg": charts.moment_row(view, data["row_title"], language=language),
        "trend_svg": charts.nps_trend(data["trend"], t("insights.chart.nps_trend"), language=language),
        "trend_rows": [r for r in data["trend"] if r.figures.responses],
        "overview_query": kept_query(request, drop=("outcome",)),
    })


ANSWERS_EXPORT_LIMIT = 10_000  # answers behind a moment in one download (newest first)


def moment_data(request: Request, session: DbSession, moment_id: int, page: int = 1) -> dict | None:
    t = _t(request)
    language = request_language(request)
    moment = session.get(Moment, moment_id)
    if moment is None:
        return None
    f, period, problems = parse_filter(request, t, journey_id=moment.journey_id)
    view = service.moment_view(session, moment.journey_id, f, min_n=_min_n(request), language=language)
    row = next(m for m in view.moments if m.id == moment_id)
    grade_counts = _grade_distribution(session, f, moment_id)
    title = t("insights.chart.grade_distribution")

    def answers_table():
        _, rows = repo.list_responses(session, f, graded_moment_id=moment_id, limit=ANSWERS_EXPORT_LIMIT,
                                      team_ids=_visible_teams(request, session))
        header = [t(f"insights.export.answer.{c}") for c in ANSWER_TABLE]
        return header, [[_local(request, r["submitted_at"]), r["moment_grade"], r["nps"], r["grade"], r["ces"],
                         r["comment"]] for r in rows]

    def grades_table():
        return ([t("insights.moment.grade"), t("insights.export.count")],
                [[value, n] for value, n in sorted(grade_counts.items())])

    return {
        "f": f, "problems": problems, "view": view, "row": row, "moment": moment, "grade_counts": grade_counts,
        "title": title,
        "charts": {"grades": lambda: charts.distribution_spec(grade_counts, title, "grade")},
        "tables": {"grades": grades_table, "answers": answers_table},
    }


ANSWER_TABLE = ("submitted", "moment_grade", "nps", "grade", "ces", "comment")


def _visible_teams(request: Request, session: DbSession) -> frozenset[int] | None:
    """The teams whose individual answers the logged-in user may read (None: every team; org/access.py's rule).
    The aggregates on the page are for every viewer; the answers behind them are the teams' own work."""
    user = current_user(request, session)
    return Actor.of(user).visible_team_ids() if user is not None else frozenset()


def _local(request: Request, moment) -> str:
    """A stored moment on the organisation's wall clock, as a spreadsheet reads it (YYYY-MM-DD HH:MM)."""
    return moment.astimezone(request.app.state.settings.zone()).strftime("%Y-%m-%d %H:%M")


@_page("/moments/{moment_id}")
def moment_page(request: Request, session: DbSession, moment_id: params.PathId,
                page: Annotated[int, Query(ge=1, le=100_000)] = 1):
    language = request_language(request)
    data = moment_data(request, session, moment_id)
    if data is None:
        return error_page(request, 404)
    f = data["f"]
    total, responses = repo.list_responses(session, f, graded_moment_id=moment_id, limit=PAGE_SIZE,
                                           offset=(page - 1) * PAGE_SIZE, team_ids=_visible_teams(request, session))
    pages = max(1, -(-total // PAGE_SIZE))
    path = f"{PREFIX}/moments/{moment_id}"
    return render(request, "metrics/moment.html", {
        **filter_context(request, session, path, fixed=("journey",)),
        "moment": data["moment"], "row": data["row"], "view": data["view"], "problems": data["problems"],
        "responses": responses, "total": total, "page": page, "pages": pages, "base": path,
        "dist_svg": charts.distribution(data["grade_counts"], data["title"], "grade", language=language),
    })


def _grade_distribution(session: Session, f: MetricFilter, moment_id: int) -> dict[int, int]:
    frame = repo.moment_grade_frame(session, replace(f, moment_id=None))
    key = session.get(Moment, moment_id).key
    if key not in frame.columns:
        return {}
    counts = frame[key].dropna().round().astype(int).value_counts()
    return {int(k): int(v) for k, v in counts.sort_index().items()}


def drivers_data(request: Request, session: DbSession) -> dict:
    t = _t(request)
    language = request_language(request)
    f, period, problems = parse_filter(request, t)
    q = request.query_params
    outcome = q.get("outcome", "nps")
    include = q.get("include", "case")
    if outcome not in ("nps", "grade"):
        problems.append(t("insights.error.outcome", value=params.shown(outcome)))
        outcome = "nps"
    if include not in ("case", "moments", "all"):
        include = "case"
    if include != "case" and f.journey_id is None:
        problems.append(t("insights.error.journey_needed"))
        include = "case"
    analysis = service.key_drivers(session, f, include=include, outcome=outcome, min_n=_min_n(request),
                                   language=language)

    def drivers_table():
        # the page's column names; the page's one "occurs / score" column is two here (a share, a grade)
        header = [t(f"insights.export.driver.{c}" if c in ("prevalence", "performance") else f"insights.drivers.{c}")
                  for c in DRIVER_TABLE]
        rows = []
        for name, rec in (analysis.table.iterrows() if analysis.ok else []):
            fact = rec["kind"] == "fact"
            rows.append([analysis.labels.get(name, name), t("insights.drivers.direction." + rec["direction"]),
                         float(rec["relative_weight"]), float(rec["univariate"]), float(rec["slope"]),
                         float(rec["p_adjusted"]), float(rec["prevalence"]) if fact else None,
                         None if fact else float(rec["performance"]), float(rec["performance_norm"]),
                         rec["quadrant_label"]])
        return header, rows

    return {
        "f": f, "problems": problems, "analysis": analysis, "outcome": outcome, "include": include,
        "charts": {
            "weights": lambda: charts.driver_bars_spec(analysis, t("insights.chart.drivers"),
                                                       t("insights.drivers.weight")),
            "grid": lambda: charts.importance_performance_spec(analysis, t("insights.chart.grid"),
                                                               t("insights.drivers.importance"),
                                                               t("insights.drivers.gap")),
        },
        "tables": {"drivers": drivers_table},
    }


DRIVER_TABLE = ("driver", "direction", "weight", "alone", "slope", "p_adjusted", "prevalence", "performance",
                "norm", "quadrant")


@_page("/drivers")
def drivers_page(request: Request, session: DbSession):
    t = _t(request)
    language = request_language(request)
    data = drivers_data(request, session)
    analysis = data["analysis"]
    return render(request, "metrics/drivers.html", {
        **filter_context(request, session, PREFIX + "/drivers"),
        "analysis": analysis, "problems": data["problems"], "outcome": data["outcome"], "include": data["include"],
        "base": PREFIX + "/drivers",
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


PREDICTED_FILTERS = ("journey", "team", "segment")  # besides the period: what describes a closed case


def predicted_filter(request: Request, session: Session, t) -> tuple[predicted.CaseFilter, list[str]]:
    """The page's filters as a case filter; a response filter (channel, language) in the URL is named as not
    applying rather than silently ignored."""
    f, _, problems = parse_filter(request, t)
    problems += [t("predicted.filter.not_here", name=t(f"insights.filter.{name}"))
                 for name in ("channel", "language") if request.query_params.get(name)]
    segment = (frozenset(predicted_repository.customers_in_segment(session, f.segment))
               if f.segment is not None else None)
    return predicted.CaseFilter(journey_id=f.journey_id, team_id=f.team_id, date_from=f.date_from,
                                date_to=f.date_to, segment_customers=segment), problems


def predicted_data(request: Request, session: DbSession) -> dict:
    t = _t(request)
    language = request_language(request)
    case_filter, problems = predicted_filter(request, session, t)
    view = predicted.filtered(predicted.predicted_experience(session), case_filter)
    names = predicted.journey_names(session, language)

    def comparison():
        header = [t("predicted.compare.who"), t("predicted.compare.n"), t("insights.nps"), t("insights.grade")]
        keys = ("respondents", "respondents_predicted", "all_predicted", "not_answered_predicted")
        return header, [[t(f"predicted.row.{k}"), getattr(view, k).n, getattr(view, k).nps, getattr(view, k).grade]
                        for k in keys] if view.ok else []

    def driver_gaps():
        header = [t("insights.drivers.driver"), t("predicted.drivers.answered"), t("predicted.drivers.not_answered")]
        return header, [[predicted.driver_label(d.driver, language), d.answered, d.not_answered]
                        for d in view.driver_gaps]

    def reliability():
        header = [t("predicted.reliability.bin"), t("predicted.chart.predicted_share"),
                  t("predicted.chart.observed_share"), t("predicted.compare.n")]
        rows = view.validation.reliability if view.ok else []
        return header, [[t("predicted.reliability.fifth", n=r["bin"]), r["predicted"], r["observed"], r["n"]]
                        for r in rows]

    def by_journey():
        header = [t("insights.journey"), t("predicted.journeys.closed"), t("predicted.journeys.answered"),
                  t("predicted.journeys.nps_measured"), t("predicted.journeys.nps_predicted"),
                  t("predicted.journeys.grade_measured"), t("predicted.journeys.grade_predicted")]
        return header, [[names.get(r.journey_id, r.journey_id) if r.journey_id is not None
                         else t("predicted.journeys.none"), r.closed, r.answered, r.respondents.nps,
                         r.predicted.nps, r.respondents.grade, r.predicted.grade] for r in view.by_journey]

    def reliability_spec():
        if not view.ok:
            return None
        return predicted_charts.reliability_spec(
            view.validation.reliability, t("predicted.chart.title"), t("predicted.chart.predicted_share"),
            t("predicted.chart.observed_share"))

    return {"view": view, "names": names, "problems": problems, "filtered": case_filter.active,
            "charts": {"reliability": reliability_spec},
            "tables": {"comparison": comparison, "driver-gaps": driver_gaps, "reliability": reliability,
                       "journeys": by_journey}}


@router.get(PREFIX + "/predicted", dependencies=[Depends(require_role("admin", "analyst"))])
def predicted_page(request: Request, session: DbSession):
    """The predicted experience of every closed case, with its held-out validation (servicepulse.metrics.predicted)."""
    t = _t(request)
    language = request_language(request)
    data = predicted_data(request, session)
    view = data["view"]
    context = {"view": view, "summary": predicted.summary_dict(view), "rule": predicted.PredictedSettings(),
               "journey_names": data["names"], "base": PREFIX + "/predicted", "problems": data["problems"],
               "filtered": data["filtered"], "offer": PREDICTED_FILTERS, "gap": predicted.gap_parts(view),
               "driver_label": lambda d: predicted.driver_label(d, language),
               **filter_context(request, session, PREFIX + "/predicted")}
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


def survey_data(request: Request, session: DbSession, key: str) -> dict | None:
    """A survey's score distributions under the page's filters (the same filters as the metric pages, on the
    responses to any version of the survey)."""
    survey = session.scalar(select(Survey).where(Survey.key == key))
    if survey is None:
        return None
    t = _t(request)
    lang = request_language(request)
    f, _, problems = parse_filter(request, t)
    latest = session.scalar(select(SurveyVersion).where(SurveyVersion.survey_id == survey.id)
                            .order_by(SurveyVersion.version.desc()).limit(1))
    asked = [q["type"] for q in (latest.definition.get("questions", []) if latest else []) if q["type"] in SCORE_TYPES]
    scores = {}
    for score in dict.fromkeys(asked):
        counts = repo.score_distribution(session, score, replace(f, survey_id=survey.id))
        scale = SCALES[score]
        full = {value: counts.get(value, 0) for value in range(scale.low, scale.high + 1)}
        title = t(f"surveys_dashboard.score.{score}")
        scores[score] = {"score": score, "title": title, "n": sum(full.values()), "full": full,
                         "chart_title": t("surveys_dashboard.chart_label", score=title, n=sum(full.values()))}

    def score_table(score: str):
        return lambda: ([t("surveys_dashboard.score"), t("surveys_dashboard.count")],
                        [[value, n] for value, n in sorted(scores[score]["full"].items())])

    def score_chart(score: str):
        s = scores[score]
        return lambda: {**chart_kernel.specs.distribution(s["full"], scale=score), "title": s["chart_title"]}

    def decisions():
        reasons = survey_repository.decisions_by_reason(session, survey.id)
        return ([t("surveys_dashboard.reason"), t("surveys_dashboard.count")],
                [[t(f"surveys_dashboard.reason.{r}"), n] for r, n in reasons.items()])

    return {"survey": survey, "latest": latest, "scores": scores, "f": f, "problems": problems, "lang": lang,
            "charts": {s: score_chart(s) for s in scores},
            "tables": {**{s: score_table(s) for s in scores}, "decisions": decisions}}


@router.get("/surveys/{key}")
def survey_page(request: Request, key: params.PathKey, actor: CurrentActor, session: DbSession):
    data = survey_data(request, session, key)
    if data is None:
        raise NotFound(f"survey {key!r} does not exist")
    survey, latest, lang = data["survey"], data["latest"], data["lang"]
    settings = request.app.state.settings
    [total] = survey_repository.totals(session, survey.id)
    scores = []
    for score, s in data["scores"].items():
        full, n = s["full"], s["n"]
        chart = chart_kernel.svg(chart_kernel.specs.distribution(full, scale=score), title=s["chart_title"],
                                 language=lang)
        summary = None
        if score == "nps":
            result = nps(sum(full[v] for v in range(0, 7)), full[7] + full[8], full[9] + full[10],
                         min_n=settings.min_n)
            summary = {"kind": "nps", "result": result}
        elif n:
            summary = {"kind": "mean", "mean": sum(v * c for v, c in full.items()) / n}
        scores.append({"score": score, "title": s["title"], "n": n, "chart": chart, "summary": summary,
                       "table": sorted(full.items())})
    anonymous = session.scalar(select(AnonymousLink).where(AnonymousLink.survey_id == survey.id,
                                                           AnonymousLink.enabled.is_(True)))
    path = f"/surveys/{survey.key}"
    return render(request, "metrics/survey.html", {
        **filter_context(request, session, path),
        "survey": survey, "version": latest.version if latest else None, "totals": total, "base": path,
        "rate": _rate(total, settings.min_n), "scores": scores, "problems": data["problems"],
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
