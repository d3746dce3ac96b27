"""The queries behind response ingestion: set-based lookups and multi-row inserts (SQLAlchemy Core)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from servicepulse.errors import NotFound
from servicepulse.models import Answer, Case, Customer, Response, Survey, SurveyVersion

# Keeps each IN list and multi-row insert well under SQLite's bound-parameter limit.
CHUNK = 500


@dataclass(frozen=True)
class StoredRef:
    id: int
    content_hash: str | None
    survey_version_id: int


@dataclass(frozen=True)
class CaseRef:
    id: int
    customer_id: int | None
    last_team_id: int | None


def _chunks(values):
    values = list(values)
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


# Statements are built once: on the single-response path, building SQL expressions
# per call cost more than running them.
_R, _K, _A = Response.__table__, Case.__table__, Answer.__table__
_EXISTING = select(_R.c.external_id, _R.c.id, _R.c.content_hash, _R.c.survey_version_id).where(
    _R.c.external_id.in_(bindparam("ids", expanding=True)))
_CASES = select(_K.c.external_id, _K.c.id, _K.c.customer_id, _K.c.last_team_id).where(
    _K.c.external_id.in_(bindparam("ids", expanding=True)))
_INSERT_ANSWERS = insert(_A)
_INSERTS: dict[str, object] = {}


def existing_by_external_id(session: Session, external_ids) -> dict[str, StoredRef]:
    found = {}
    conn = session.connection()
    for chunk in _chunks(set(external_ids)):
        for r in conn.execute(_EXISTING, {"ids": chunk}):
            found[r.external_id] = StoredRef(r.id, r.content_hash, r.survey_version_id)
    return found


def cases_by_external_id(session: Session, external_ids) -> dict[str, CaseRef]:
    found = {}
    conn = session.connection()
    for chunk in _chunks(set(external_ids)):
        for r in conn.execute(_CASES, {"ids": chunk}):
            found[r.external_id] = CaseRef(r.id, r.customer_id, r.last_team_id)
    return found


def _insert_ignoring_duplicates(session: Session):
    """INSERT ... ON CONFLICT (external_id) DO NOTHING on both databases: a concurrent writer may have won the race."""
    dialect = session.get_bind().dialect.name
    if dialect not in _INSERTS:
        module = postgresql if dialect == "postgresql" else sqlite
        _INSERTS[dialect] = (module.insert(_R).on_conflict_do_nothing(index_elements=["external_id"])
                             .returning(_R.c.external_id, _R.c.id))
    return _INSERTS[dialect]


def insert_responses(session: Session, rows: list[dict]) -> dict[str, int]:
    """Multi-row insert; returns external_id -> id for the rows this call wrote (not those a racing writer did).

    Rows go in external-id order: concurrent transactions (PostgreSQL) then take their
    unique-key locks in the same order and cannot deadlock on overlapping ids."""
    written = {}
    for chunk in _chunks(sorted(rows, key=lambda r: r["external_id"])):
        written.update(session.connection().execute(_insert_ignoring_duplicates(session), chunk).all())
    return written


def insert_answers(session: Session, rows: list[dict]) -> None:
    for chunk in _chunks(rows):
        session.connection().execute(_INSERT_ANSWERS, chunk)


def load_resources(session: Session, response_ids) -> dict[int, dict]:
    """Stored responses in their API shape, keyed by id (three queries whatever the number)."""
    out: dict[int, dict] = {}
    ids = list(set(response_ids))
    for chunk in _chunks(ids):
        rows = session.execute(
            select(Response.id, Response.external_id, Survey.key.label("survey"), SurveyVersion.version,
                   Customer.external_id.label("customer"), Case.external_id.label("case"),
                   Response.submitted_at, Response.language, Response.channel)
            .join(SurveyVersion, SurveyVersion.id == Response.survey_version_id)
            .join(Survey, Survey.id == SurveyVersion.survey_id)
            .outerjoin(Customer, Customer.id == Response.customer_id)
            .outerjoin(Case, Case.id == Response.case_id)
            .where(Response.id.in_(chunk))
        ).all()
        for r in rows:
            out[r.id] = {
                "id": r.id, "external_id": r.external_id, "survey": r.survey, "survey_version": r.version,
                "customer": r.customer, "case": r.case,
                "submitted_at": r.submitted_at.isoformat().replace("+00:00", "Z"),
                "language": r.language, "channel": r.channel, "answers": {},
            }
        answers = session.execute(
            select(Answer.response_id, Answer.question_key, Answer.value_num, Answer.value_text, Answer.value_json)
            .where(Answer.response_id.in_(chunk)).order_by(Answer.id)
        )
        for a in answers:
            if a.value_json is not None:
                value = a.value_json
            elif a.value_text is not None:
                value = a.value_text
            else:
                value = int(a.value_num) if a.value_num is not None and float(a.value_num).is_integer() else a.value_num
            out[a.response_id]["answers"][a.question_key] = value
    return out


def load_resource(session: Session, external_id: str) -> dict:
    response_id = session.scalar(select(Response.id).where(Response.external_id == external_id))
    if response_id is None:
        raise NotFound(f"there is no response with external_id {external_id!r}")
    return load_resources(session, [response_id])[response_id]
