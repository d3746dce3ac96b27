"""Pages of the improvement-project register and its 7+/9+ scan (with CSV and PDF export).

Administrators and analysts register and edit projects; team leads may look.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from fastapi.responses import Response as HttpResponse

from servicepulse import metrics
from servicepulse.errors import NotFound, ValidationFailed
from servicepulse.http import params
from servicepulse.http.auth import require_role
from servicepulse.http.deps import DbSession
from servicepulse.http.errors import error_page
from servicepulse.http.i18n import request_language
from servicepulse.http.templating import render
from servicepulse.improvement import service
from servicepulse.improvement.report import present, scan_pdf, scan_xlsx
from servicepulse.improvement.report import scan_csv as scan_csv_text
from servicepulse.metrics import CASE_DRIVERS, DRIVER_LABELS

VIEWERS = ("admin", "analyst", "teamlead")
EDITORS = ("admin", "analyst")
router = APIRouter(prefix="/improvement")


def _choices(request: Request) -> dict:
    """The page's display choices (as the compass's): ranking and unit; anything else shows the default."""
    q = request.query_params
    return {"rank": "per_euro" if q.get("rank") == "per_euro" else "",
            "measure": "grade" if q.get("measure") == "grade" else ""}


def _query(choices: dict, **changed) -> str:
    kept = {**choices, **changed}
    text = "&".join(f"{k}={v}" for k, v in kept.items() if v)
    return f"?{text}" if text else ""


def _scan(request: Request, session):
    choices = _choices(request)
    return service.scan(session, min_n=int(request.app.state.settings.min_n), language=request_language(request),
                        rank_by=choices["rank"] or "lift", measure=choices["measure"] or "nps")


@router.get("", dependencies=[Depends(require_role(*VIEWERS))])
def scan_page(request: Request, session: DbSession):
    report = _scan(request, session)
    summary = present(report, request_language(request), request.app.state.catalogue)
    choices = _choices(request)
    return render(request, "improvement/scan.html", {"report": report, "summary": summary,
                                                     "can_edit": request.state.user.role in EDITORS,
                                                     "rank": choices["rank"], "measure": report.measure,
                                                     "query": _query(choices),
                                                     "link": lambda **changed: _query(choices, **changed)})


@router.get("/scan.csv", dependencies=[Depends(require_role(*VIEWERS))])
def scan_csv(request: Request, session: DbSession):
    text = scan_csv_text(_scan(request, session), request_language(request), request.app.state.catalogue)
    return HttpResponse(text, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="project-scan.csv"'})


@router.get("/scan.xlsx", dependencies=[Depends(require_role(*VIEWERS))])
def scan_xlsx_page(request: Request, session: DbSession):
    data = scan_xlsx(_scan(request, session), request_language(request), request.app.state.catalogue)
    return HttpResponse(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": 'attachment; filename="project-scan.xlsx"'})


@router.get("/scan.pdf", dependencies=[Depends(require_role(*VIEWERS))])
def scan_pdf_page(request: Request, session: DbSession):
    language = request_language(request)
    pdf = scan_pdf(_scan(request, session), language=language,
                   organisation=request.app.state.settings.organisation_name)
    return HttpResponse(pdf, media_type="application/pdf",
                        headers={"Content-Disposition": 'attachment; filename="project-scan.pdf"'})


def _form_context(request: Request, session, project=None, values=None, problems=None):
    language = request_language(request)
    journeys = metrics.journeys(session)
    moments = metrics.moments(session)
    by_journey = {j.id: (j.name(language), [m for m in moments if m.journey_id == j.id]) for j in journeys}
    def decimal(value: float) -> str:  # as the reader writes it (the form reads both 0,5 and 0.5)
        text = f"{value:.12g}"
        return text.replace(".", ",") if language == "nl" else text

    if values is None:
        values = {"title": "", "description": "", "owner": "", "cost": "", "expected_improvement": decimal(0.5),
                  "status": "proposed", "moment_ids": [], "drivers": []}
        if project is not None:
            values = {"title": project.title, "description": project.description or "", "owner": project.owner or "",
                      "cost": "" if project.cost is None else decimal(project.cost),
                      "expected_improvement": decimal(project.expected_improvement), "status": project.status,
                      "moment_ids": [t.moment_id for t in project.targets if t.moment_id],
                      "drivers": [t.driver for t in project.targets if t.driver]}
    drivers = [(d, DRIVER_LABELS[d][0 if language == "nl" else 1]) for d in CASE_DRIVERS]
    return {"project": project, "values": values, "problems": problems or [], "journeys": by_journey,
            "drivers": drivers, "statuses": service.STATUSES}


def _text(request: Request, key: str, **values) -> str:
    return request.app.state.catalogue.translate(key, request_language(request), **values)


def _in_language(request: Request, found: list[tuple[str, str]], own: list[tuple[str, str]]):
    """The service's problems are in English: a Dutch reader gets the catalogue's sentence for the field (the
    form's own problems are in the reader's language already)."""
    if request_language(request) == "en":
        return found
    return [(field, message) if (field, message) in own else (field, _text(request, f"improvement.problem.{field}"))
            for field, message in found]


def _parse(request: Request, title, description, owner, cost, expected_improvement, status, moment_ids, drivers):
    problems = []

    def checked(parse, raw, field: str, **kwargs):
        try:
            return parse(raw, field, **kwargs)
        except params.ParamError as exc:
            problems.append((field, exc.text(request)))
            return None

    def number(raw: str, field: str, optional: bool):
        raw = (raw or "").strip().replace(",", ".")
        if not raw:
            if not optional:
                problems.append((field, _text(request, "improvement.problem.required")))
            return None
        try:
            value = float(raw)
        except ValueError:
            problems.append((field, _text(request, "improvement.problem.not_a_number", value=params.shown(raw))))
            return None
        # finite and storable: 1e400 is inf, and nan compares false with every bound
        return checked(params.parse_number, raw, field, low=-1e12, high=1e12) if not -1e12 <= value <= 1e12 else value

    ids = [i for i in (checked(params.parse_int, raw, "moment_ids") for raw in moment_ids) if i is not None]
    data = service.ProjectInput(
        title=checked(params.clean_text, title, "title", limit=200) or "",
        description=checked(params.clean_text, description, "description", limit=10_000, multiline=True),
        owner=checked(params.clean_text, owner, "owner", limit=200), cost=number(cost, "cost", True),
        expected_improvement=number(expected_improvement, "expected_improvement", False) or 0.0,
        status=status, moment_ids=tuple(ids), drivers=tuple(drivers))
    return data, problems


def _save(request: Request, session, project_id: int | None, form: dict):
    data, problems = _parse(request, **form)
    values = {**form, "moment_ids": list(data.moment_ids)}  # the ids that parsed ('²' is a digit to isdigit)
    try:
        if problems:  # report the form's own problems together with the service's
            known = {f for f, _ in problems}
            raise ValidationFailed("invalid input", problems + [
                p for p in service.validate(session, data) if p[0] not in known])
        if project_id is None:
            service.create_project(session, data)
        else:
            service.update_project(session, project_id, data)
    except ValidationFailed as exc:
        session.rollback()
        project = None if project_id is None else service.get_project(session, project_id)
        ctx = _form_context(request, session, project, values, _in_language(request, exc.problems, problems))
        return render(request, "improvement/form.html", ctx, status_code=400)
    return RedirectResponse("/improvement", status_code=303)


FormText = Annotated[str, Form()]


@router.get("/new", dependencies=[Depends(require_role(*EDITORS))])
def new_page(request: Request, session: DbSession):
    return render(request, "improvement/form.html", _form_context(request, session))


@router.post("/new", dependencies=[Depends(require_role(*EDITORS))])
def create(request: Request, session: DbSession, title: FormText = "", description: FormText = "",
           owner: FormText = "", cost: FormText = "", expected_improvement: FormText = "",
           status: FormText = "proposed", moment_ids: Annotated[list[str], Form()] = [],  # noqa: B006
           drivers: Annotated[list[str], Form()] = []):  # noqa: B006
    return _save(request, session, None, dict(title=title, description=description, owner=owner, cost=cost,
                                              expected_improvement=expected_improvement, status=status,
                                              moment_ids=moment_ids, drivers=drivers))


@router.get("/{project_id}/edit", dependencies=[Depends(require_role(*EDITORS))])
def edit_page(request: Request, session: DbSession, project_id: params.PathId):
    try:
        project = service.get_project(session, project_id)
    except NotFound:
        return error_page(request, 404)
    return render(request, "improvement/form.html", _form_context(request, session, project))


@router.post("/{project_id}/edit", dependencies=[Depends(require_role(*EDITORS))])
def update(request: Request, session: DbSession, project_id: params.PathId, title: FormText = "",
           description: FormText = "", owner: FormText = "", cost: FormText = "", expected_improvement: FormText = "",
           status: FormText = "proposed", moment_ids: Annotated[list[str], Form()] = [],  # noqa: B006
           drivers: Annotated[list[str], Form()] = []):  # noqa: B006
    try:
        service.get_project(session, project_id)
    except NotFound:
        return error_page(request, 404)
    return _save(request, session, project_id, dict(title=title, description=description, owner=owner, cost=cost,
                                                    expected_improvement=expected_improvement, status=status,
                                                    moment_ids=moment_ids, drivers=drivers))



