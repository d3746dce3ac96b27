"""Prefix features: what is known about a case after each of its events.

One row per event: the features describe the prefix of the case that ends at
that event (the case "as seen so far"). Training uses every prefix of every
closed case, prediction uses the last row of each open case. The vocabularies
(activities, resources, ...) are learned once at fit time and frozen, so a value
never seen in training becomes a missing category instead of an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .events import OPTIONAL_CATEGORICAL_COLUMNS

SECONDS_PER_DAY = 86_400.0
START_TOKEN = "<start>"
# The activity-count bag keeps the most frequent activities only, so that a
# log with thousands of rare activity names does not explode the feature set.
MAX_COUNTED_ACTIVITIES = 50


@dataclass
class PrefixFeatureBuilder:
    """Turns a validated, case/time-sorted event table into prefix features."""

    timezone: str | None = None
    activities: list[str] = field(default_factory=list)
    counted_activities: list[str] = field(default_factory=list)
    categories: dict[str, list[str]] = field(default_factory=dict)
    # Extra "process position" features (see ``_position_features``); a switch
    # so the bench can measure what they add.
    position_features: bool = True

    def learn(self, events: pd.DataFrame) -> PrefixFeatureBuilder:
        """Freeze vocabularies from the training events."""
        frequency = events["activity"].value_counts()
        self.activities = sorted(frequency.index)
        self.counted_activities = sorted(frequency.index[:MAX_COUNTED_ACTIVITIES])
        self.categories = {
            name: sorted(events[name].unique())
            for name in OPTIONAL_CATEGORICAL_COLUMNS
            if name in events.columns
        }
        return self

    @property
    def feature_names(self) -> list[str]:
        names = [
            "prefix_length",
            "last_activity",
            "previous_activity",
            "elapsed_days",
            "days_since_previous",
            "weekday",
            "hour",
            "day_of_month",
        ]
        names += [f"last_{name}" for name in self.categories]
        if self.position_features:
            names += list(POSITION_FEATURES)
        # Positional names: activity names may hold characters LightGBM refuses.
        names += [f"count_{i}" for i in range(len(self.counted_activities))]
        return names

    def transform(self, events: pd.DataFrame) -> pd.DataFrame:
        """Features of the prefix ending at each event (same row order as ``events``)."""
        by_case = events.groupby("case_id", sort=False)
        stamps = events["timestamp"]
        if self.timezone is not None:
            stamps = stamps.dt.tz_convert(self.timezone)
        start = by_case["timestamp"].transform("min")
        previous = by_case["timestamp"].shift(1)

        activity_vocab = self.activities + [START_TOKEN]
        features = pd.DataFrame(index=events.index)
        features["prefix_length"] = by_case.cumcount().to_numpy() + 1
        features["last_activity"] = _categorical(events["activity"], activity_vocab)
        features["previous_activity"] = _categorical(
            by_case["activity"].shift(1).fillna(START_TOKEN), activity_vocab
        )
        features["elapsed_days"] = (events["timestamp"] - start).dt.total_seconds() / SECONDS_PER_DAY
        features["days_since_previous"] = (
            (events["timestamp"] - previous).dt.total_seconds().fillna(0.0) / SECONDS_PER_DAY
        )
        # Calendar position of the last event: work queues follow office hours,
        # weekends and monthly cycles.
        features["weekday"] = stamps.dt.day_of_week.astype(float)
        features["hour"] = stamps.dt.hour + stamps.dt.minute / 60.0
        features["day_of_month"] = stamps.dt.day.astype(float)
        for name, vocab in self.categories.items():
            values = events[name] if name in events.columns else pd.Series(np.nan, index=events.index)
            features[f"last_{name}"] = _categorical(values, vocab)

        if self.position_features:
            features = pd.concat([features, _position_features(events, stamps, by_case)], axis=1)

        codes = pd.Index(self.counted_activities).get_indexer(events["activity"])
        onehot = np.zeros((len(events), len(self.counted_activities)), dtype=np.float64)
        known = codes >= 0
        onehot[np.flatnonzero(known), codes[known]] = 1.0
        counts = (
            pd.DataFrame(onehot, index=events.index)
            .groupby(events["case_id"].to_numpy(), sort=False)
            .cumsum()
        )
        counts.columns = [f"count_{i}" for i in range(len(self.counted_activities))]
        return pd.concat([features, counts], axis=1)[self.feature_names]


POSITION_FEATURES = (
    "days_since_resolution",
    "resolved",
    "events_since_resolution",
    "wait_count",
    "days_to_month_end",
    "working_days_elapsed",
)
# Activity names that mark "solved, waiting to be closed" and "on hold" states.
# Matched case-insensitively by substring so that logs in other wordings still hit.
_RESOLUTION_WORDS = ("resolve", "resolved", "opgelost")
_WAIT_WORDS = ("wait", "upgrade", "wacht")


def _position_features(events: pd.DataFrame, stamps: pd.Series, by_case) -> pd.DataFrame:
    """Where the case stands in the process: after the resolution the close follows a rule."""
    activity = events["activity"].astype(str).str.lower()
    is_resolution = activity.str.contains("|".join(_RESOLUTION_WORDS), regex=True).to_numpy()
    is_wait = activity.str.contains("|".join(_WAIT_WORDS), regex=True).to_numpy()
    case = events["case_id"].to_numpy()
    # Seconds since the first event of the log (not int64 casts: their unit
    # follows the column's resolution, which may be ns, us or ms).
    seconds = (events["timestamp"] - events["timestamp"].min()).dt.total_seconds()
    resolution_time = seconds.where(is_resolution)
    last_resolution = resolution_time.groupby(case, sort=False).ffill()
    since = (seconds - last_resolution) / SECONDS_PER_DAY
    resolution_number = pd.Series(is_resolution.astype(float), index=events.index).groupby(case, sort=False).cumsum()
    position = by_case.cumcount()
    last_resolution_position = pd.Series(
        np.where(is_resolution, position, np.nan), index=events.index
    ).groupby(case, sort=False).ffill()
    start = by_case["timestamp"].transform("min")
    start_local = start.dt.tz_convert(stamps.dt.tz) if stamps.dt.tz is not None else start
    working = np.busday_count(
        start_local.dt.date.to_numpy().astype("datetime64[D]"),
        stamps.dt.date.to_numpy().astype("datetime64[D]"),
    )
    out = pd.DataFrame(index=events.index)
    out["days_since_resolution"] = since.to_numpy()
    out["resolved"] = (resolution_number > 0).astype(float).to_numpy()
    out["events_since_resolution"] = (position - last_resolution_position).to_numpy()
    out["wait_count"] = pd.Series(is_wait.astype(float), index=events.index).groupby(case, sort=False).cumsum().to_numpy()
    out["days_to_month_end"] = (stamps.dt.days_in_month - stamps.dt.day).astype(float).to_numpy()
    out["working_days_elapsed"] = working.astype(float)
    return out


def _categorical(values: pd.Series, vocab: list[str]) -> pd.Categorical:
    """Values coded against a frozen vocabulary; unseen values become missing."""
    return pd.Categorical.from_codes(pd.Index(vocab).get_indexer(values), categories=vocab)


def remaining_days(events: pd.DataFrame) -> pd.Series:
    """Days from each event to the last event of its case (the training target)."""
    end = events.groupby("case_id", sort=False)["timestamp"].transform("max")
    return (end - events["timestamp"]).dt.total_seconds() / SECONDS_PER_DAY


def is_open_prefix(events: pd.DataFrame) -> pd.Series:
    """True for events after which the case still has at least one event to come."""
    position = events.groupby("case_id", sort=False).cumcount()
    size = events.groupby("case_id", sort=False)["case_id"].transform("size")
    return pd.Series(position.to_numpy() + 1 < size.to_numpy(), index=events.index)


def last_event_rows(events: pd.DataFrame) -> pd.Index:
    """Index of the last event of each case (the state of an open case now)."""
    position = events.groupby("case_id", sort=False).cumcount(ascending=False)
    return events.index[position.to_numpy() == 0]
