"""Vectorised timestamp parsing for event logs.

Timestamps with an explicit offset (``+02:00``, ``+0200``, ``Z``) are converted
to UTC. Naive timestamps are local time in ``default_tz`` (the readers default
to Europe/Amsterdam, because servicepulse targets Dutch service organisations
whose exports are usually local wall-clock time). On the night clocks go back,
an ambiguous local time is read as the first (summer-time) occurrence; a local
time that does not exist (spring forward) is shifted forward to the first valid
instant. Every parsed column is ``datetime64[us, UTC]``.
"""

from __future__ import annotations

import pandas as pd

DEFAULT_TZ = "Europe/Amsterdam"
UNIT = "us"
TIMESTAMP_DTYPE = f"datetime64[{UNIT}, UTC]"

# A time of day followed by a UTC offset or 'Z' marks a zone-aware value.
_ZONE_RE = r"\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|z|[+-]\d{2}(?::?\d{2})?)$"


def parse_timestamps(
    values: pd.Series,
    default_tz: str = DEFAULT_TZ,
    timestamp_format: str | None = None,
    dayfirst: bool = True,
) -> tuple[pd.Series, pd.Series]:
    """Parse strings to UTC timestamps.

    Returns ``(timestamps, bad)`` where ``bad`` marks non-empty values that are
    not a date/time (they are NaT in ``timestamps``). Missing values are NaT and
    not marked bad; the caller reports them as missing.

    Without ``timestamp_format`` ISO 8601 is tried first, then, for what is
    left, a flexible parse with ``dayfirst`` (``25-11-2026 09:30`` is the 25th
    of November, as Dutch exports write it).
    """
    s = values.astype("str")
    if timestamp_format is None:
        out = _parse_uniform(s, default_tz)
        if out is not None:
            blank = s.isna()
            failed = out.isna() & ~blank
            if failed.any():  # non-ISO or blank values: the careful path
                out[failed] = _parse_split(s[failed], default_tz, None, dayfirst)[0]
                blank[failed] = (s[failed].str.strip() == "").to_numpy()
            return out, out.isna() & ~blank
    out = _parse_split(s, default_tz, timestamp_format, dayfirst)[0]
    blank = s.isna() | (s.str.strip() == "")
    return out, out.isna() & ~blank


def _parse_uniform(s: pd.Series, default_tz: str) -> pd.Series | None:
    """One C-speed ISO 8601 pass when the values are all naive or all carry
    the same offset (the usual export). None when offsets are mixed."""
    try:
        parsed = pd.to_datetime(s, format="ISO8601", errors="coerce")
    except (ValueError, TypeError):  # mixed offsets or naive + aware
        return None
    if getattr(parsed.dt, "tz", None) is None:
        parsed = parsed.dt.tz_localize(default_tz, ambiguous=True, nonexistent="shift_forward")
    return parsed.dt.tz_convert("UTC").dt.as_unit(UNIT)


def _parse_split(
    values: pd.Series, default_tz: str, timestamp_format: str | None, dayfirst: bool
) -> tuple[pd.Series, pd.Series]:
    """Zone-aware and naive values parsed separately (slower, per value regex)."""
    s = values.astype("str").str.strip()
    missing = values.isna() | (s == "")
    out = pd.Series(pd.NaT, index=values.index, dtype=TIMESTAMP_DTYPE)
    present = ~missing
    if timestamp_format is not None and "%z" not in timestamp_format:
        aware = pd.Series(False, index=values.index)
    elif timestamp_format is not None:
        aware = present
    else:
        aware = present & s.str.contains(_ZONE_RE, regex=True, na=False)
    naive = present & ~aware
    fmt = timestamp_format or "ISO8601"

    if aware.any():
        parsed = pd.to_datetime(s[aware], utc=True, format=fmt, errors="coerce")
        out[aware] = parsed.dt.as_unit(UNIT)
    if naive.any():
        local = pd.to_datetime(s[naive], format=fmt, errors="coerce")
        if timestamp_format is None and local.isna().any():
            retry = local.isna()
            local = local.astype("datetime64[ns]")
            local[retry] = _parse_flexible(s[naive][retry], dayfirst)
        local = local.dt.tz_localize(default_tz, ambiguous=True, nonexistent="shift_forward")
        out[naive] = local.dt.tz_convert("UTC").dt.as_unit(UNIT)
    bad = present & out.isna()
    return out, bad


def _parse_flexible(s: pd.Series, dayfirst: bool) -> pd.Series:
    """Element-wise fallback for non-ISO naive values; NaT where it fails."""
    try:
        parsed = pd.to_datetime(s, format="mixed", dayfirst=dayfirst, errors="coerce")
    except (ValueError, TypeError):  # e.g. a mix that pandas cannot unify
        parsed = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    if getattr(parsed.dt, "tz", None) is not None:  # a zone name slipped through
        parsed = parsed.dt.tz_convert(None)
    # "OCTOBER" parses as 1 October of year 1, which nanoseconds cannot hold: such a value is not understood
    inside = (parsed >= pd.Timestamp.min) & (parsed <= pd.Timestamp.max)
    return parsed.where(inside).astype("datetime64[ns]")
