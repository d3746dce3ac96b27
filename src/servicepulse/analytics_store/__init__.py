"""The optional analytics store: a ClickHouse copy (chDB in-process or a server/cluster) of the facts.

The main database (SQLite or PostgreSQL) stays the system of record. See docs/scale.md.
"""

from servicepulse.analytics_store.engine import (
    AnalyticsStore,
    AnalyticsStoreError,
    open_store,
    param_text,
    parse_url,
)
from servicepulse.analytics_store.replication import (
    SHIP_JOB,
    Lag,
    Shipment,
    lag,
    newest_rows_at,
    rebuild,
    ship_batch,
    ship_pending,
)
from servicepulse.analytics_store.schema import TABLES, UNITS, create_schema, ddl

__all__ = [
    "AnalyticsStore", "AnalyticsStoreError", "open_store", "param_text", "parse_url",
    "SHIP_JOB", "Lag", "Shipment", "lag", "newest_rows_at", "rebuild", "ship_batch", "ship_pending",
    "TABLES", "UNITS", "create_schema", "ddl",
]
