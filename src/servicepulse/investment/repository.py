"""The queries of cost to serve and avoidable contact: the stored events, promises, departments and outcomes.

Everything is read as frames and computed in pandas (`costs.py`, `demand.py`); nothing is stored.
`data_fingerprint` tells cheaply whether the data those frames are computed from may have changed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from servicepulse.kernels.text import CodeFrame, load_default_codeframe
from servicepulse.kernels.text.codeframe import codeframe_from_yaml
from servicepulse.models import (
    Answer,
    Case,
    CaseEvent,
    CaseFacts,
    Journey,
    Moment,
    OrgUnit,
    Promise,
    Response,
    Verbatim,
    VerbatimCodeFrame,
    VerbatimMention,
)
from servicepulse.responses import day_start, moment_match

EVENT_COLUMNS = ("id", "case_id", "occurred_at", "seq", "activity", "channel", "direction", "team_id",
                 "customer_facing", "moment_id", "attributes", "journey_id")


def local_day_start(day: date, zone: str) -> datetime:
    """The UTC moment the organisation's day ``day`` begins (midnight on its clock, ``zone``)."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(str(zone))).astimezone(UTC)


def event_frame(session: Session, date_from: date | None = None, date_to: date | None = None,
                zone: str = "Europe/Amsterdam") -> pd.DataFrame:
    """Every event of the cases that have an event in [date_from, date_to) (the organisation's days on the
    clock of ``zone``; None: open), with its case's journey, ordered by case, time and source order. Earlier
    events of those cases come along: a contact is judged on its case's history."""
    stmt = (select(CaseEvent.id, CaseEvent.case_id, CaseEvent.occurred_at, CaseEvent.seq, CaseEvent.activity,
                   CaseEvent.channel, CaseEvent.direction, CaseEvent.team_id, CaseEvent.customer_facing,
                   CaseEvent.moment_id, CaseEvent.attributes, Case.journey_id)
            .join(Case, Case.id == CaseEvent.case_id))
    if date_from is not None or date_to is not None:
        inner = select(CaseEvent.case_id)
        if date_from is not None:
            inner = inner.where(CaseEvent.occurred_at >= local_day_start(date_from, zone))
        if date_to is not None:
            inner = inner.where(CaseEvent.occurred_at < local_day_start(date_to, zone))
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
        *one(func.count(VerbatimMention.id), func.max(VerbatimMention.id), func.max(Verbatim.analysed_at),
             func.max(VerbatimCodeFrame.id)),
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


def moment_answer_frames(session: Session, date_from: date | None = None,
                         date_to: date | None = None) -> dict[int, pd.DataFrame]:
    """Journey id -> one row per completed response with a moment grade of that journey: its ``nps`` and
    ``grade`` and one column per moment key. The respondents `metrics.moment_facts` regresses: the same
    moment match and the same period (submitted in [date_from, date_to) as the metrics cut it)."""
    mg = aliased(Moment, name="mg")
    rc = aliased(Case, name="rc")
    stmt = (select(Response.id, mg.journey_id, mg.key, Answer.value_num, Response.nps, Response.grade)
            .select_from(Answer)
            .join(Response, Response.id == Answer.response_id)
            .outerjoin(rc, rc.id == Response.case_id)
            .join(mg, moment_match(mg, rc))
            .where(Answer.value_num.is_not(None), Response.completed.is_(True)))
    if date_from is not None:
        stmt = stmt.where(Response.submitted_at >= day_start(date_from))
    if date_to is not None:
        stmt = stmt.where(Response.submitted_at < day_start(date_to))
    long = pd.DataFrame(session.execute(stmt).all(),
                        columns=["response_id", "journey_id", "moment", "value", "nps", "grade"])
    out = {}
    long = long.drop_duplicates(["response_id", "journey_id", "moment"])  # the first grade, as the metrics pivot
    for journey_id, part in long.groupby("journey_id"):
        wide = part.set_index(["response_id", "moment"])["value"].unstack()
        wide.columns.name = None
        heads = part.drop_duplicates("response_id").set_index("response_id")[["nps", "grade"]]
        out[int(journey_id)] = heads.join(wide, how="inner").astype(float)
    return out


def codeframe(session: Session) -> CodeFrame:
    """The code frame in use: the newest saved version, else the shipped default (as the verbatims read it)."""
    text = session.scalar(select(VerbatimCodeFrame.yaml).order_by(VerbatimCodeFrame.id.desc()).limit(1))
    return load_default_codeframe() if text is None else codeframe_from_yaml(text)


def chasing_comments(session: Session, themes: list[str]) -> dict[int, list]:
    """Case id -> the submission times of its answers whose analysed comment speaks negatively of one of
    ``themes`` (not kept informed, no news, having to chase)."""
    if not themes:
        return {}
    rows = session.execute(select(Response.case_id, Response.submitted_at).distinct()
                           .join(VerbatimMention, VerbatimMention.response_id == Response.id)
                           .where(VerbatimMention.theme.in_(themes), VerbatimMention.sentiment < 0,
                                  Response.case_id.is_not(None))).all()
    out: dict[int, list] = {}
    for case_id, at in rows:
        out.setdefault(int(case_id), []).append(pd.Timestamp(at).tz_convert("UTC"))
    return out


def teams(session: Session) -> list[tuple[int, str]]:
    """(id, name) of every team, by name."""
    return [(i, n) for i, n in session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.kind == "team")
                                               .order_by(OrgUnit.name))]
