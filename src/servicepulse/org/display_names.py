"""Display names: the organisation's own Dutch and English names for keys that arrive as stored (activities and
channels from event logs and the API, departments, case facts).

Pages show a key as: its display name here (table ``display_names``, edited on /admin/display-names), else the
shipped name in the message catalogue (``http/i18n/labels.yaml``; for case facts ``cases.yaml``), else the key as
stored. `DisplayNames` is one read of the table, held for one request (``http.templating.display_names``), so a
changed name shows on the next page everywhere at once.

The table holds no personal data: keys name process steps, channels, departments and measures, never a customer;
customer erasure and retention leave it alone.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from servicepulse.errors import ValidationFailed
from servicepulse.kernels.spreadsheet import FORMULA_STARTS, csv_text
from servicepulse.models import CaseEvent, CaseFacts, DisplayName, OrgUnit, Response
from servicepulse.models.org import DISPLAY_NAME_KINDS

KINDS = DISPLAY_NAME_KINDS
MAX_NAME = 200
MAX_ROWS = 5000  # a CSV upload of more rows than any organisation has keys is a mistake
CSV_COLUMNS = ("kind", "key", "nl", "en")
# The case facts people see (the case page's facts, the case list, the effort index weights); the other
# columns of case_facts are bookkeeping.
FACT_KEYS = ("effort_index", "inbound_contacts", "repeat_contacts", "after_hours_contacts", "channel_switches",
             "handoffs", "front_to_back", "back_to_front", "ping_pong", "dark_period_hours", "reopenings",
             "first_time_right", "waiting_on_customer_hours", "waiting_on_us_hours", "throughput_days")


@dataclass
class DisplayNames:
    """The stored names, ``(kind, key) -> (nl, en)``; `name` answers None where there is none."""

    names: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)

    @property
    def version(self) -> str:
        """A short fingerprint of the names: a URL carrying it (the process graph's image) changes with a rename,
        so a browser's cached copy is not shown after one."""
        text = "\n".join(f"{k}\t{key}\t{nl}\t{en}" for (k, key), (nl, en) in sorted(self.names.items()))
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def name(self, kind: str, key, language: str) -> str | None:
        pair = self.names.get((kind, str(key)))
        if pair is None:
            return None
        return pair[1] if language == "en" else pair[0]


def load_display_names(session: Session) -> DisplayNames:
    rows = session.execute(select(DisplayName.kind, DisplayName.key, DisplayName.nl, DisplayName.en))
    return DisplayNames({(kind, key): (nl, en) for kind, key, nl, en in rows})


@dataclass(frozen=True)
class KeyInUse:
    kind: str
    key: str
    uses: int | None           # events, answers or cases carrying it; None where counting says nothing
    fallback: str | None = None  # a name the data itself gives (a department's name)


def keys_in_use(session: Session) -> dict[str, list[KeyInUse]]:
    """Every activity, channel, department and case fact the data holds (and every key that has a display name,
    even if no data carries it any more), per kind, most used first."""
    found: dict[str, dict[str, KeyInUse]] = {kind: {} for kind in KINDS}
    for activity, n in session.execute(select(CaseEvent.activity, func.count()).group_by(CaseEvent.activity)):
        found["activity"][activity] = KeyInUse("activity", activity, int(n))
    channels: dict[str, int] = {}
    for source in (CaseEvent.channel, Response.channel):
        for channel, n in session.execute(select(source, func.count()).where(source.is_not(None), source != "")
                                          .group_by(source)):
            channels[channel] = channels.get(channel, 0) + int(n)
    found["channel"] = {c: KeyInUse("channel", c, n) for c, n in channels.items()}
    for key, name in session.execute(select(OrgUnit.key, OrgUnit.name).where(OrgUnit.kind == "department")):
        found["department"][key] = KeyInUse("department", key, None, name)
    cases_with_facts = int(session.scalar(select(func.count()).select_from(CaseFacts)) or 0)
    if cases_with_facts:
        found["fact"] = {key: KeyInUse("fact", key, cases_with_facts) for key in FACT_KEYS}
    for kind, key in session.execute(select(DisplayName.kind, DisplayName.key)):
        found[kind].setdefault(key, KeyInUse(kind, key, 0))
    return {kind: sorted(items.values(), key=lambda k: (-(k.uses or 0), k.key.lower()))
            for kind, items in found.items()}


def _clean(value, what: str, problems: list[tuple[str, str]]) -> str:
    text = "" if value is None else str(value).strip()
    if not text:
        problems.append((what, "empty"))
    elif len(text) > MAX_NAME:
        problems.append((what, "too_long"))
    elif any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        problems.append((what, "control"))
    return text


def set_display_names(session: Session, rows: list[dict]) -> tuple[int, int]:
    """Store names (each row: kind, key, nl, en) all or nothing; a row with both names empty removes the key's
    display name (its shipped name shows again). Returns (stored, removed). Refuses with ValidationFailed whose
    problems are (field, reason): reasons ``kind``, ``empty``, ``too_long``, ``control``, ``duplicate``."""
    problems: list[tuple[str, str]] = []
    wanted: dict[tuple[str, str], tuple[str, str] | None] = {}
    if len(rows) > MAX_ROWS:
        raise ValidationFailed("too many rows", [("rows", "too_many")])
    for i, row in enumerate(rows, start=1):
        where = f"{i}"
        kind = str(row.get("kind") or "").strip()
        if kind not in KINDS:
            problems.append((f"{where}.kind", "kind"))
            continue
        key = _clean(row.get("key"), f"{where}.key", problems)
        nl, en = (str(row.get(lang) or "").strip() for lang in ("nl", "en"))
        if not nl and not en:
            wanted[(kind, key)] = None
            continue
        nl = _clean(nl, f"{where}.nl", problems)
        en = _clean(en, f"{where}.en", problems)
        if (kind, key) in wanted:
            problems.append((f"{where}.key", "duplicate"))
        wanted[(kind, key)] = (nl, en)
    if problems:
        raise ValidationFailed("display names refused: " + ", ".join(f"{f}: {r}" for f, r in problems), problems)
    existing = {(d.kind, d.key): d for d in session.scalars(select(DisplayName))}
    stored = removed = 0
    for (kind, key), pair in wanted.items():
        row = existing.get((kind, key))
        if pair is None:
            if row is not None:
                session.delete(row)
                removed += 1
            continue
        if row is None:
            session.add(DisplayName(kind=kind, key=key, nl=pair[0], en=pair[1]))
            stored += 1
        elif (row.nl, row.en) != pair:
            row.nl, row.en = pair
            stored += 1
    session.flush()
    return stored, removed


def parse_csv(text: str) -> list[dict]:
    """Rows of a display-name CSV (header kind,key,nl,en; comma or semicolon separated, as a Dutch spreadsheet
    saves it). Refuses with ValidationFailed (``file``: ``header``) when the header lacks a column."""
    text = text.lstrip("\ufeff")
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if not set(CSV_COLUMNS) <= set(header):
        raise ValidationFailed("the CSV needs the columns kind, key, nl, en", [("file", "header")])
    reader.fieldnames = header
    return [{k: _unquoted(v or "") for k, v in row.items() if k in CSV_COLUMNS} for row in reader]


def to_csv(session: Session, language: str) -> str:
    """Every key in use with its display name (empty where it has none), for a spreadsheet in ``language``
    (nl: ``;``); texts a spreadsheet would run as a formula get a leading apostrophe, which `parse_csv` drops."""
    names = load_display_names(session).names
    rows = [(k.kind, k.key, *names.get((k.kind, k.key), ("", "")))
            for items in keys_in_use(session).values() for k in items]
    return csv_text(CSV_COLUMNS, rows, language)


def _unquoted(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:2] in FORMULA_STARTS and len(value) > 1 else value
