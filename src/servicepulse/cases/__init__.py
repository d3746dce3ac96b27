"""Cases from the operational record: event ingestion, case facts, effort index.

`service.ingest_events(session, frame_or_records, ...)` is the one entry point
for storing events (CLI, API, other domains). `history.load_events(session,
case_ids)` is the one way to read a case's stored history back, in the
event-log kernel's layout. `facts_store` keeps the `case_facts` table up to
date for the cases an import touches; `effort` learns and applies the
Customer Effort Index; `timeline` tells one case from the customer's side.
"""

from servicepulse.cases.erasure import erase_customer, purge_events_before
from servicepulse.cases.history import HISTORY_COLUMNS, load_events
from servicepulse.cases.repository import can_see_case, visible_cases
from servicepulse.cases.service import IngestSummary, ingest_events
from servicepulse.cases.timeline import story_of

__all__ = ["HISTORY_COLUMNS", "IngestSummary", "can_see_case", "erase_customer", "ingest_events", "load_events",
           "purge_events_before", "story_of", "visible_cases"]
