"""Home page: the journeys and their moments, each with its kind, norm and number of responses."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from servicepulse.models import Journey, Moment, Response
from servicepulse.http.auth import CurrentUser
from servicepulse.http.deps import DbSession
from servicepulse.http.templating import render
from servicepulse.http.i18n import request_language

router = APIRouter()


@dataclass
class MomentRow:
    key: str
    name: str
    kind: str
    norm: float
    responses: int


@dataclass
class JourneyRow:
    key: str
    name: str
    description: str | None
    moments: list[MomentRow] = field(default_factory=list)


def journey_overview(session: Session, language: str) -> list[JourneyRow]:
    """All journeys with their moments in order and the response count per moment, in one query.

    Responses are counted once per moment in a grouped subquery (served by the
    index on responses.moment_id) and then joined to the small journey and
    moment tables.
    """
    counts = (
        select(Response.moment_id.label("moment_id"), func.count().label("n"))
        .where(Response.moment_id.is_not(None))
        .group_by(Response.moment_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Journey.id, Journey.key, Journey.name_nl, Journey.name_en, Journey.description_nl, Journey.description_en,
            Moment.key, Moment.name_nl, Moment.name_en, Moment.kind, Moment.norm,
            func.coalesce(counts.c.n, 0),
        )
        .select_from(Journey)
        .outerjoin(Moment, Moment.journey_id == Journey.id)
        .outerjoin(counts, counts.c.moment_id == Moment.id)
        .order_by(Journey.id, Moment.position, Moment.id)
    ).all()
    journeys: dict[int, JourneyRow] = {}
    for (jid, jkey, jnl, jen, dnl, den, mkey, mnl, men, kind, norm, n) in rows:
        journey = journeys.get(jid)
        if journey is None:
            journey = journeys[jid] = JourneyRow(jkey, jnl if language == "nl" else jen,
                                                 dnl if language == "nl" else den)
        if mkey is not None:
            journey.moments.append(MomentRow(mkey, mnl if language == "nl" else men, kind, norm, int(n)))
    return list(journeys.values())


@router.get("/")
def home(request: Request, user: CurrentUser, session: DbSession):
    journeys = journey_overview(session, request_language(request))
    return render(request, "home.html", {"journeys": journeys})
