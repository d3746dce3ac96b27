"""Signed outgoing webhooks: one signing scheme and one POST for every domain that announces something.

Signature: ``X-Servicepulse-Signature: sha256=<hex>``, the HMAC-SHA256 with the
endpoint's secret over ``<timestamp>.<raw body>``, where ``<timestamp>`` is the
``X-Servicepulse-Timestamp`` header (Unix seconds). Signing the timestamp with
the body lets a receiver refuse old captured requests replayed at it
(`verify_signature` rejects timestamps more than five minutes off).
``X-Servicepulse-Delivery`` is stable across retries, for receivers that
deduplicate; ``X-Servicepulse-Event`` names what happened.

`post_signed` is called from job handlers: a receiver that is down or answers
an error becomes `RetryLater` (the queue backs off and retries), a receiver
that says it is gone for good becomes `PermanentFailure`.
"""

from __future__ import annotations

import hashlib
import hmac
import time

import httpx

from servicepulse.jobs.registry import PermanentFailure, RetryLater

SIGNATURE_HEADER = "X-Servicepulse-Signature"
TIMESTAMP_HEADER = "X-Servicepulse-Timestamp"
DELIVERY_HEADER = "X-Servicepulse-Delivery"
EVENT_HEADER = "X-Servicepulse-Event"
USER_AGENT = "servicepulse-webhook/1"
TIMEOUT_SECONDS = 10.0
TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(secret: str, body: bytes, timestamp: str | None, signature: str | None,
                     now: float | None = None, tolerance: int = TOLERANCE_SECONDS) -> bool:
    """For receivers written in Python: the signature matches and the timestamp is recent."""
    if not timestamp or not signature or not timestamp.isdigit():
        return False
    if abs((now if now is not None else time.time()) - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def post_signed(url: str, body: bytes, *, event: str, delivery: str, secret: str | None,
                label: str | None = None, gone_statuses: tuple[int, ...] = (410,)) -> None:
    """POST a JSON body, signed when a secret is given; raise what the job queue understands on failure."""
    # Wall clock, not the job clock: the receiver checks it against its own.
    timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, EVENT_HEADER: event,
               DELIVERY_HEADER: delivery, TIMESTAMP_HEADER: timestamp}
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, timestamp, body)
    who = f"{label}: {url}" if label else f"webhook {url}"
    try:
        reply = httpx.post(url, content=body, headers=headers, timeout=TIMEOUT_SECONDS, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise RetryLater(f"{who} unreachable: {type(exc).__name__}: {exc}") from None
    if reply.status_code in gone_statuses:
        raise PermanentFailure(f"{who} answered HTTP {reply.status_code}")
    if not 200 <= reply.status_code < 300:
        raise RetryLater(f"{who} answered HTTP {reply.status_code}")
