"""Dashboard pages of journey analytics: the journeys, one journey's moments,
variants and directly-follows graph (an SVG image), and the moment rules
editor (YAML, the same format as the rules file)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import select

from servicepulse.errors import ValidationFailed
from servicepulse.http import params
from servicepulse.http.auth import CurrentUser, require_role
from servicepulse.http.deps import DbSession
from servicepulse.http.errors import error_page
from servicepulse.http.i18n import request_language
from servicepulse.http.templating import render, stored_label
from servicepulse.journeys import analytics, repository
from servicepulse.journeys.dfg import MAX_ARCS, dfg_svg
from servicepulse.models import Journey, Moment
from servicepulse.org import record_audit

VIEWERS = ("admin", "analyst", "teamlead")
EDITORS = ("admin", "analyst")
router = APIRouter(prefix="/journeys", dependencies=[Depends(require_role(*VIEWERS))])


def _journey(session, key: str) -> Journey | None:
    return session.scalar(select(Journey).where(Journey.key == key))


@router.get("")
def journeys_page(request: Request, session: DbSession):
    return render(request, "journeys/list.html", {"journeys": analytics.journeys_summary(session)})


def _rules_page(request: Request, session, text: str, problems: list[tuple[str, str]], saved: int | None,
                status_code: int = 200):
    moments = session.execute(select(Journey.key, Moment.key, Moment.name_nl, Moment.name_en)
                              .join(Moment, Moment.journey_id == Journey.id)
                              .order_by(Journey.id, Moment.position)).all()
    return render(request, "journeys/rules.html", {"text": text, "problems": problems, "saved": saved,
                                                   "moments": moments}, status_code=status_code)


@router.get("/rules")
def rules_page(request: Request, session: DbSession):
    return _rules_page(request, session, repository.rules_yaml(session), [], None)


@router.post("/rules", dependencies=[Depends(require_role(*EDITORS))])
def rules_save(request: Request, session: DbSession, user: CurrentUser, rules: str = Form("")):
    try:
        try:
            parsed = repository.parse_rules_yaml(rules)
        except RecursionError:  # '[' * 100000: deeper than the YAML parser goes
            raise ValidationFailed("the rules are nested too deeply", [("rules", "nested too deeply to read")]) from None
        n = repository.replace_rules(session, parsed)
        record_audit(session, f"user:{user.id}", "moment_rules.replace", {"rules": n})
    except ValidationFailed as exc:
        session.rollback()
        return _rules_page(request, session, rules, exc.problems, None, status_code=422)
    return _rules_page(request, session, repository.rules_yaml(session), [], n)


@router.get("/{key}")
def journey_page(request: Request, session: DbSession, key: params.PathKey):
    journey = _journey(session, key)
    if journey is None:
        return error_page(request, 404)
    view = analytics.journey_view(session, journey)
    return render(request, "journeys/journey.html", {"view": view, "max_arcs": MAX_ARCS})


@router.get("/{key}/dfg.svg")
def journey_dfg(request: Request, session: DbSession, key: params.PathKey):
    journey = _journey(session, key)
    if journey is None:
        return error_page(request, 404)
    view = analytics.journey_view(session, journey)
    language = request_language(request)
    title = request.app.state.catalogue.translate("journeys.dfg_alt", language)
    def name(activity: str) -> str:  # the activity's name in the reader's language, where the catalogue has one
        return stored_label(request.app.state.catalogue, "labels.activity", activity, language)
    svg = dfg_svg([(name(a), name(b), count, hours) for a, b, count, hours in view.dfg],
                  {name(a): n for a, n in view.activities.items()}, language,
                  starts={name(a): n for a, n in view.starts.items()}, title=title)
    return Response(svg, media_type="image/svg+xml",
                    headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
                             "Cache-Control": "private, max-age=300"})
