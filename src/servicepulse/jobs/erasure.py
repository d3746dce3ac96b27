"""Jobs that name a customer's data: found by the ids in their payload (and by text), then deleted or
stripped. Used by the erasure of one customer (``servicepulse.privacy``). Never commits.

A job whose payload names one of the erased rows by a single id (``response_id``, ``invitation_id``,
``followup_id``, ...) is deleted, whatever its state: a queued mail or webhook about an erased response
must never go out, and a finished one may carry the data in its error text. A job whose payload holds a
list of ids (``response_ids``, ``case_ids``) loses those ids, and is deleted when none remain. A job whose
payload or error text contains one of the ``needles`` (e.g. the customer's e-mail address) is deleted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from servicepulse.models import Job

SCAN_CHUNK = 2000


def _mentions(payload: dict, refs: Mapping[str, set[int]]) -> tuple[bool, dict | None]:
    """(delete?, stripped payload or None when unchanged)."""
    stripped = None
    for key, value in payload.items():
        ids = refs.get(key)
        if not ids:
            continue
        if isinstance(value, list):
            kept = [v for v in value if not (isinstance(v, int) and v in ids)]
            if len(kept) != len(value):
                if not kept:
                    return True, None
                stripped = dict(stripped or payload)
                stripped[key] = kept
        elif isinstance(value, int) and value in ids:
            return True, None
    return False, stripped


def erase_job_references(session: Session, refs: Mapping[str, Iterable[int]], needles: Iterable[str] = ()) -> int:
    """Delete or strip the jobs naming ``refs`` (payload key -> ids) or containing a ``needle``; returns the
    jobs changed or deleted. Scans the job table in chunks of ``SCAN_CHUNK`` rows."""
    wanted = {key: {int(i) for i in ids} for key, ids in refs.items()}
    wanted = {key: ids for key, ids in wanted.items() if ids}
    texts = [n.lower() for n in needles if n and len(n) >= 3]
    doomed: list[int] = []
    rewritten: dict[int, dict] = {}
    last_id = 0
    while True:
        rows = session.execute(select(Job.id, Job.payload, Job.last_error).where(Job.id > last_id)
                               .order_by(Job.id).limit(SCAN_CHUNK)).all()
        if not rows:
            break
        last_id = rows[-1].id
        for job_id, payload, last_error in rows:
            payload = payload if isinstance(payload, dict) else {}
            if texts:
                blob = (json.dumps(payload, ensure_ascii=False) + "\n" + (last_error or "")).lower()
                if any(t in blob for t in texts):
                    doomed.append(job_id)
                    continue
            drop, stripped = _mentions(payload, wanted)
            if drop:
                doomed.append(job_id)
            elif stripped is not None:
                rewritten[job_id] = stripped
    for start in range(0, len(doomed), 500):
        session.execute(delete(Job).where(Job.id.in_(doomed[start:start + 500]))
                        .execution_options(synchronize_session=False))
    for job_id, payload in rewritten.items():
        session.execute(update(Job).where(Job.id == job_id).values(payload=payload)
                        .execution_options(synchronize_session=False))
    return len(doomed) + len(rewritten)
