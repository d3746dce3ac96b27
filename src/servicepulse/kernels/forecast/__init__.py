"""Resolution-time forecasting for open cases: a median estimate, an honest
interval, and the promise to give the customer.

    from servicepulse.kernels.forecast import ResolutionForecaster
    forecaster = ResolutionForecaster().fit(closed_case_events)
    forecast = forecaster.predict(open_case_events)   # remaining_s, lower_s, upper_s
"""

from .model import NotFittedError, ResolutionForecaster
from .promise import WorkingCalendar, describe_forecast, suggest_promise

__all__ = [
    "NotFittedError",
    "ResolutionForecaster",
    "WorkingCalendar",
    "describe_forecast",
    "suggest_promise",
]
