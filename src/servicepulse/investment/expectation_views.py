"""The expectation gap page (/investment/expectations), its CSV, the value-discipline form and the installation
of the expectation surveys.

Administrators, analysts and team leads read the page (aggregate figures, no personal data); administrators
record the value discipline and install the expectation surveys (both audited).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from fastapi.responses import Response as HttpResponse

from servicepulse.errors import ValidationFailed
from servicepulse.http import params
from servicepulse.http.auth import CurrentUser, require_role
from servicepulse.http.deps import DbSession
from servicepulse.http.i18n import request_language
from servicepulse.http.templating import render
from servicepulse.investment import expectation_discipline, expectation_gap, expectation_survey
from servicepulse.investment.expectation_charts import gap_chart
from servicepulse.kernels.spreadsheet import csv_text
from servicepulse.models.investment import VALUE_DISCIPLINES
from servicepulse.org import record_audit

VIEWERS = ("admin", "analyst", "teamlead")
router = APIRouter()
PAGE = "/investment/expectations"
FormText = Annotated[str, Form()]


def _t(request: Request, key: str, **values) -> str:
    return request.app.state.catalogue.translate(key, request_language(request), **values)


def _view(request: Request, session) -> expectation_gap.GapView:
    return expectation_gap.gap_view(session, datetime.now(UTC), min_n=int(request.app.state.settings.min_n))


def _row_name(request: Request, row: expectation_gap.GapRow) -> str:
    language = request_language(request)
    if row.kind == "dimension":
        return _t(request, f"investment_expect.dimension.{row.key}")
    return row.names.get(language) or row.key


def _chart_rows(request: Request, rows: list[expectation_gap.GapRow]) -> list[dict]:
    out = []
    for r in rows:
        if r.expected is None or r.perceived is None or r.expected.too_few or r.perceived.too_few:
            continue
        out.append({"label": _row_name(request, r), "expected": round(r.expected.mean, 2), "perceived": round(r.perceived.mean, 2),
                    "side": "short" if r.perceived.mean < r.expected.mean else "met"})
    return out


def _page_context(request: Request, session, notice: str | None = None, problems=None, values=None) -> dict:
    view = _view(request, session)
    language = request_language(request)
    x_title = _t(request, "investment_expect.chart.axis")
    current = expectation_discipline.current(session)
    journeys: dict[int, dict] = {}
    for row in view.moments:
        journeys.setdefault(row.journey_id, {"name": row.journey_names.get(language, ""), "rows": []})["rows"].append(row)
    for journey in journeys.values():  # one small chart per journey: short labels that read at a glance
        journey["chart"] = gap_chart(_chart_rows(request, journey["rows"]),
                                     _t(request, "investment_expect.chart.journey", journey=journey["name"]),
                                     x_title, language)
    return {
        "view": view,
        "journeys": list(journeys.values()),
        "name": lambda row: _row_name(request, row),
        "dimension_chart": gap_chart(_chart_rows(request, view.dimensions),
                                     _t(request, "investment_expect.chart.dimensions"), x_title, language),
        "current": current,
        "discipline_of": expectation_survey.DISCIPLINE_OF,
        "weaker_names": ", ".join(_t(request, f"investment_expect.dimension_in_text.{d}") for d in view.discipline.weaker),
        "history": expectation_discipline.history(session),
        "disciplines": VALUE_DISCIPLINES,
        "is_admin": request.state.user.role == "admin",
        "notice": notice,
        "problems": problems or [],
        "values": values or {"discipline": current.discipline if current else "", "note": current.note or ""
                             if current else ""},
    }


@router.get(PAGE, dependencies=[Depends(require_role(*VIEWERS))])
def gap_page(request: Request, session: DbSession, done: str | None = None):
    notice = _t(request, f"investment_expect.done.{done}") if done in ("discipline", "surveys") else None
    return render(request, "investment/expectation_gap.html", _page_context(request, session, notice))


def _csv_number(value, digits: int = 2):
    return None if value is None else round(float(value), digits)


@router.get(PAGE + ".csv", dependencies=[Depends(require_role(*VIEWERS))])
def gap_csv(request: Request, session: DbSession):
    view = _view(request, session)
    language = request_language(request)
    header = [_t(request, f"investment_expect.csv.{c}") for c in (
        "kind", "journey", "name", "moment_kind", "importance", "importance_n", "expected", "expected_n",
        "perceived", "perceived_n", "gap", "low", "high", "weight", "weighted_gap", "norm", "suggested_norm")]
    rows = []
    for r in view.dimensions + view.moments:
        weighted = r.weighted[0]
        rows.append([
            _t(request, f"investment_expect.kind.{r.kind}"), r.journey_names.get(language, ""), _row_name(request, r),
            _t(request, f"investment_expect.moment_kind.{r.moment_kind}") if r.moment_kind else "",
            _csv_number(r.importance.mean if r.importance else None), r.importance.n if r.importance else 0,
            _csv_number(r.expected.mean if r.expected else None), r.expected.n if r.expected else 0,
            _csv_number(r.perceived.mean if r.perceived else None), r.perceived.n if r.perceived else 0,
            _csv_number(r.gap), _csv_number(r.low), _csv_number(r.high), _csv_number(r.weight, 3),
            _csv_number(weighted), _csv_number(r.norm, 1), _csv_number(r.suggested_norm, 1),
        ])
    return HttpResponse(csv_text(header, rows, language), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="expectation-gap.csv"'})


@router.post(PAGE + "/discipline", dependencies=[Depends(require_role("admin"))])
def choose_discipline(request: Request, session: DbSession, me: CurrentUser, discipline: FormText = "",
                      note: FormText = ""):
    problems = []
    if discipline not in VALUE_DISCIPLINES:
        problems.append(("discipline", _t(request, "investment_expect.problem.discipline")))
    try:
        clean_note = params.clean_text(note, "note", limit=expectation_discipline.NOTE_LIMIT, multiline=True)
    except params.ParamError as exc:
        problems.append(("note", exc.text(request)))
        clean_note = None
    if problems:
        context = _page_context(request, session, problems=problems,
                                values={"discipline": discipline if discipline in VALUE_DISCIPLINES else "",
                                        "note": note[:expectation_discipline.NOTE_LIMIT]})
        return render(request, "investment/expectation_gap.html", context, status_code=400)
    try:
        expectation_discipline.choose(session, discipline, clean_note, me.id, datetime.now(UTC))
    except ValidationFailed:  # checked above; kept so that a 4xx never turns into a 500
        return render(request, "investment/expectation_gap.html", _page_context(request, session), status_code=400)
    return RedirectResponse("/investment/expectations?done=discipline", status_code=303)


@router.post(PAGE + "/surveys", dependencies=[Depends(require_role("admin"))])
def install_surveys(request: Request, session: DbSession, me: CurrentUser):
    changes = expectation_survey.install(session)
    record_audit(session, f"user:{me.id}", "investment.expectation_surveys",
                 {c.version.survey.key: c.status for c in changes})
    return RedirectResponse("/investment/expectations?done=surveys", status_code=303)
