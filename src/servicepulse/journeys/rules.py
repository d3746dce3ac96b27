"""Moment mapping rules: which journey moment an event belongs to.

A rule names a moment and one or more conditions, all of which must hold:
``activity`` (exact name, case-insensitive), ``pattern`` (regular expression
searched in the activity, case-insensitive), ``channel`` (case-insensitive)
and ``team`` (team name or key). Rules are tried in order; the first match
wins. Pure code: matching runs once per distinct (activity, channel, team)
combination of a batch, not once per event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Rule:
    moment_id: int
    journey_id: int | None = None
    activity: str | None = None
    pattern: str | None = None
    channel: str | None = None
    team: str | None = None

    def compiled(self) -> _Compiled:
        return _Compiled(self, re.compile(self.pattern, re.IGNORECASE) if self.pattern else None)


@dataclass(frozen=True)
class _Compiled:
    rule: Rule
    rx: re.Pattern | None

    def matches(self, activity: str, channel: str | None, team_names: frozenset[str]) -> bool:
        r = self.rule
        if r.activity is not None and activity.casefold() != r.activity.casefold():
            return False
        if self.rx is not None and not self.rx.search(activity):
            return False
        if r.channel is not None and (channel is None or channel.casefold() != r.channel.casefold()):
            return False
        if r.team is not None and r.team.casefold() not in team_names:
            return False
        return True


def pattern_problem(pattern: str) -> str | None:
    """Why a pattern is not a usable regular expression, or None."""
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"'{pattern}' is not a valid regular expression ({exc})"
    return None


def assign_moments(activity: pd.Series, channel: pd.Series, team: pd.Series, rules: list[Rule],
                   team_aliases: dict[str, str] | None = None) -> np.ndarray:
    """The moment id per event (object array; None where no rule matches).

    ``team`` holds team names; ``team_aliases`` maps a name to the team's key
    so a rule may name either.
    """
    n = len(activity)
    if not rules or n == 0:
        return np.full(n, None, dtype=object)
    compiled = [r.compiled() for r in rules]
    aliases = {k.casefold(): v.casefold() for k, v in (team_aliases or {}).items()}
    combo = pd.DataFrame({"a": activity.to_numpy(dtype=object), "c": channel.to_numpy(dtype=object),
                          "t": team.to_numpy(dtype=object)})
    codes, uniques = pd.factorize(pd.MultiIndex.from_frame(combo.fillna("\0")))
    out = []
    for a, c, t in uniques:
        c = None if c == "\0" else c
        t = None if t == "\0" else t
        names = frozenset() if t is None else frozenset({t.casefold(), aliases.get(t.casefold(), t.casefold())})
        out.append(next((m.rule.moment_id for m in compiled if m.matches(a, c, names)), None))
    return np.array(out + [None], dtype=object)[codes]
