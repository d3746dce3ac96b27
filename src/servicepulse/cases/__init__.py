"""Cases from the operational record: event ingestion, case facts, effort index.

`service.ingest_events(session, frame_or_records, ...)` is the one entry point
for storing events (CLI, API, other domains). `facts_store` keeps the
`case_facts` table up to date for the cases an import touches; `effort`
learns and applies the Customer Effort Index; `timeline` tells one case from
the customer's side.
"""
