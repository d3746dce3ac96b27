"""Relationship health: customers at risk of drifting away, by segment, and the rule that reaches out to them.

Two groups, over the last ``months`` months (setting, 12):

* transactional only: every event in the customer's cases in that time was transactional (a bill, a direct
  debit, a meter reading: the activities of the setting ``SERVICEPULSE_RELATIONSHIP_TRANSACTIONAL_ACTIVITIES``,
  case-insensitive) -- a relationship of invoices without any emotional bond;
* silent after a bad experience: the customer's latest answer was bad (NPS 0-6, or without an NPS a grade of
  5 or lower, as the alert rules' defaults) and at least ``quiet_days`` days old (setting, 14: younger ones
  still get their follow-up from the alert rules), and since then nothing came from us (no outbound event in
  any of their cases, no contact logged on a follow-up).

The rule (off unless ``SERVICEPULSE_RELATIONSHIP_FOLLOWUPS=true``) runs once a day and places one follow-up
reason per customer through the follow-ups domain (merged into the customer's open follow-up, else opening
one): ``transactional_only`` at most once a calendar year per customer, ``silent_after_bad`` once per bad
answer. Nothing is stored per customer beyond the follow-up, which the follow-ups domain erases with the
customer.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.orm import Session

from servicepulse import followups
from servicepulse.investment import relationship_repository
from servicepulse.org import Actor

DEFAULT_TRANSACTIONAL = (
    "Invoice sent,Direct debit collected,Payment received,Meter reading received,Annual statement sent,"
    "Factuur verstuurd,Incasso uitgevoerd,Betaling ontvangen,Meterstand ontvangen,Jaaroverzicht verstuurd"
)
TRANSACTIONAL_RULE = "transactional_only"
SILENT_RULE = "silent_after_bad"
RULE_PRIORITY = 3
RULE_DUE_WORKING_DAYS = 5
UNKNOWN_SEGMENT = ""


class RelationshipSettings(BaseSettings):
    """Relationship health (environment, prefix SERVICEPULSE_RELATIONSHIP_)."""

    model_config = SettingsConfigDict(env_prefix="SERVICEPULSE_RELATIONSHIP_", extra="ignore")

    # Off by default: open a follow-up to reach out to customers at risk.
    followups: bool = False
    # Comma-separated activity names (as the event log names them) that are transactional contact only.
    transactional_activities: str = DEFAULT_TRANSACTIONAL
    months: int = 12
    quiet_days: int = 14
    nps_max: int = 6
    grade_max: int = 5

    def activities(self) -> list[str]:
        return [a.strip() for a in self.transactional_activities.split(",") if a.strip()]


@dataclass(frozen=True)
class AtRisk:
    customer_id: int
    number: str  # the customer's number (external id), as the customer page shows it
    segment: str
    at: datetime  # the last transactional event, or the bad answer
    team_id: int | None
    case_id: int | None
    response_id: int | None = None
    nps: int | None = None
    grade: int | None = None


@dataclass
class Health:
    since: datetime
    until: datetime
    transactional: list[AtRisk]
    silent: list[AtRisk]
    segments: list[str] = field(default_factory=list)

    def counts(self, group: str) -> dict[str, int]:
        rows = self.transactional if group == "transactional" else self.silent
        return dict(Counter(r.segment for r in rows))


def window(now: datetime, settings: RelationshipSettings) -> tuple[datetime, datetime]:
    return now - timedelta(days=round(settings.months * 365 / 12)), now


def health(session: Session, actor: Actor, now: datetime, settings: RelationshipSettings | None = None) -> Health:
    settings = settings or RelationshipSettings()
    since, until = window(now, settings)
    transactional = [AtRisk(c, number, s or UNKNOWN_SEGMENT, last, team, case_id)
                     for c, number, s, last, team, case_id in relationship_repository.transactional_only(
                         session, actor, settings.activities(), since, until)]
    silent = [AtRisk(c, number, s or UNKNOWN_SEGMENT, at, team, case_id, response_id, nps, grade)
              for c, number, s, response_id, at, nps, grade, team, case_id in relationship_repository.silent_after_bad(
                  session, actor, since, now - timedelta(days=settings.quiet_days), settings.nps_max,
                  settings.grade_max)]
    segments = sorted({r.segment for r in transactional + silent}, key=lambda s: (s == UNKNOWN_SEGMENT, s))
    return Health(since, until, transactional, silent, segments)


def open_followups(session: Session, now: datetime, settings: RelationshipSettings | None = None) -> list[int]:
    """The rule: one follow-up reason per customer at risk, placed by the follow-ups domain. Returns the new
    follow-ups' ids; nothing while the rule is off."""
    settings = settings or RelationshipSettings()
    if not settings.followups:
        return []
    view = health(session, Actor.installation(), now, settings)
    due = followups.add_working_days(now, RULE_DUE_WORKING_DAYS)
    reasons = [followups.Reason(
        TRANSACTIONAL_RULE, f"customer:{r.customer_id}:{now.year}", now,
        "only transactional contact in the last months: reach out", RULE_PRIORITY, due, r.customer_id, None,
        team_id=r.team_id) for r in view.transactional]
    reasons += [followups.Reason(
        SILENT_RULE, f"response:{r.response_id}", now,
        "bad last experience and nothing heard from us since: reach out", RULE_PRIORITY, due, r.customer_id,
        r.case_id, response_id=r.response_id, team_id=r.team_id) for r in view.silent]
    return followups.place_reasons(session, reasons, now).opened if reasons else []
