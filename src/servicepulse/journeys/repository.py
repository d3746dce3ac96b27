"""Moment mapping rules in the database and as a YAML file.

File format (the same text is edited on the dashboard)::

    rules:
      - moment: fault_repair/report_fault     # journey key / moment key
        pattern: "fault (reported|melding)"    # any of: activity, pattern, channel, team
        channel: phone
      - moment: fault_repair/engineer_visit
        activity: Engineer visit

Saving replaces every rule at once (the order in the file is the priority);
a file with any problem is refused whole, naming each rule and field.
"""

from __future__ import annotations

import yaml
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from servicepulse.errors import ValidationFailed
from servicepulse.journeys.rules import Rule, pattern_problem
from servicepulse.models import Journey, Moment
from servicepulse.models.journeys import MomentRule

CONDITIONS = ("activity", "pattern", "channel", "team")
LIMITS = {"activity": 200, "pattern": 300, "channel": 30, "team": 200}


def load_rules(session: Session) -> list[Rule]:
    rows = session.execute(
        select(MomentRule, Moment.journey_id).join(Moment, Moment.id == MomentRule.moment_id)
        .where(MomentRule.active.is_(True)).order_by(MomentRule.position, MomentRule.id)).all()
    return [Rule(moment_id=r.moment_id, journey_id=j, activity=r.activity, pattern=r.pattern, channel=r.channel,
                 team=r.team) for r, j in rows]


def _moment_keys(session: Session) -> dict[str, int]:
    rows = session.execute(select(Moment.id, Moment.key, Journey.key).join(Journey, Journey.id == Moment.journey_id))
    return {f"{jk}/{mk}": mid for mid, mk, jk in rows}


def list_rules(session: Session) -> list[dict]:
    names = {v: k for k, v in _moment_keys(session).items()}
    rows = session.scalars(select(MomentRule).order_by(MomentRule.position, MomentRule.id)).all()
    out = []
    for r in rows:
        item = {"moment": names.get(r.moment_id, str(r.moment_id))}
        item.update({c: getattr(r, c) for c in CONDITIONS if getattr(r, c) is not None})
        if not r.active:
            item["active"] = False
        out.append(item)
    return out


def rules_yaml(session: Session) -> str:
    return yaml.safe_dump({"rules": list_rules(session)}, allow_unicode=True, sort_keys=False)


def parse_rules_yaml(text: str) -> list[dict]:
    try:
        data = yaml.safe_load(text) if text.strip() else {"rules": []}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ValidationFailed(f"the rules file is not valid YAML{where}", [("rules", str(exc).splitlines()[0])]) from None
    if isinstance(data, list):
        data = {"rules": data}
    if not isinstance(data, dict) or not isinstance(data.get("rules", []), list):
        raise ValidationFailed("the rules file needs a list under 'rules'", [("rules", "expected a list")])
    return data.get("rules") or []


def replace_rules(session: Session, items: list[dict]) -> int:
    """Validate every rule, then replace all stored rules; returns how many were stored."""
    moments = _moment_keys(session)
    problems: list[tuple[str, str]] = []
    rows = []
    for i, item in enumerate(items, start=1):
        where = f"rule {i}"
        if not isinstance(item, dict):
            problems.append((where, "expected a mapping with 'moment' and a condition"))
            continue
        unknown = set(item) - set(CONDITIONS) - {"moment", "active"}
        if unknown:
            problems.append((where, f"unknown field(s): {', '.join(sorted(unknown))}"))
        moment = str(item.get("moment") or "")
        if moment not in moments:
            problems.append((f"{where}.moment", f"'{moment}' is not a moment (use journey_key/moment_key)"))
        values = {c: (str(item[c]).strip() or None) if item.get(c) is not None else None for c in CONDITIONS}
        if not any(values.values()):
            problems.append((where, "needs at least one of activity, pattern, channel, team"))
        for c, v in values.items():
            if v is not None and len(v) > LIMITS[c]:
                problems.append((f"{where}.{c}", f"longer than {LIMITS[c]} characters"))
        if values["pattern"] and (p := pattern_problem(values["pattern"])):
            problems.append((f"{where}.pattern", p))
        rows.append(MomentRule(position=i, moment_id=moments.get(moment), active=bool(item.get("active", True)),
                               **values))
    if problems:
        raise ValidationFailed("moment rules not saved: " + "; ".join(f"{w}: {m}" for w, m in problems), problems)
    session.execute(delete(MomentRule))
    session.add_all(rows)
    session.flush()
    return len(rows)
