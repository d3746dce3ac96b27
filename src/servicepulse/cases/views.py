"""Dashboard pages of the cases domain: the case list with facts and effort
index, one case's timeline from the customer's side, and the effort index's
validation. For administrators, analysts and team leads; team leads see the cases of their
own teams (servicepulse.org.Actor), the effort index's validation covers every case."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from markupsafe import Markup
from sqlalchemy.orm import Session

from servicepulse.cases import repository, timeline
from servicepulse.errors import NotFound
from servicepulse.http import params
from servicepulse.http.auth import CurrentActor, require_role
from servicepulse.http.deps import DbSession
from servicepulse.http.errors import error_page
from servicepulse.http.templating import render
from servicepulse.models import Case, Journey

VIEWERS = ("admin", "analyst", "teamlead")
router = APIRouter(prefix="/cases", dependencies=[Depends(require_role(*VIEWERS))])
PAGE_SIZE = 50
# An extra panel of the case page: panel(request, session, case, now) -> HTML, shown below the heading.
CasePanel = Callable[[Request, Session, Case, datetime], str]


@router.get("")
def case_list(request: Request, session: DbSession, actor: CurrentActor):
    q = request.query_params
    try:  # bounded: a page number past the id range or a NUL byte is the visitor's mistake, not a 500
        page = params.parse_page(q.get("page"))
        journey_id = params.parse_int(q.get("journey"), "journey")
        search = params.clean_text((q.get("q") or "").strip()[:100], "q", limit=100)
    except params.ParamError as exc:
        return params.refused_page(request, exc)
    sort = q.get("sort") if q.get("sort") in repository.SORTS else "effort"
    rows, total = repository.list_cases(session, journey_id=journey_id, sort=sort, query=search, page=page,
                                        page_size=PAGE_SIZE, actor=actor)
    journeys = session.query(Journey).order_by(Journey.id).all()
    return render(request, "cases/list.html", {
        "rows": rows, "total": total, "page": page, "pages": max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        "journeys": journeys, "journey_id": journey_id, "sort": sort, "search": search or "",
        "model": repository.active_effort_model(session),
    })


@router.get("/effort")
def effort_page(request: Request, session: DbSession):
    model = repository.active_effort_model(session)
    weights = sorted(zip(model.features, model.weights), key=lambda fw: fw[1]) if model else []
    return render(request, "cases/effort.html", {"model": model, "weights": weights})


@router.get("/{external_id}")
def case_page(request: Request, session: DbSession, actor: CurrentActor, external_id: params.PathKey):
    try:
        case = repository.get_case(session, external_id, actor)
    except NotFound:
        return error_page(request, 404)
    now = datetime.now(UTC)
    view = timeline.build(session, case, now=now if case.closed_at is None else None)
    journey = session.get(Journey, case.journey_id) if case.journey_id else None
    return render(request, "cases/timeline.html", {
        "case": case, "tl": view, "facts": repository.facts_of(session, case.id), "journey": journey,
        "panels": [Markup(panel(request, session, case, now)) for panel in case_panels(request)],
    })


def case_panels(request: Request) -> list[CasePanel]:
    """Panels later domains add to the case page (e.g. the expectations domain's forecast), which
    cases may not import: the app assembly lists them in ``app.state.case_panels``. None by default."""
    return list(getattr(request.app.state, "case_panels", ()))
