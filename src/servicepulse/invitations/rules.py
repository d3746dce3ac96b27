"""Trigger rules: read from YAML or an API body, validated, stored; and how a rule matches events.

A rule file::

    rules:
      - key: repair_visit_done
        survey: after_visit          # survey key
        journey: repair              # journey key; omit for any journey
        activity: "Visit done"       # the case event's activity; * and ? are wildcards
        delay: 2h                    # 30m, 2h, 1d, or a number of minutes
        sample_percent: 50           # default 100
        throttle_days: 30            # at most one invitation per customer per N days, any survey, any channel
        require_closed: true         # not while the case is still open
        expires_days: 14             # how long the link works
        reminder_after_days: 3       # one reminder; null for none
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepulse.errors import NotFound, ValidationFailed
from servicepulse.models import Journey, Survey, utcnow
from servicepulse.models.invitations import TriggerRule

_DELAY = re.compile(r"^\s*(\d+)\s*([mhd]?)\s*$")
_UNITS = {"": 1, "m": 1, "h": 60, "d": 1440}
MAX_DELAY_MINUTES = 60 * 24 * 60  # 60 days


class RuleDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,79}$")
    survey: str = Field(min_length=1, max_length=80)
    journey: str | None = Field(None, max_length=60)
    activity: str = Field(min_length=1, max_length=200)
    delay: int | str = 0
    sample_percent: float = Field(100.0, ge=0, le=100)
    throttle_days: int = Field(30, ge=0, le=3650)
    require_closed: bool = False
    max_event_age_hours: int = Field(72, ge=1, le=24 * 366)
    expires_days: int = Field(14, ge=1, le=365)
    reminder_after_days: int | None = Field(3, ge=1, le=60)
    active: bool = True

    @field_validator("delay")
    @classmethod
    def _delay(cls, value):
        return parse_delay(value)


def parse_delay(value) -> int:
    """Minutes from 90, '90m', '2h' or '1d'."""
    if isinstance(value, bool):
        raise ValueError("delay must be a number of minutes or a text such as 30m, 2h, 1d")
    if isinstance(value, int):
        minutes = value
    else:
        match = _DELAY.match(str(value))
        if not match:
            raise ValueError(f"cannot read delay {value!r}: write e.g. 30m, 2h or 1d")
        minutes = int(match[1]) * _UNITS[match[2]]
    if not 0 <= minutes <= MAX_DELAY_MINUTES:
        raise ValueError(f"delay must be between 0 minutes and {MAX_DELAY_MINUTES // 1440} days")
    return minutes


@dataclass(frozen=True)
class RuleView:
    id: int
    key: str
    survey_key: str
    journey_key: str | None
    activity: str
    delay_minutes: int
    sample_percent: float
    throttle_days: int
    require_closed: bool
    expires_days: int
    reminder_after_days: int | None
    active: bool


def _validate(raw, where: str) -> RuleDefinition:
    if not isinstance(raw, dict):
        raise ValidationFailed(f"{where}: a rule must be a mapping with key, survey and activity", [(where, "not a mapping")])
    try:
        return RuleDefinition.model_validate(raw)
    except ValidationError as exc:
        problems = [(f"{where}/" + "/".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors(include_url=False)]
        raise ValidationFailed("the trigger rule is not valid: " + "; ".join(f"{where_}: {m}" for where_, m in problems),
                               problems) from None


def upsert_rule(session: Session, raw: dict, where: str = "rule") -> TriggerRule:
    """Create a rule or update the one with the same key."""
    rule_def = _validate(raw, where)
    survey = session.scalar(select(Survey).where(Survey.key == rule_def.survey))
    problems = []
    if survey is None:
        problems.append((f"{where}/survey", f"survey {rule_def.survey!r} does not exist"))
    journey_id = None
    if rule_def.journey:
        journey_id = session.scalar(select(Journey.id).where(Journey.key == rule_def.journey))
        if journey_id is None:
            problems.append((f"{where}/journey", f"journey {rule_def.journey!r} does not exist"))
    if problems:
        raise ValidationFailed("the trigger rule is not valid: " + "; ".join(f"{where_}: {m}" for where_, m in problems), problems)
    rule = session.scalar(select(TriggerRule).where(TriggerRule.key == rule_def.key))
    if rule is None:
        rule = TriggerRule(key=rule_def.key, created_at=utcnow())
        session.add(rule)
    rule.survey_id = survey.id
    rule.journey_id = journey_id
    rule.activity = rule_def.activity
    rule.delay_minutes = rule_def.delay
    rule.sample_percent = rule_def.sample_percent
    rule.throttle_days = rule_def.throttle_days
    rule.require_closed = rule_def.require_closed
    rule.max_event_age_hours = rule_def.max_event_age_hours
    rule.expires_days = rule_def.expires_days
    rule.reminder_after_days = rule_def.reminder_after_days
    rule.active = rule_def.active
    rule.updated_at = utcnow()
    session.flush()
    return rule


def load_rules(session: Session, data) -> list[RuleView]:
    """Upsert every rule in a parsed rules document ({"rules": [...]} or a list); all or nothing."""
    items = data.get("rules") if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        raise ValidationFailed("a rules file must hold a list under 'rules:' with at least one rule",
                               [("rules", "missing or empty")])
    keys = [item.get("key") for item in items if isinstance(item, dict)]
    duplicates = sorted({k for k in keys if k is not None and keys.count(k) > 1})
    if duplicates:
        raise ValidationFailed(f"rule key {duplicates[0]!r} is used twice in the file", [("rules", "duplicate key")])
    rules = [upsert_rule(session, item, where=f"rules/{i}") for i, item in enumerate(items)]
    views = {v.key: v for v in list_rules(session)}
    return [views[r.key] for r in rules]


def load_rules_file(session: Session, path: Path) -> list[RuleView]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValidationFailed(f"{path} is not valid YAML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"cannot read {path}: {exc}") from None
    try:
        return load_rules(session, data)
    except ValidationFailed as exc:
        raise ValidationFailed(f"{path}: {exc}", exc.problems) from None


def list_rules(session: Session, survey_id: int | None = None) -> list[RuleView]:
    query = (
        select(TriggerRule, Survey.key, Journey.key)
        .join(Survey, Survey.id == TriggerRule.survey_id)
        .outerjoin(Journey, Journey.id == TriggerRule.journey_id)
        .order_by(TriggerRule.key)
    )
    if survey_id is not None:
        query = query.where(TriggerRule.survey_id == survey_id)
    return [
        RuleView(r.id, r.key, survey_key, journey_key, r.activity, r.delay_minutes, r.sample_percent,
                 r.throttle_days, r.require_closed, r.expires_days, r.reminder_after_days, r.active)
        for r, survey_key, journey_key in session.execute(query)
    ]


def set_active(session: Session, key: str, active: bool) -> None:
    rule = session.scalar(select(TriggerRule).where(TriggerRule.key == key))
    if rule is None:
        raise NotFound(f"trigger rule {key!r} does not exist")
    rule.active = active
    rule.updated_at = utcnow()


def activity_matches(column, pattern: str):
    """SQL condition: the activity equals `pattern`, or matches it with * and ? as wildcards."""
    if "*" not in pattern and "?" not in pattern:
        return column == pattern
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(escaped.replace("*", "%").replace("?", "_"), escape="\\")
