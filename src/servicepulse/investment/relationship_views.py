"""The relationship-health page (/investment/relationship): customers whose only contact was transactional and
customers who heard nothing after a bad experience, counted by segment, with links to their customer pages.

Administrators and analysts see every customer; team leads the customers of their teams (cases of their teams
for the transactional group, answers of their teams for the silent group). Nothing beyond what the customer page
shows: the customer's number and segment, a date and the score of the bad answer.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request

from servicepulse.http.auth import CurrentActor, require_role
from servicepulse.http.deps import DbSession
from servicepulse.http.templating import render
from servicepulse.investment import relationship

VIEWERS = ("admin", "analyst", "teamlead")
LISTED = 100  # customers listed per group (the counts cover all)
router = APIRouter()


@router.get("/investment/relationship", dependencies=[Depends(require_role(*VIEWERS))])
def relationship_page(request: Request, session: DbSession, actor: CurrentActor):
    settings = relationship.RelationshipSettings()
    view = relationship.health(session, actor, datetime.now(UTC), settings)
    transactional, silent = view.counts("transactional"), view.counts("silent")
    segments = [{"segment": s, "transactional": transactional.get(s, 0), "silent": silent.get(s, 0)}
                for s in view.segments]
    return render(request, "investment/relationship.html", {
        "view": view, "segments": segments, "settings": settings, "listed": LISTED,
        "transactional": sorted(view.transactional, key=lambda r: r.at)[:LISTED],
        "silent": sorted(view.silent, key=lambda r: r.at)[:LISTED],
        "activities": ", ".join(settings.activities()),
    })
