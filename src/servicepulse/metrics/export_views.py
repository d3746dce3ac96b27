"""The dashboard's figures as downloads, with the same filters as the page: the overview's headline, trend and
journey tables, every other table of the analytics pages as CSV (in the reader's spreadsheet convention) or
XLSX, and every chart as SVG or PNG. A download is built by the page's own data function
(``views.*_data``), so its figures are the page's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from servicepulse.http import params
from servicepulse.http.auth import CurrentUser, require_role
from servicepulse.http.deps import DbSession
from servicepulse.http.errors import error_page
from servicepulse.http.i18n import request_language
from servicepulse.kernels.spreadsheet import csv_text, xlsx_bytes
from servicepulse.metrics import charts, service, views
from servicepulse.metrics.views import PREFIX, VIEWERS, _min_n, _t, parse_filter

router = APIRouter()
COLUMNS = ("section", "key", "label", "complete", "responses", "nps", "nps_low", "nps_high", "grade", "grade_low",
           "grade_high", "share_7", "share_9", "ces", "ces_low", "ces_high", "ces_easy", "csat_top2")


def figure_rows(view: service.Overview, t) -> list[list]:
    """One row per figure group of the overview page: the selection, each period of the trend, each journey.
    Shares are fractions (0-1); a figure with too few answers is empty, never 0."""
    def row(section: str, key, label: str, complete: bool | None, fig: service.Figures) -> list:
        return [t(f"insights.export.section.{section}"), key, label, complete, fig.responses,
                fig.nps.score, fig.nps.low, fig.nps.high, fig.grade.mean, fig.grade.low, fig.grade.high,
                fig.grade_7.share, fig.grade_9.share, fig.ces.mean, fig.ces.low, fig.ces.high, fig.ces_easy.share,
                fig.csat_top2.share]

    rows = [row("total", "", t("insights.export.selection"), not view.running, view.headline)]
    rows += [row("period", r.key, r.label, r.complete, r.figures) for r in view.trend]
    rows += [row("journey", r.key, r.label, None, r.figures) for r in view.journeys]
    return rows


@router.get("/metrics/export.{kind}", dependencies=[Depends(require_role(*VIEWERS))])
def export_figures(request: Request, session: DbSession, kind: Literal["csv", "xlsx"]):
    t = _t(request)
    language = request_language(request)
    f, period, _ = parse_filter(request, t)  # a value the page would refuse is left out here as well
    view = service.overview(session, f, period=period, min_n=_min_n(request), language=language)
    header = [t(f"insights.export.column.{c}") for c in COLUMNS]
    rows = figure_rows(view, t)
    name = f"servicepulse-{t('insights.export.filename')}"
    return table_response(kind, header, rows, name, t("insights.export.filename"), language)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def table_response(kind: str, header: list, rows: list, name: str, sheet: str, language: str) -> Response:
    if kind == "xlsx":
        return Response(xlsx_bytes(header, rows, sheet=sheet), media_type=XLSX,
                        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
    return Response(csv_text(header, rows, language), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


def _download(request: Request, data: dict | None, what: Literal["charts", "tables"], name: str, kind: str,
              stem: str) -> Response:
    """One chart (svg, png) or table (csv, xlsx) of a page's data; unknown names and empty charts are a 404."""
    if data is None or name not in data[what]:
        return error_page(request, 404)
    language = request_language(request)
    file_name = f"servicepulse-{stem}-{name}"
    if what == "tables":
        header, rows = data[what][name]()
        return table_response(kind, header, rows, file_name, name, language)
    spec = data[what][name]()
    if spec is None:
        return error_page(request, 404)
    title = spec.get("title") or name
    body, media_type = charts.chart_file(spec, kind, title if isinstance(title, str) else name, language)
    return Response(body, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{file_name}.{kind}"'})


ChartKind = Literal["svg", "png"]
TableKind = Literal["csv", "xlsx"]
Name = params.PathKey


def _routes(path: str, handlers: tuple[Callable, Callable], *, roles: tuple[str, ...] | None = VIEWERS) -> None:
    """The chart and table downloads under a page's ``path`` (``{path}/charts/{name}.svg`` ...)."""
    guard = [Depends(require_role(*roles))] if roles else []
    router.add_api_route(f"{path}/charts/{{name}}.{{kind}}", handlers[0], methods=["GET"], dependencies=guard)
    router.add_api_route(f"{path}/tables/{{name}}.{{kind}}", handlers[1], methods=["GET"], dependencies=guard)


def overview_chart(request: Request, session: DbSession, name: Name, kind: ChartKind):
    return _download(request, views.overview_data(request, session), "charts", name, kind, "overview")


def journey_chart(request: Request, session: DbSession, journey_id: params.PathId, name: Name, kind: ChartKind):
    return _download(request, views.journey_data(request, session, journey_id), "charts", name, kind,
                     f"journey-{journey_id}")


def journey_table(request: Request, session: DbSession, journey_id: params.PathId, name: Name, kind: TableKind):
    return _download(request, views.journey_data(request, session, journey_id), "tables", name, kind,
                     f"journey-{journey_id}")


def moment_chart(request: Request, session: DbSession, moment_id: params.PathId, name: Name, kind: ChartKind):
    return _download(request, views.moment_data(request, session, moment_id), "charts", name, kind,
                     f"moment-{moment_id}")


def moment_table(request: Request, session: DbSession, moment_id: params.PathId, name: Name, kind: TableKind):
    return _download(request, views.moment_data(request, session, moment_id), "tables", name, kind,
                     f"moment-{moment_id}")


def drivers_chart(request: Request, session: DbSession, name: Name, kind: ChartKind):
    return _download(request, views.drivers_data(request, session), "charts", name, kind, "drivers")


def drivers_table(request: Request, session: DbSession, name: Name, kind: TableKind):
    return _download(request, views.drivers_data(request, session), "tables", name, kind, "drivers")


def predicted_chart(request: Request, session: DbSession, name: Name, kind: ChartKind):
    return _download(request, views.predicted_data(request, session), "charts", name, kind, "predicted")


def predicted_table(request: Request, session: DbSession, name: Name, kind: TableKind):
    return _download(request, views.predicted_data(request, session), "tables", name, kind, "predicted")


def survey_chart(request: Request, user: CurrentUser, session: DbSession, key: params.PathKey, name: Name,
                 kind: ChartKind):
    return _download(request, views.survey_data(request, session, key), "charts", name, kind, f"survey-{key}")


def survey_table(request: Request, user: CurrentUser, session: DbSession, key: params.PathKey, name: Name,
                 kind: TableKind):
    return _download(request, views.survey_data(request, session, key), "tables", name, kind, f"survey-{key}")


router.add_api_route(PREFIX + "/charts/{name}.{kind}", overview_chart, methods=["GET"],
                     dependencies=[Depends(require_role(*VIEWERS))])
_routes(PREFIX + "/journeys/{journey_id}", (journey_chart, journey_table))
_routes(PREFIX + "/moments/{moment_id}", (moment_chart, moment_table))
_routes(PREFIX + "/drivers", (drivers_chart, drivers_table))
_routes(PREFIX + "/predicted", (predicted_chart, predicted_table), roles=("admin", "analyst"))
_routes("/surveys/{key}", (survey_chart, survey_table), roles=None)  # every logged-in user, as the page
