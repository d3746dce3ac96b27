"""Exceptions raised by the analytics kernels.

Every message is written for a person (an analyst or a CX manager), naming the
field, row or driver that is wrong, so that edges can show it as it is.
"""

from __future__ import annotations


class AnalyticsInputError(ValueError):
    """Input that a statistic cannot be computed from (wrong type, range, shape)."""


class DriverAnalysisError(AnalyticsInputError):
    """Key-driver input that cannot give a meaningful answer.

    Raised for: no rows, fewer rows than drivers, a driver or outcome without
    variance, perfectly collinear drivers, non-numeric columns.
    """
