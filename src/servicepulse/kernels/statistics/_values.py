"""Turning user-supplied score columns into clean float arrays (private)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from .errors import AnalyticsInputError


def numeric_values(values: Iterable[float] | pd.Series, field: str = "values") -> tuple[np.ndarray, int]:
    """Return (finite float values, number of missing values left out).

    None/NaN count as missing; text or infinity is an error naming the row.
    """
    if isinstance(values, pd.Series):
        series = values
    else:
        series = pd.Series(np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=object).ravel())
    missing = series.isna()
    numbers = pd.to_numeric(series, errors="coerce").astype(float)
    bad = ~missing & ~np.isfinite(numbers.fillna(np.inf))
    if bad.any():
        row = bad.index[bad.to_numpy().argmax()]
        raise AnalyticsInputError(f"{field}, row {row!r}: expected a number, got {series.loc[row]!r}")
    return numbers[~missing].to_numpy(dtype=float), int(missing.sum())
