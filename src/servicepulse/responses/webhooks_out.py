"""The outgoing webhook: every new response is POSTed, signed, to each active endpoint.

Deliveries are jobs (kind ``feedback.response_webhook``), one per response and
endpoint, queued in the same transaction that stores the response; the job
worker sends them and retries failures with exponential backoff. Ingestion
never waits for a receiver.

Signing and the POST itself are `servicepulse.notify.webhooks` (shared with
the signal and follow-up announcements).
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepulse.db.session import UnitOfWork
from servicepulse.errors import NotFound, ValidationFailed
from servicepulse.jobs.queue import job_row
from servicepulse.jobs.registry import JobContext
from servicepulse.models import Response
from servicepulse.models.responses import WebhookEndpoint
from servicepulse.notify.webhooks import post_signed
from servicepulse.responses import repository

JOB_KIND = "feedback.response_webhook"
EVENT = "response.created"
MAX_ATTEMPTS = 8  # with the queue's backoff (30 s doubling) the last try is about an hour after the first


def add_endpoint(session: Session, name: str, url: str, secret: str | None = None) -> WebhookEndpoint:
    """Register an endpoint; without a secret one is generated (read it from the returned row)."""
    problems = []
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        problems.append(("url", f"{url!r} is not an http(s) URL"))
    if not name or len(name) > 100:
        problems.append(("name", "a webhook needs a name of 1-100 characters"))
    elif session.scalar(select(WebhookEndpoint.id).where(WebhookEndpoint.name == name)):
        problems.append(("name", f"a webhook named {name!r} already exists"))
    if secret is not None and len(secret) < 16:
        problems.append(("secret", "a webhook secret must be at least 16 characters"))
    if problems:
        raise ValidationFailed("; ".join(m for _, m in problems), problems)
    endpoint = WebhookEndpoint(name=name, url=url, secret=secret or secrets.token_urlsafe(32), active=True)
    session.add(endpoint)
    session.flush()
    return endpoint


def list_endpoints(session: Session) -> list[WebhookEndpoint]:
    return list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.name)))


def remove_endpoint(session: Session, name: str) -> None:
    endpoint = session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.name == name))
    if endpoint is None:
        raise NotFound(f"there is no webhook named {name!r}")
    session.delete(endpoint)
    session.flush()


_ACTIVE_ENDPOINTS = select(WebhookEndpoint.__table__.c.id).where(WebhookEndpoint.__table__.c.active.is_(True))


def delivery_rows(session: Session, response_ids: list[int], now: datetime) -> list[dict]:
    """One delivery job row per new response and active endpoint (for `jobs.queue.enqueue_rows`).
    The ids are new, so no dedupe check is needed; the dedupe key still guards against a
    second enqueue by anyone else."""
    if not response_ids:
        return []
    endpoint_ids = list(session.connection().scalars(_ACTIVE_ENDPOINTS))
    return [job_row(JOB_KIND, {"endpoint_id": e, "response_id": r}, now, dedupe_key=f"webhook:{e}:{r}",
                    max_attempts=MAX_ATTEMPTS)
            for r in response_ids for e in endpoint_ids]


def delivery_body(resource: dict) -> bytes:
    return json.dumps({"event": EVENT, "response": resource}, separators=(",", ":"), ensure_ascii=False).encode()


def deliver(session: Session, payload: dict, ctx: JobContext) -> None:
    # Read on a separate read-only connection and leave the job's own session
    # untouched until the POST is over: on SQLite the job's session holds the
    # write lock once it starts, and a slow receiver must not stall ingestion.
    with UnitOfWork(ctx.engine, readonly=True) as reader:
        endpoint = reader.get(WebhookEndpoint, payload["endpoint_id"])
        response_id = reader.scalar(select(Response.id).where(Response.id == payload["response_id"]))
        if endpoint is None or not endpoint.active or response_id is None:
            return  # endpoint removed or response deleted since: nothing left to deliver
        resource = repository.load_resources(reader, [response_id])[response_id]
        url, secret = endpoint.url, endpoint.secret
    post_signed(url, delivery_body(resource), event=EVENT, secret=secret,
                delivery=f"{payload['endpoint_id']}-{payload['response_id']}")
