"""The dashboard's figures as a download: the overview's headline, trend and journey tables as CSV (in the
reader's spreadsheet convention) or XLSX, with the same filters as the page."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from servicepulse.http.auth import require_role
from servicepulse.http.deps import DbSession
from servicepulse.http.i18n import request_language
from servicepulse.kernels.spreadsheet import csv_text, xlsx_bytes
from servicepulse.metrics import service
from servicepulse.metrics.views import VIEWERS, _min_n, _t, parse_filter

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
    if kind == "xlsx":
        return Response(xlsx_bytes(header, rows, sheet=t("insights.export.filename")),
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
    return Response(csv_text(header, rows, language), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
