"""Where to invest: cost to serve, avoidable contact (failure demand), the departments that cause contacts and
effort, the investment compass per moment, what customers expect (the expectation gap and the value discipline) and
relationship health."""

from servicepulse.investment.effect import Slope, effect_interval, hc3_ols, outcome_values
from servicepulse.investment.repository import moment_frame
from servicepulse.investment.service import effect_slopes

__all__ = ["Slope", "effect_interval", "effect_slopes", "hc3_ols", "moment_frame", "outcome_values"]
