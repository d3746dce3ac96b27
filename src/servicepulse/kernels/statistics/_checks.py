"""Small input checks shared by the kernels (private)."""

from __future__ import annotations

import math
import numbers

from .errors import AnalyticsInputError

DEFAULT_MIN_N = 30


def check_confidence(confidence: float) -> float:
    """Return the confidence level as float, or explain why it is unusable."""
    try:
        value = float(confidence)
    except (TypeError, ValueError):
        raise AnalyticsInputError(
            f"confidence must be a number between 0 and 1 (e.g. 0.95), got {confidence!r}"
        ) from None
    if not 0.0 < value < 1.0:
        raise AnalyticsInputError(
            f"confidence must be between 0 and 1 (e.g. 0.95), got {confidence!r}"
        )
    return value


def check_count(value: object, field: str) -> int:
    """Return a non-negative whole count, or explain which field is wrong."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise AnalyticsInputError(f"{field} must be a whole number, got {value!r}")
    if not math.isfinite(float(value)) or float(value) != int(value):
        raise AnalyticsInputError(f"{field} must be a whole number, got {value!r}")
    if value < 0:
        raise AnalyticsInputError(f"{field} cannot be negative, got {value!r}")
    return int(value)


def check_min_n(min_n: object) -> int:
    """Return the minimum sample size as int (at least 1)."""
    n = check_count(min_n, "min_n")
    return max(n, 1)


def too_few_message(n: int, min_n: int, what: str = "answers") -> str:
    """Human message for a sample below the reporting threshold."""
    return f"too few {what} (n={n} < {min_n})"
