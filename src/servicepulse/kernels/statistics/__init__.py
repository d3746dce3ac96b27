"""Analytics kernel: pure statistics on numbers, NumPy arrays and pandas objects.

No database, web or CLI imports here; edges and domain services call these
functions with aggregates or answer columns.

- Intervals: :func:`nps` (adjusted Wald / Wald / bootstrap), :func:`wilson`,
  :func:`mean_t`; results carry ``too_few`` and a message below ``min_n``.
- Comparisons: :func:`compare_nps`, :func:`compare_shares`, :func:`compare_means`,
  :func:`compare_many` with Holm or Benjamini-Hochberg correction.
- Key drivers: :func:`relative_weights` (Johnson 2000), :func:`dominance`
  (general dominance / Shapley), :func:`driver_slopes`,
  :func:`importance_performance`.
- :func:`prca` penalty-reward contrast analysis (Brandt 1987).
- 7+/9+: :func:`moment_status`, :func:`check_label`, :func:`scan_projects`.
"""

from .compare import (
    ComparisonResult,
    adjust_pvalues,
    compare_many,
    compare_means,
    compare_means_from_stats,
    compare_nps,
    compare_nps_segments,
    compare_shares,
)
from .drivers import (
    DriverResult,
    dominance,
    dominance_result,
    driver_slopes,
    relative_weights,
    relative_weights_result,
    univariate_slopes,
)
from .errors import AnalyticsInputError, DriverAnalysisError
from .importance_performance import DRIVER_QUADRANTS, driver_grid, format_p, importance_performance
from .intervals import MeanResult, ShareResult, mean_t, mean_t_from_stats, wilson
from .moments import LabelCheck, MomentStatus, check_label, moment_status
from .nps import NpsCounts, NpsResult, nps, nps_answer_sd, nps_answer_variance, nps_counts, nps_from_scores
from .ols import OlsFit, ols_fit
from .prca import PrcaResult, prca
from .project_scan import (
    MomentFacts,
    Project,
    ProjectScan,
    TargetEffect,
    facts_from_frame,
    scan_projects,
    scan_table,
)

__all__ = [
    "DRIVER_QUADRANTS", "driver_grid", "format_p", "univariate_slopes",
    "AnalyticsInputError", "ComparisonResult", "DriverAnalysisError", "DriverResult", "LabelCheck",
    "MeanResult", "MomentFacts", "MomentStatus", "NpsCounts", "NpsResult", "OlsFit", "PrcaResult",
    "Project", "ProjectScan", "ShareResult", "TargetEffect",
    "adjust_pvalues", "check_label", "compare_many", "compare_means", "compare_means_from_stats",
    "compare_nps", "compare_nps_segments", "compare_shares", "dominance", "dominance_result",
    "driver_slopes", "facts_from_frame", "importance_performance", "mean_t", "mean_t_from_stats", "moment_status", "nps",
    "nps_answer_sd", "nps_answer_variance", "nps_counts", "nps_from_scores", "ols_fit", "prca",
    "relative_weights", "relative_weights_result", "scan_projects", "scan_table", "wilson",
]
