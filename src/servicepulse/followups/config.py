"""Managing the closed loop's settings (administrators only): alert rules, the merge window and the age
limit of alerts, root-cause lists."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepulse.errors import NotFound, ValidationFailed
from servicepulse.followups.access import Actor, check_admin
from servicepulse.followups.alerts import LoopSettings, loop_settings, rule_settings
from servicepulse.followups.rules import DEFAULTS, RuleSetting
from servicepulse.models import Journey, utcnow
from servicepulse.models.followups import AlertRule, FollowUpSettings, RootCause
from servicepulse.org import actor_label, record_audit


def list_rules(session: Session) -> list[RuleSetting]:
    return list(rule_settings(session).values())


def set_rule(session: Session, actor: Actor, key: str, *, enabled: bool, threshold: float | None = None,
             priority: int = 2, due_working_days: int = 2) -> RuleSetting:
    check_admin(actor, "alert rules")
    if key not in DEFAULTS:
        raise NotFound(f"there is no alert rule {key!r}; the rules are {', '.join(DEFAULTS)}")
    problems = []
    if priority not in (1, 2, 3):
        problems.append(("priority", "priority is 1 (high), 2 or 3 (low)"))
    if not 0 <= due_working_days <= 30:
        problems.append(("due_working_days", "the due time is 0 to 30 working days"))
    if threshold is not None and DEFAULTS[key].threshold is None:
        problems.append(("threshold", f"the rule {key} has no threshold"))
    if problems:
        raise ValidationFailed("; ".join(m for _, m in problems), problems)
    row = session.get(AlertRule, key) or AlertRule(key=key)
    row.enabled, row.threshold, row.priority, row.due_working_days = enabled, threshold, priority, due_working_days
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    record_audit(session, actor_label(actor), "alert_rule.set",
                 {"rule": key, "enabled": enabled, "threshold": threshold, "priority": priority,
                  "due_working_days": due_working_days})
    return rule_settings(session)[key]


MAX_DAYS = 365


def set_loop_settings(session: Session, actor: Actor, *, merge_window_days: int,
                      alert_max_age_days: int) -> LoopSettings:
    """The merge window (later reasons of a customer join their open follow-up within it; 0: never) and the
    age limit of alerts (older answers and events open nothing; 0: no limit), in days."""
    check_admin(actor, "follow-up settings")
    problems = []
    if not 0 <= merge_window_days <= MAX_DAYS:
        problems.append(("merge_window_days", f"the merge window is 0 to {MAX_DAYS} days"))
    if not 0 <= alert_max_age_days <= MAX_DAYS:
        problems.append(("alert_max_age_days", f"the age limit of alerts is 0 (none) to {MAX_DAYS} days"))
    if problems:
        raise ValidationFailed("; ".join(m for _, m in problems), problems)
    row = session.get(FollowUpSettings, 1) or FollowUpSettings(id=1)
    row.merge_window_days, row.alert_max_age_days, row.updated_at = merge_window_days, alert_max_age_days, utcnow()
    session.add(row)
    session.flush()
    record_audit(session, actor_label(actor), "followup_settings.set",
                 {"merge_window_days": merge_window_days, "alert_max_age_days": alert_max_age_days})
    return loop_settings(session)


def add_root_cause(session: Session, actor: Actor, key: str, label_nl: str, label_en: str,
                   journey_key: str | None = None) -> RootCause:
    check_admin(actor, "root-cause lists")
    journey_id = None
    if journey_key:
        journey_id = session.scalar(select(Journey.id).where(Journey.key == journey_key))
        if journey_id is None:
            raise NotFound(f"there is no journey {journey_key!r}")
    if not key or not label_nl or not label_en:
        raise ValidationFailed("a root cause needs a key and labels in Dutch and English",
                               [("key", "required"), ("label_nl", "required"), ("label_en", "required")])
    row = RootCause(journey_id=journey_id, key=key, label_nl=label_nl, label_en=label_en, active=True)
    session.add(row)
    session.flush()
    return row
