"""Trigger evaluation: which cases a rule applies to, and the decision for one case.

Two steps, both run by the job worker:

1. match (job `triggers.match`, one per batch of case ids handed to `on_events`):
   for every active rule, the first event of each case whose activity matches
   (and whose case is in the rule's journey) schedules a decide job at
   event time + the rule's delay. The job's dedupe key (rule, case) makes a
   rule consider a case once, however often its events are re-imported.
   Events older than the rule's max_event_age_hours (a history import) are
   not considered at all.
2. decide (job `triggers.decide`, at that time): the checks below, in this
   order, and one TriggerDecision row with the reason. Checking at send time
   rather than event time means a case closed or an opt-out given during the
   delay is respected.

Sampling hashes (rule key, case external id): a rerun, or a second worker,
reaches the same verdict for the same case.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepulse.invitations.rules import activity_matches
from servicepulse.invitations.texting import channel_for
from servicepulse.jobs import enqueue
from servicepulse.models import Case, CaseEvent, Customer, Invitation
from servicepulse.models.invitations import TriggerDecision, TriggerRule

MATCH_BATCH = 500
# Invitations that never reached the customer do not count towards the throttle. One clock for every
# channel: an SMS invitation throttles the next e-mail and the other way round.
THROTTLE_STATUSES = ("scheduled", "sent", "responded", "expired")


def on_events(session: Session, case_ids, now: datetime | None = None) -> int:
    """Hook for importers: new events arrived for these cases. Enqueues rule evaluation
    in the caller's unit of work (so it happens only if the import commits); returns jobs added."""
    ids = sorted({int(i) for i in case_ids if i is not None})
    for start in range(0, len(ids), MATCH_BATCH):
        enqueue(session, "triggers.match", {"case_ids": ids[start:start + MATCH_BATCH]}, run_at=now)
    return (len(ids) + MATCH_BATCH - 1) // MATCH_BATCH


def match_cases(session: Session, case_ids: list[int], now: datetime) -> int:
    """Schedule a decision for each (active rule, case) with a matching event; returns how many were scheduled."""
    scheduled = 0
    rules = session.scalars(select(TriggerRule).where(TriggerRule.active.is_(True)).order_by(TriggerRule.id)).all()
    for rule in rules:
        oldest = now - timedelta(hours=rule.max_event_age_hours)
        # Matching events of these cases, oldest first; few per case, so one query and a pass in Python.
        matching = (
            select(CaseEvent.case_id, CaseEvent.id, CaseEvent.occurred_at)
            .join(Case, Case.id == CaseEvent.case_id)
            .where(CaseEvent.case_id.in_(case_ids), activity_matches(CaseEvent.activity, rule.activity),
                   CaseEvent.occurred_at >= oldest, CaseEvent.occurred_at <= now)
            .order_by(CaseEvent.case_id, CaseEvent.occurred_at, CaseEvent.seq, CaseEvent.id)
        )
        if rule.journey_id is not None:
            matching = matching.where(Case.journey_id == rule.journey_id)
        decided = set(session.scalars(
            select(TriggerDecision.case_id).where(TriggerDecision.rule_id == rule.id,
                                                  TriggerDecision.case_id.in_(case_ids))))
        first: dict[int, tuple[int, datetime]] = {}
        for case_id, event_id, at in session.execute(matching):
            first.setdefault(case_id, (event_id, at))
        for case_id, (event_id, at) in first.items():
            if case_id in decided:
                continue
            run_at = max(at + timedelta(minutes=rule.delay_minutes), now)
            enqueue(session, "triggers.decide", {"rule_id": rule.id, "case_id": case_id, "event_id": event_id},
                    run_at=run_at, dedupe_key=f"trigger:{rule.id}:{case_id}")
            scheduled += 1
    return scheduled


def sampled_in(rule_key: str, case_external_id: str, percent: float) -> bool:
    """Deterministic Bernoulli(percent/100) draw from a hash of (rule, case)."""
    if percent >= 100:
        return True
    if percent <= 0:
        return False
    digest = hashlib.sha256(f"{rule_key}\x1f{case_external_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < percent / 100.0


def decide(session: Session, rule: TriggerRule, case: Case, event_id: int | None, now: datetime) -> TriggerDecision:
    """Decide for one case and record it. On 'invited' the caller creates the invitation."""
    customer = session.get(Customer, case.customer_id) if case.customer_id else None
    if customer is not None and session.bind.dialect.name == "postgresql":
        # Two decisions for one customer at once must not both pass the throttle.
        session.execute(select(Customer.id).where(Customer.id == customer.id).with_for_update())
    reason = _reason(session, rule, case, customer, now)
    decision = TriggerDecision(rule_id=rule.id, survey_id=rule.survey_id, case_id=case.id,
                               customer_id=customer.id if customer else None, event_id=event_id,
                               reason=reason, decided_at=now)
    session.add(decision)
    session.flush()
    return decision


def _reason(session: Session, rule: TriggerRule, case: Case, customer: Customer | None, now: datetime) -> str:
    # A channel that may carry the survey: e-mail, SMS or WhatsApp (texting.channel_for): none is
    # 'opted_out' (everything, or every reachable channel, stopped) or 'no_contact'.
    channel, reason = channel_for(session, customer, now)
    if channel is None:
        return reason
    if rule.require_closed and (case.closed_at is None or case.closed_at > now):
        return "case_open"
    if not sampled_in(rule.key, case.external_id, rule.sample_percent):
        return "sampled_out"
    if rule.throttle_days > 0:
        since = now - timedelta(days=rule.throttle_days)
        recent = session.scalar(
            select(Invitation.id).where(Invitation.customer_id == customer.id, Invitation.scheduled_at > since,
                                        Invitation.status.in_(THROTTLE_STATUSES)).limit(1))
        if recent is not None:
            return "throttled"
    return "invited"
