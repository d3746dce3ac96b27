"""/api/v1/trigger-rules: list and create/update trigger rules; /api/v1/trigger-decisions: counts by reason."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from servicepulse.errors import NotFound
from servicepulse.http.auth import ApiActor, needs
from servicepulse.http.deps import DbSession
from servicepulse.invitations import rules
from servicepulse.models import Survey
from servicepulse.models.invitations import DECISION_REASONS, TriggerDecision, TriggerRule
from servicepulse.org import actor_label, record_audit

router = APIRouter(tags=["trigger rules"])
RULE_KEY = r"^[a-z0-9][a-z0-9_\-]{0,79}$"


class RuleIn(rules.RuleDefinition):
    """A rule as in a rules file; the key comes from the URL."""

    key: str | None = Field(None, pattern=RULE_KEY, description="ignored: the key is taken from the URL")


class RuleOut(BaseModel):
    key: str
    survey: str
    journey: str | None
    activity: str
    delay_minutes: int
    sample_percent: float
    throttle_days: int
    require_closed: bool
    expires_days: int
    reminder_after_days: int | None
    active: bool


class DecisionCounts(BaseModel):
    survey: str | None
    rule: str | None
    counts: dict[str, int]
    total: int


def _out(view: rules.RuleView) -> RuleOut:
    return RuleOut(key=view.key, survey=view.survey_key, journey=view.journey_key, activity=view.activity,
                   delay_minutes=view.delay_minutes, sample_percent=view.sample_percent,
                   throttle_days=view.throttle_days, require_closed=view.require_closed,
                   expires_days=view.expires_days, reminder_after_days=view.reminder_after_days, active=view.active)


@router.get("/trigger-rules", dependencies=[needs("read:surveys")], summary="List the trigger rules", response_model=list[RuleOut])
def list_rules(session: DbSession) -> list[RuleOut]:
    return [_out(v) for v in rules.list_rules(session)]


@router.put("/trigger-rules/{key}", dependencies=[needs("admin")], summary="Create or update a trigger rule", response_model=RuleOut,
            responses={404: {"description": "Unknown survey or journey"}, 422: {"description": "Validation failed"}})
def put_rule(key: Annotated[str, Path(pattern=RULE_KEY)], body: RuleIn, session: DbSession,
             actor: ApiActor) -> RuleOut:
    raw = body.model_dump(exclude_unset=True) | {"key": key}
    rules.upsert_rule(session, raw)
    record_audit(session, actor_label(actor), "trigger_rule.set", {"rule": key})
    return next(_out(v) for v in rules.list_rules(session) if v.key == key)


@router.get("/trigger-decisions", dependencies=[needs("read:metrics")], summary="Count trigger decisions by reason", response_model=DecisionCounts,
            responses={404: {"description": "Unknown survey or rule"}})
def decision_counts(session: DbSession, survey: Annotated[str | None, Query(max_length=80)] = None,
                    rule: Annotated[str | None, Query(max_length=80)] = None) -> DecisionCounts:
    query = select(TriggerDecision.reason, func.count()).group_by(TriggerDecision.reason)
    if survey is not None:
        survey_id = session.scalar(select(Survey.id).where(Survey.key == survey))
        if survey_id is None:
            raise NotFound(f"survey {survey!r} does not exist")
        query = query.where(TriggerDecision.survey_id == survey_id)
    if rule is not None:
        rule_id = session.scalar(select(TriggerRule.id).where(TriggerRule.key == rule))
        if rule_id is None:
            raise NotFound(f"trigger rule {rule!r} does not exist")
        query = query.where(TriggerDecision.rule_id == rule_id)
    counts = dict.fromkeys(DECISION_REASONS, 0) | {reason: int(n) for reason, n in session.execute(query)}
    return DecisionCounts(survey=survey, rule=rule, counts=counts, total=sum(counts.values()))
