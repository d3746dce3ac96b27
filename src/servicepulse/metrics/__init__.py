"""Metrics: experience figures from the responses (raw tables or the daily aggregate responses keeps), intervals,
the 7+/9+ moment view, key drivers, the monthly report, the per-survey dashboard, the predicted experience of every closed case, and their pages
and API."""

from servicepulse.metrics.predicted import case_prediction, predicted_experience
from servicepulse.metrics.report import monthly_report_pdf  # for digests: the PDF a digest mail carries
from servicepulse.metrics.repository import CASE_DRIVERS, MetricFilter, graded_counts, journeys, moments
from servicepulse.metrics.service import (  # Figures .. overview: for digests
    DRIVER_LABELS,
    Figures,
    Overview,
    driver_frame,
    key_drivers,
    moment_facts,
    moment_view,
    overview,
)

__all__ = ["CASE_DRIVERS", "DRIVER_LABELS", "MetricFilter", "driver_frame", "graded_counts", "journeys", "key_drivers", "moment_facts", "moments",
           "case_prediction", "predicted_experience",
           "Figures", "Overview", "moment_view", "monthly_report_pdf", "overview"]
