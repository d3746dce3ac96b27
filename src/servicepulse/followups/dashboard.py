"""Closed-loop figures: time to first contact, closed-loop rate, top root causes per journey.

Aggregates run in SQL; the median of the first-contact times is computed with
NumPy on the (small) per-follow-up durations of the chosen window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from servicepulse.followups.access import Actor
from servicepulse.models import Case, FollowUp, Journey, Moment, Response


@dataclass
class LoopFigures:
    total: int
    by_status: dict[str, int]
    overdue: int
    due: int  # follow-ups closed, or past their due time: the denominator of the closed-loop rate
    closed_in_time: int
    median_first_contact_hours: float | None
    first_contacts: int
    top_root_causes: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # journey key -> [(cause, n)]

    @property
    def closed_loop_rate(self) -> float | None:
        return self.closed_in_time / self.due if self.due else None


def figures(session: Session, actor: Actor, now: datetime, team_id: int | None = None, top: int = 5) -> LoopFigures:
    scope = []
    visible = actor.visible_team_ids()
    if visible is not None:
        scope.append(FollowUp.team_id.in_(visible))
    if team_id is not None:
        scope.append(FollowUp.team_id == team_id)
    by_status = {s: n for s, n in session.execute(select(FollowUp.status, func.count()).where(*scope)
                                                  .group_by(FollowUp.status))}
    overdue = session.scalar(select(func.count()).select_from(FollowUp)
                             .where(*scope, FollowUp.status != "closed", FollowUp.due_at < now))
    closed_in_time = session.scalar(select(func.count()).select_from(FollowUp)
                                    .where(*scope, FollowUp.status == "closed", FollowUp.closed_at <= FollowUp.due_at))
    due = by_status.get("closed", 0) + overdue
    pairs = session.execute(select(FollowUp.created_at, FollowUp.first_contact_at)
                            .where(*scope, FollowUp.first_contact_at.is_not(None))).all()
    hours = np.array([(b - a).total_seconds() / 3600 for a, b in pairs], dtype=float)
    journey = func.coalesce(Case.journey_id, Moment.journey_id)
    causes = session.execute(
        select(Journey.key, FollowUp.root_cause, func.count().label("n"))
        .select_from(FollowUp)
        .outerjoin(Case, Case.id == FollowUp.case_id)
        .outerjoin(Response, Response.id == FollowUp.response_id)
        .outerjoin(Moment, Moment.id == Response.moment_id)
        .outerjoin(Journey, Journey.id == journey)
        .where(*scope, FollowUp.root_cause.is_not(None))
        .group_by(Journey.key, FollowUp.root_cause)
        .order_by(Journey.key, func.count().desc(), FollowUp.root_cause)).all()
    top_causes: dict[str, list[tuple[str, int]]] = {}
    for key, cause, n in causes:
        bucket = top_causes.setdefault(key or "-", [])
        if len(bucket) < top:
            bucket.append((cause, n))
    return LoopFigures(total=sum(by_status.values()), by_status=by_status, overdue=overdue, due=due,
                       closed_in_time=closed_in_time,
                       median_first_contact_hours=float(np.median(hours)) if len(hours) else None,
                       first_contacts=len(hours), top_root_causes=top_causes)
