import numpy as np
import pandas as pd
import pytest

from servicepulse.kernels.statistics import AnalyticsInputError, importance_performance


def test_quadrants_around_mean_cuts():
    importance = pd.Series({"billing": 0.30, "repair": 0.25, "website": 0.05, "shop": 0.04})
    performance = pd.Series({"billing": 6.1, "repair": 8.4, "website": 6.0, "shop": 8.9})
    grid = importance_performance(importance, performance)
    assert grid.attrs["importance_cut"] == pytest.approx(0.16)
    assert grid.attrs["performance_cut"] == pytest.approx(7.35)
    assert grid["quadrant"].to_dict() == {
        "billing": "priority", "repair": "strength", "website": "low_priority", "shop": "possible_overkill",
    }
    assert grid.loc["billing", "label_en"] == "priority: high importance, low performance"
    assert grid.loc["billing", "label_nl"].startswith("prioriteit")


def test_norm_as_performance_cut_and_ties_count_as_high():
    importance = pd.Series({"a": 0.2, "b": 0.1})
    performance = pd.Series({"b": 7.0, "a": 6.9})  # order differs on purpose
    grid = importance_performance(importance, performance, importance_cut=0.1, performance_cut=7.0)
    assert grid.loc["a", "quadrant"] == "priority"
    assert grid.loc["b", "quadrant"] == "strength"


def test_mismatched_or_missing_values_are_named():
    with pytest.raises(AnalyticsInputError, match="no performance for 'c'"):
        importance_performance(pd.Series({"a": 1, "c": 2}), pd.Series({"a": 7}))
    with pytest.raises(AnalyticsInputError, match="performance is missing .*'b'"):
        importance_performance(pd.Series({"a": 1, "b": 2}), pd.Series({"a": 7, "b": np.nan}))
