"""Responses from every channel: ingestion (API, CSV, the survey page), idempotency, headline scores, the daily
score aggregate (``score_daily_counts``, read by servicepulse.metrics), outgoing webhooks."""

from servicepulse.responses.aggregate import (
    MOMENT_KEY_PREFIX,
    Upkeep,
    add_to_daily_counts,
    day_start,
    days_with_deltas,
    first_response_day,
    keep_daily_counts,
    last_aggregated_day,
    last_response_day,
    moment_match,
    next_month,
    refresh_daily_counts,
    response_base,
    response_journey,
)
from servicepulse.responses.erasure import (
    delete_responses,
    erase_customer,
    purge_comments_before,
    purge_responses_before,
)

__all__ = [
    "delete_responses", "erase_customer", "purge_comments_before", "purge_responses_before",
    "MOMENT_KEY_PREFIX", "Upkeep", "add_to_daily_counts", "day_start", "days_with_deltas", "first_response_day",
    "keep_daily_counts", "last_aggregated_day", "last_response_day", "moment_match", "next_month",
    "refresh_daily_counts", "response_base", "response_journey",
]
