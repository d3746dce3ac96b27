"""Cost to serve: what every event costs, rolled up per case, moment, journey, team, department and month.

An event that carries a handling time in its attributes (``handling_minutes``, as many logs record it) costs
that time at ``SERVICEPULSE_COST_PER_MINUTE`` (default 0.80 euro: about 48 euro an hour, fully loaded); any
other customer-facing event costs the default of its channel and direction (``SERVICEPULSE_CONTACT_COSTS``:
a phone call 6.50, a chat 4.50, an e-mail 3.50 in and 2.50 out, self-service in the app or on the web 0.50-0.60,
a text message 0.10, an engineer's visit 85.00); internal events without a handling time cost nothing. Costs are
recomputed from the stored events on every request: nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

CONTACT = "contact"  # an inbound, customer-facing event: the customer reached out


@dataclass(frozen=True)
class CostRates:
    per_minute: float
    contact: dict[str, float]  # "channel/direction" -> euros

    @classmethod
    def from_settings(cls, settings) -> CostRates:
        return cls(float(settings.cost_per_minute), {k.lower(): float(v) for k, v in settings.contact_costs.items()})


def handling_minutes(attributes: pd.Series) -> np.ndarray:
    """The ``handling_minutes`` of each event's attributes (NaN where the log has none or it is not a number)."""
    out = np.full(len(attributes), np.nan)
    for i, value in enumerate(attributes.tolist()):
        if isinstance(value, dict):
            minutes = value.get("handling_minutes")
            if isinstance(minutes, int | float) and not isinstance(minutes, bool) and 0 <= minutes < 100_000:
                out[i] = float(minutes)
    return out


def event_costs(events: pd.DataFrame, rates: CostRates) -> pd.Series:
    """Euros per event (index as ``events``): handling time where known, else the channel/direction default for
    a customer-facing event, else 0."""
    if events.empty:
        return pd.Series(dtype=float)
    minutes = handling_minutes(events["attributes"])
    pair = (events["channel"].fillna("").str.lower() + "/" + events["direction"].fillna("").str.lower())
    default = pair.map(rates.contact).fillna(0.0).to_numpy(dtype=float)
    default = np.where(events["customer_facing"].astype(bool).to_numpy(), default, 0.0)
    return pd.Series(np.where(np.isnan(minutes), default, minutes * rates.per_minute), index=events.index)


def is_contact(events: pd.DataFrame) -> pd.Series:
    return (events["direction"] == "inbound") & events["customer_facing"].astype(bool)


def local_month(times: pd.Series, zone: ZoneInfo) -> pd.Series:
    """'YYYY-MM' of each UTC time on the organisation's clock."""
    return times.dt.tz_convert(str(zone)).dt.strftime("%Y-%m")


def rollup(events: pd.DataFrame, by: str) -> pd.DataFrame:
    """Cost, contacts and cases per value of column ``by`` (events need ``cost`` and ``contact``): total cost,
    cost per case (over the cases with an event there), contacts and cost per contact."""
    if events.empty:
        return pd.DataFrame(columns=["cost", "cases", "contacts", "cost_per_case", "contact_cost",
                                     "cost_per_contact"])
    grouped = events.groupby(by, dropna=True)
    out = pd.DataFrame({
        "cost": grouped["cost"].sum(),
        "cases": grouped["case_id"].nunique(),
        "contacts": grouped["contact"].sum().astype(int),
        "contact_cost": events[events["contact"]].groupby(by)["cost"].sum(),
    })
    out["contact_cost"] = out["contact_cost"].fillna(0.0)
    out["cost_per_case"] = out["cost"] / out["cases"].where(out["cases"] > 0)
    out["cost_per_contact"] = out["contact_cost"] / out["contacts"].where(out["contacts"] > 0)
    return out
