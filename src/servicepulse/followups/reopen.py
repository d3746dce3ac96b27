"""Reopening a case when the customer says the problem is not solved (the `not_solved` alert rule).

Two things happen in the unit of work that records the reason: an event is written into the case
through the cases domain's one entry point (`cases.ingest_events`, idempotent by the event's external id
``servicepulse:reopen:<rule source>``), so the case's story shows it; and a signed webhook (kind
``followups.case_reopened``, one job per case and active response-webhook endpoint) tells the source
system to reopen its ticket. The endpoints are those registered for the response webhook (`servicepulse
webhook add`): the integration that sends us cases and answers is the one that reopens tickets. The
header ``X-Servicepulse-Event: case.reopened`` tells the two kinds of delivery apart.

The body names the case by its external id (the source system's ticket) and says why, never in the
customer's own words: rule, summary ("problem not solved", "not solved: risk words cancel"), times.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepulse.cases import ingest_events
from servicepulse.db.session import UnitOfWork
from servicepulse.followups.rules import Reason
from servicepulse.jobs.queue import enqueue_rows_once, job_row
from servicepulse.jobs.registry import JobContext
from servicepulse.models import Case, FollowUp, Response
from servicepulse.models.responses import WebhookEndpoint
from servicepulse.notify.webhooks import post_signed
from servicepulse.settings import get_settings

JOB_KIND = "followups.case_reopened"
EVENT = "case.reopened"
ACTIVITY = "Case reopened: customer says not solved"
MAX_ATTEMPTS = 8


def event_id(reason: Reason) -> str:
    return f"servicepulse:reopen:{reason.ref}"


def reopen_cases(session: Session, reopened: list[tuple[int, Reason]], now: datetime) -> int:
    """Write a reopening event into each case and queue its webhooks; returns the events written."""
    case_ids = sorted({r.case_id for _, r in reopened if r.case_id is not None})
    if not case_ids:
        return 0
    external = dict(session.execute(select(Case.id, Case.external_id).where(Case.id.in_(case_ids))).all())
    records, jobs = [], []
    endpoints = list(session.scalars(select(WebhookEndpoint.id).where(WebhookEndpoint.active.is_(True))
                                     .order_by(WebhookEndpoint.id)))
    for followup_id, reason in reopened:
        case = external.get(reason.case_id)
        if case is None:
            continue
        records.append({"case_id": case, "activity": ACTIVITY, "timestamp": reason.at.isoformat(),
                        "event_id": event_id(reason), "channel": "survey", "direction": "inbound"})
        payload = {"case_id": reason.case_id, "followup_id": followup_id, "rule": reason.rule, "ref": reason.ref,
                   "summary": reason.summary, "at": reason.at.isoformat()}
        jobs += [job_row(JOB_KIND, {**payload, "endpoint_id": e}, now, dedupe_key=f"reopen:{e}:{reason.ref}",
                         max_attempts=MAX_ATTEMPTS) for e in endpoints]
    if records:
        ingest_events(session, records, source="followups")
    enqueue_rows_once(session, jobs)
    return len(records)


def body(case_external_id: str, payload: dict, response_external_id: str | None, base_url: str) -> bytes:
    return json.dumps({
        "event": EVENT,
        "case": {"external_id": case_external_id},
        "reason": {"rule": payload["rule"], "summary": payload["summary"], "at": payload["at"]},
        "response": {"external_id": response_external_id} if response_external_id else None,
        "followup": {"id": payload["followup_id"],
                     "url": f"{base_url.rstrip('/')}/followups/{payload['followup_id']}"}
        if payload["followup_id"] is not None else None,
    }, separators=(",", ":"), ensure_ascii=False).encode()


def deliver(session: Session, payload: dict, ctx: JobContext) -> None:
    # Read on a separate read-only connection, as the response webhook does: the job's own session must
    # not hold SQLite's write lock while a slow receiver answers.
    with UnitOfWork(ctx.engine, readonly=True) as reader:
        endpoint = reader.get(WebhookEndpoint, payload["endpoint_id"])
        case = reader.scalar(select(Case.external_id).where(Case.id == payload["case_id"]))
        if endpoint is None or not endpoint.active or case is None:
            return  # endpoint removed or case erased since: nothing left to announce
        response = None
        if payload["ref"].startswith("response:"):
            response = reader.scalar(select(Response.external_id)
                                     .where(Response.id == int(payload["ref"].split(":", 1)[1])))
        if reader.get(FollowUp, payload["followup_id"]) is None:
            payload = {**payload, "followup_id": None}
        url, secret = endpoint.url, endpoint.secret
    post_signed(url, body(case, payload, response, get_settings().base_url), event=EVENT, secret=secret, delivery=f"reopen-{payload['endpoint_id']}-{payload['ref']}",
                label="case webhook")
