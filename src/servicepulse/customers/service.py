"""External customer ids to customer ids, creating missing customers. Never commits.

Set-based on both databases, so a bulk import pays a few statements per
chunk, not one per customer: one ``IN`` lookup, one
executemany ``INSERT ... ON CONFLICT (external_id) DO NOTHING`` for the missing ones (a
concurrent writer may create the same customer), one lookup of what was
written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from servicepulse.models import Customer

LOOKUP_CHUNK = 5000  # ids per IN list: well under SQLite's 32,766 bound parameters

_C = Customer.__table__
_LOOKUP = select(_C.c.external_id, _C.c.id).where(_C.c.external_id.in_(bindparam("ids", expanding=True)))
_INSERTS: dict[str, object] = {}


class Resolved(NamedTuple):
    ids: dict[str, int]  # external id -> customer id, for every id asked
    created: int  # customers this call created


def _chunks(values: list, size: int):
    for start in range(0, len(values), size):
        yield values[start:start + size]


def customer_ids(session: Session, external_ids: Iterable[str]) -> dict[str, int]:
    """The ids of the customers that exist (external id -> id); unknown ids are left out."""
    found: dict[str, int] = {}
    conn = session.connection()
    for chunk in _chunks(list(set(external_ids)), LOOKUP_CHUNK):
        found.update(conn.execute(_LOOKUP, {"ids": chunk}).all())
    return found


def _insert_ignoring_duplicates(session: Session):
    dialect = session.get_bind().dialect.name
    if dialect not in _INSERTS:
        module = postgresql if dialect == "postgresql" else sqlite
        _INSERTS[dialect] = module.insert(_C).on_conflict_do_nothing(index_elements=["external_id"])
    return _INSERTS[dialect]


def resolve_customers(session: Session, languages_by_external_id: Mapping[str, str], now: datetime) -> Resolved:
    """Customer ids for these external ids; the missing customers are created with the given language
    (external id and language only: the master data may arrive later)."""
    found = customer_ids(session, languages_by_external_id)
    # external-id order: concurrent transactions (PostgreSQL) take their unique-key locks in the same order
    rows = [{"external_id": ext, "language": lang, "attributes": {}, "created_at": now}
            for ext, lang in sorted(languages_by_external_id.items()) if ext not in found]
    if rows:
        session.connection().execute(_insert_ignoring_duplicates(session), rows)  # executemany
        found.update(customer_ids(session, [r["external_id"] for r in rows]))
    return Resolved(found, len(rows))
