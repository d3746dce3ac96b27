"""Home page: the journeys and their moments, each with its kind, norm and number of submitted answers grading it."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepulse.http.auth import CurrentUser
from servicepulse.http.deps import DbSession
from servicepulse.http.i18n import request_language
from servicepulse.http.templating import render
from servicepulse.metrics import graded_counts
from servicepulse.models import Journey, Moment

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
    """All journeys with their moments in order and, per moment, the submitted answers that graded it.

    A journey-end answer grades several moments and counts for each of them (the counts the moment pages
    show, from the metrics domain: the daily aggregate when it is current, else the raw tables).
    """
    counts = graded_counts(session)
    rows = [
        (*row, counts.get(row[-1], 0)) if row[-1] is not None else (*row, 0)
        for row in session.execute(
            select(
                Journey.id, Journey.key, Journey.name_nl, Journey.name_en, Journey.description_nl,
                Journey.description_en, Moment.key, Moment.name_nl, Moment.name_en, Moment.kind, Moment.norm,
                Moment.id,
            )
            .select_from(Journey)
            .outerjoin(Moment, Moment.journey_id == Journey.id)
            .order_by(Journey.id, Moment.position, Moment.id)
        ).all()
    ]
    journeys: dict[int, JourneyRow] = {}
    for (jid, jkey, jnl, jen, dnl, den, mkey, mnl, men, kind, norm, _mid, n) in rows:
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
