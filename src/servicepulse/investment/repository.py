"""The queries of cost to serve and avoidable contact: the stored events, promises, departments and outcomes.

Everything is read as frames and computed in pandas (`costs.py`, `demand.py`); nothing is stored.
`data_fingerprint` tells cheaply whether the data those frames are computed from may have changed.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from servicepulse.models import Case, CaseEvent, CaseFacts, Journey, Moment, OrgUnit, Promise, Response
from servicepulse.responses import day_start

EVENT_COLUMNS = ("id", "case_id", "occurred_at", "seq", "activity", "channel", "direction", "team_id",
                 "customer_facing", "moment_id", "attributes", "journey_id")


def event_frame(session: Session, date_from: date | None = None, date_to: date | None = None) -> pd.DataFrame:
    """Every event of the cases that have an event in [date_from, date_to) (local days; None: open), with its
    case's journey, ordered by case, time and source order. Earlier events of those cases come along: a
    contact is judged on its case's history."""
    stmt = (select(CaseEvent.id, CaseEvent.case_id, CaseEvent.occurred_at, CaseEvent.seq, CaseEvent.activity,
                   CaseEvent.channel, CaseEvent.direction, CaseEvent.team_id, CaseEvent.customer_facing,
                   CaseEvent.moment_id, CaseEvent.attributes, Case.journey_id)
            .join(Case, Case.id == CaseEvent.case_id))
    if date_from is not None or date_to is not None:
        inner = select(CaseEvent.case_id)
        if date_from is not None:
            inner = inner.where(CaseEvent.occurred_at >= day_start(date_from))
        if date_to is not None:
            inner = inner.where(CaseEvent.occurred_at < day_start(date_to))
        stmt = stmt.where(CaseEvent.case_id.in_(inner.distinct()))
    stmt = stmt.order_by(CaseEvent.case_id, CaseEvent.occurred_at, CaseEvent.seq, CaseEvent.id)
    rows = session.execute(stmt).all()
    frame = pd.DataFrame(rows, columns=list(EVENT_COLUMNS))
    if frame.empty:
        return frame
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], utc=True)
    return frame


def data_fingerprint(session: Session) -> tuple:
    """A cheap fingerprint of the events, cases and promises the contact analysis reads: events are append-only
    (a new one raises the highest id or, where SQLite reuses an erased highest id, the latest ingestion time;
    an erased one lowers the count), a case can change journey (the sum of
    the journey ids), a promise can be kept or moved (the count, extremes and sums of its times and team).
    Equal fingerprints: the same rows, short of an edit that leaves every one of these aggregates unchanged."""
    def one(*columns):
        return [select(c).scalar_subquery() for c in columns]

    row = session.execute(select(
        *one(func.count(CaseEvent.id), func.max(CaseEvent.id), func.min(CaseEvent.id), func.sum(CaseEvent.case_id),
             func.max(CaseEvent.ingested_at)),
        *one(func.count(Case.id), func.max(Case.id), func.sum(Case.journey_id), func.count(Case.journey_id)),
        *one(func.count(Promise.id), func.max(Promise.id), func.count(Promise.kept_at), func.min(Promise.kept_at),
             func.max(Promise.kept_at), func.min(Promise.due_at), func.max(Promise.due_at),
             func.sum(Promise.made_by_team_id), func.count(Promise.made_by_team_id), func.sum(Promise.case_id)),
    )).one()
    return tuple(str(v) for v in row)


def promise_frame(session: Session, case_ids: list[int] | None = None) -> pd.DataFrame:
    stmt = select(Promise.case_id, Promise.due_at, Promise.kept_at, Promise.made_by_team_id)
    rows = session.execute(stmt).all()
    frame = pd.DataFrame(rows, columns=["case_id", "due_at", "kept_at", "team_id"])
    if case_ids is not None:
        frame = frame[frame["case_id"].isin(case_ids)]
    for column in ("due_at", "kept_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def team_departments(session: Session) -> dict[int, int]:
    """Team id -> its department's id (a unit without a department parent is its own)."""
    parent = aliased(OrgUnit)
    rows = session.execute(select(OrgUnit.id, OrgUnit.kind, OrgUnit.parent_id, parent.kind)
                           .join(parent, parent.id == OrgUnit.parent_id, isouter=True)).all()
    out = {}
    for unit_id, kind, parent_id, parent_kind in rows:
        out[unit_id] = parent_id if kind == "team" and parent_kind == "department" else unit_id
    return out


def departments(session: Session) -> list[OrgUnit]:
    return list(session.scalars(select(OrgUnit).where(OrgUnit.kind == "department").order_by(OrgUnit.name)))


def unit_names(session: Session) -> dict[int, tuple[str, str]]:
    """Unit id -> (key, name)."""
    return {i: (k, n) for i, k, n in session.execute(select(OrgUnit.id, OrgUnit.key, OrgUnit.name))}


def moment_frame(session: Session) -> pd.DataFrame:
    rows = session.execute(select(Moment.id, Moment.key, Moment.journey_id, Moment.position, Moment.kind,
                                  Moment.norm, Moment.department_id, Moment.name_nl, Moment.name_en)
                           .order_by(Moment.journey_id, Moment.position)).all()
    return pd.DataFrame(rows, columns=["moment_id", "key", "journey_id", "position", "kind", "norm",
                                       "department_id", "name_nl", "name_en"]).set_index("moment_id")


def journey_names(session: Session) -> dict[int, tuple[str, str, str]]:
    """Journey id -> (key, Dutch name, English name)."""
    return {i: (k, nl, en) for i, k, nl, en in session.execute(select(Journey.id, Journey.key, Journey.name_nl,
                                                                     Journey.name_en))}


def case_outcomes(session: Session, case_ids: list[int] | None = None) -> pd.DataFrame:
    """Per case: its journey, effort index and the recommendation score of its (last) answer."""
    facts = pd.DataFrame(session.execute(select(Case.id, Case.journey_id, CaseFacts.effort_index)
                                         .join(CaseFacts, CaseFacts.case_id == Case.id, isouter=True)).all(),
                         columns=["case_id", "journey_id", "effort_index"]).set_index("case_id")
    answers = pd.DataFrame(session.execute(select(Response.case_id, Response.nps)
                                           .where(Response.case_id.is_not(None), Response.nps.is_not(None),
                                                  Response.completed.is_(True))
                                           .order_by(Response.submitted_at)).all(), columns=["case_id", "nps"])
    facts["nps"] = answers.groupby("case_id")["nps"].last().reindex(facts.index)
    if case_ids is not None:
        facts = facts.reindex(case_ids)
    return facts
