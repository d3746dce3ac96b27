"""The analytics pages' one filter bar, for pages of domains that come before metrics (the journey page, the
comment browser): they may not import metrics, the glue may. Nothing is defined here: the bar's parsing,
choices, chips and kept query stay in metrics/views.py and its fields in metrics/_macros.html
(``filter_fields``), so every page filters, shows chips and keeps its filters the same way."""

from __future__ import annotations

from servicepulse.metrics.views import active_filters, filter_context, kept_query, parse_filter

__all__ = ["active_filters", "filter_context", "kept_query", "parse_filter"]
