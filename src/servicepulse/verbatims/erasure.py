"""Personal data in analysed comments: one customer's verbatims (erasure) and old texts (retention).
Never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from servicepulse.customers import response_ids_of
from servicepulse.models import Response, Verbatim, VerbatimMention


def erase_customer(session: Session, customer_id: int) -> int:
    """Delete the analysed comments of the customer's responses and their theme mentions."""
    ids = response_ids_of(customer_id)
    removed = int(session.execute(delete(VerbatimMention).where(VerbatimMention.response_id.in_(ids))).rowcount or 0)
    removed += int(session.execute(delete(Verbatim).where(Verbatim.response_id.in_(ids))).rowcount or 0)
    return removed


def purge_texts_before(session: Session, cutoff: datetime) -> int:
    """Blank the texts of comments on responses submitted before ``cutoff`` (the redacted text, the original
    where kept, the matched words of mentions); themes and sentiment stay for the figures. Returns the
    number of verbatims blanked."""
    old = select(Response.id).where(Response.submitted_at < cutoff)
    session.execute(update(VerbatimMention).where(VerbatimMention.response_id.in_(old), VerbatimMention.matched != "")
                    .values(matched="").execution_options(synchronize_session=False))
    return int(session.execute(update(Verbatim).where(Verbatim.response_id.in_(old), Verbatim.text != "")
                               .values(text="", original=None).execution_options(synchronize_session=False))
               .rowcount or 0)
