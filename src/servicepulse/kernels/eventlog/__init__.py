"""Event-log kernel: read case event logs and compute process statistics and
per-case effort facts. Pure pandas/NumPy; no database, no web framework.

Public API
----------
read_event_log(source, format=None, mapping=None, *, default_tz="Europe/Amsterdam", ...)
    CSV, JSON lines or XES (plain or gzipped) -> normalised events frame
    (columns in `servicepulse.kernels.eventlog.schema`). Raises `EventLogError`
    carrying every bad row (capped list + total) or one file-level message.
parse_mapping(["case_id=Ticket", ...])
    CLI ``--map field=column`` items -> mapping dict.
log_stats(events) -> dict
    cases, events, variants, throughput_days {mean, median}, activities,
    directly_follows; equal to pm4py's figures on the same log.
variant_counts(events) -> dict[tuple[str, ...], int]
    every variant with its number of cases (as pm4py.get_variants).
case_facts(events, calendar=None, config=None) -> DataFrame indexed by case_id
    effort facts per case (see `servicepulse.kernels.eventlog.facts`).
update_case_facts(stored, batch, load_history, ...)
    recompute only the cases a batch touches (the incremental contract).
OpeningHours, dutch_public_holidays
    opening-hours calendar (default Mon-Fri 08-20, Sat 09-17,
    Europe/Amsterdam, Dutch public holidays).
FactsConfig
    repeat window, closing / waiting-on-customer activity patterns, as_of.
"""

from .calendar import OpeningHours, dutch_public_holidays
from .errors import EventLogError, RowError
from .facts import FactsConfig, case_facts, update_case_facts
from .readers import detect_format, read_event_log
from .schema import parse_mapping
from .stats import log_stats, variant_counts

__all__ = [
    "EventLogError",
    "FactsConfig",
    "OpeningHours",
    "RowError",
    "case_facts",
    "detect_format",
    "dutch_public_holidays",
    "log_stats",
    "parse_mapping",
    "read_event_log",
    "update_case_facts",
    "variant_counts",
]
