"""The expectation gap in the manner of SERVQUAL: perception - expectation per dimension and per moment.

* Dimensions (price, product, service): both marks come from the same respondents of the expectation
  survey, so the gap is the mean of each respondent's perceived - expected mark, with a t interval.
* Moments: the expected mark comes from the expectation survey, the perceived mark is the moment's grade in
  the journey surveys (other respondents), so the gap is the difference of the two means with a Welch
  interval.
* Weighted gap: the gap times its weight, the mean importance divided by the top of the importance scale
  (5): a gap on something customers find unimportant counts for less. A block's overall weighted gap is the
  importance-weighted mean of its gaps.
* Suggested norm (per moment, from what customers expect, in half points): on a functional moment the
  expected mark rounded up to a half, at least 7 and at most 8 (meeting the expectation is enough there: a
  7+ will do, more is over-investment); on an emotional moment half a point above that (exceed the
  expectation on the moments of truth), at least 8 and at most 10.
* Discipline: price belongs to operational excellence, product to product leadership, service to customer
  intimacy. Customers' own priority is the dimension they find most important (clear when its interval lies
  above the next one's); the check says whether it matches the chosen discipline and whether the chosen
  dimension meets customers' expectation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from servicepulse.investment import expectation_discipline, expectation_repository
from servicepulse.investment.expectation_survey import (
    DIMENSION_OF,
    DIMENSIONS,
    DISCIPLINE_OF,
    EXPECTED,
    IMPORTANCE,
    IMPORTANCE_TOP,
    MOMENT_EXPECTED,
    MOMENT_IMPORTANCE,
    PERCEIVED,
    moment_question_keys,
    option_value,
)
from servicepulse.kernels.statistics import MeanResult, compare_means_from_stats, mean_t_from_stats

WINDOW_DAYS = 365
CONFIDENCE = 0.95


@dataclass
class Stats:
    n: int = 0
    total: float = 0.0
    squares: float = 0.0

    def add(self, value: float, count: int) -> None:
        self.n += count
        self.total += value * count
        self.squares += value * value * count

    @property
    def mean(self) -> float | None:
        return self.total / self.n if self.n else None

    @property
    def sd(self) -> float:
        if self.n < 2:
            return 0.0
        return math.sqrt(max(0.0, (self.squares - self.n * self.mean ** 2) / (self.n - 1)))

    def interval(self, min_n: int) -> MeanResult:
        return mean_t_from_stats(self.mean or 0.0, self.sd, self.n, CONFIDENCE, min_n=min_n)


@dataclass
class GapRow:
    kind: str  # "dimension" or "moment"
    key: str  # dimension key or moment key
    journey_id: int | None = None
    moment_id: int | None = None
    moment_kind: str | None = None  # functional / emotional
    norm: float | None = None  # the moment's current norm
    importance: MeanResult | None = None
    expected: MeanResult | None = None
    perceived: MeanResult | None = None
    gap: float | None = None  # perception - expectation
    low: float | None = None
    high: float | None = None
    weight: float | None = None
    suggested_norm: float | None = None
    too_few: bool = True
    names: dict[str, str] = field(default_factory=dict)  # the moment's name by language
    journey_names: dict[str, str] = field(default_factory=dict)

    @property
    def weighted(self) -> tuple[float | None, float | None, float | None]:
        if self.gap is None or self.weight is None:
            return None, None, None
        scale = self.weight
        return (self.gap * scale, None if self.low is None else self.low * scale,
                None if self.high is None else self.high * scale)

    @property
    def verdict(self) -> str:
        """below: the interval lies below 0; above: above 0; meets: it holds 0; too_few."""
        if self.too_few or self.gap is None:
            return "too_few"
        if self.high is not None and self.high < 0:
            return "below"
        if self.low is not None and self.low > 0:
            return "above"
        if self.low is None:  # no spread: the gap itself decides
            return "below" if self.gap < 0 else "above" if self.gap > 0 else "meets"
        return "meets"


@dataclass
class DisciplineCheck:
    chosen: str | None
    customers_first: str | None  # the dimension customers find most important
    clear: bool  # its importance interval lies above the next dimension's
    agrees: bool | None
    chosen_verdict: str | None  # the gap verdict on the chosen dimension
    weaker: list[str] = field(default_factory=list)  # other dimensions where perception falls short


@dataclass
class GapView:
    since: datetime
    until: datetime
    dimensions: list[GapRow]
    moments: list[GapRow]
    discipline: DisciplineCheck
    respondents: int  # answers to the expectation surveys' expected service mark
    overall_dimensions: float | None
    overall_moments: float | None


def suggested_norm(expected: float | None, kind: str | None) -> float | None:
    if expected is None:
        return None
    half_up = math.ceil(expected * 2 - 1e-9) / 2
    if kind == "emotional":
        return min(10.0, max(8.0, half_up + 0.5))
    return min(8.0, max(7.0, half_up))


def _weighted_mean(rows: list[GapRow]) -> float | None:
    usable = [r for r in rows if not r.too_few and r.gap is not None and r.weight]
    total = sum(r.weight for r in usable)
    return sum(r.gap * r.weight for r in usable) / total if total else None


def _counts_by_question(counts: list[tuple]) -> dict[tuple[int | None, str], Stats]:
    """Stats per (journey id, question key); dimension questions also under (None, key) across journeys."""
    out: dict[tuple[int | None, str], Stats] = {}
    for journey_id, key, option, n in counts:
        value = option_value(option)
        if value is None:
            continue
        out.setdefault((journey_id, key), Stats()).add(value, n)
        if not key.startswith((MOMENT_IMPORTANCE, MOMENT_EXPECTED)):
            out.setdefault((None, key), Stats()).add(value, n)
    return out


def dimension_rows(stats: dict, paired: list[tuple], min_n: int) -> list[GapRow]:
    rows = []
    for dimension in DIMENSIONS:
        difference = Stats()
        for dim, e, p, n in paired:
            ev, pv = option_value(e), option_value(p)
            if dim == dimension and ev is not None and pv is not None:
                difference.add(pv - ev, n)
        importance = stats.get((None, IMPORTANCE + dimension), Stats())
        row = GapRow("dimension", dimension,
                     importance=importance.interval(min_n),
                     expected=stats.get((None, EXPECTED + dimension), Stats()).interval(min_n),
                     perceived=stats.get((None, PERCEIVED + dimension), Stats()).interval(min_n))
        result = difference.interval(min_n)
        row.too_few = result.too_few
        if not result.too_few:
            row.gap = result.mean
            row.low, row.high = (result.low, result.high) if result.se else (None, None)
        if importance.mean is not None and importance.n >= min_n:
            row.weight = importance.mean / IMPORTANCE_TOP
        rows.append(row)
    return rows


def moment_rows(session: Session, stats: dict, perception: dict, min_n: int) -> list[GapRow]:
    rows = []
    for journey, moments in expectation_repository.journeys_with_moments(session):
        for moment in moments:
            keys = moment_question_keys(moment.key)
            if keys is None:
                continue
            importance = stats.get((journey.id, keys[0]), Stats())
            expected = stats.get((journey.id, keys[1]), Stats())
            n, total, squares = perception.get(moment.id, (0, 0.0, 0.0))
            perceived = Stats(n, total, squares)
            row = GapRow("moment", moment.key, journey.id, moment.id, moment.kind, moment.norm,
                         importance=importance.interval(min_n), expected=expected.interval(min_n),
                         perceived=perceived.interval(min_n),
                         names={"nl": moment.name_nl, "en": moment.name_en},
                         journey_names={"nl": journey.name_nl, "en": journey.name_en})
            if expected.n >= min_n:
                row.suggested_norm = suggested_norm(expected.mean, moment.kind)
            if importance.mean is not None and importance.n >= min_n:
                row.weight = importance.mean / IMPORTANCE_TOP
            if expected.n >= min_n and perceived.n >= min_n:
                result = compare_means_from_stats(expected.mean, expected.sd, expected.n,
                                                  perceived.mean, perceived.sd, perceived.n, CONFIDENCE, min_n=min_n)
                row.too_few = result.too_few
                row.gap = result.difference
                row.low, row.high = result.low, result.high
            if expected.n or perceived.n:
                rows.append(row)
    return rows


def check_discipline(chosen: str | None, dimensions: list[GapRow]) -> DisciplineCheck:
    ranked = sorted((r for r in dimensions if r.importance is not None and not r.importance.too_few),
                    key=lambda r: r.importance.mean, reverse=True)
    first = ranked[0] if ranked else None
    clear = bool(first and (len(ranked) == 1 or first.importance.low > ranked[1].importance.high))
    chosen_dimension = DIMENSION_OF.get(chosen) if chosen else None
    chosen_row = next((r for r in dimensions if r.key == chosen_dimension), None)
    # below expectation on a side the organisation chose not to excel at, and not customers' first concern
    weaker = [r.key for r in dimensions if chosen_dimension and r.key != chosen_dimension and r.verdict == "below"
              and r.key != (first.key if first else None)]
    return DisciplineCheck(
        chosen=chosen,
        customers_first=first.key if first else None,
        clear=clear,
        agrees=None if (chosen is None or first is None) else DISCIPLINE_OF[first.key] == chosen,
        chosen_verdict=chosen_row.verdict if chosen_row else None,
        weaker=weaker,
    )


def gap_view(session: Session, now: datetime, min_n: int = 30, days: int = WINDOW_DAYS) -> GapView:
    """The gap view over the answers of the last ``days`` days before ``now``."""
    since, until = now - timedelta(days=days), now
    counts = expectation_repository.expectation_counts(session, since, until)
    stats = _counts_by_question(counts)
    paired = expectation_repository.paired_counts(session, since, until)
    dimensions = dimension_rows(stats, paired, min_n)
    moments = moment_rows(session, stats, expectation_repository.moment_perception(session, since, until), min_n)
    chosen = expectation_discipline.current(session)
    return GapView(
        since=since, until=until, dimensions=dimensions, moments=moments,
        discipline=check_discipline(chosen.discipline if chosen else None, dimensions),
        respondents=stats.get((None, EXPECTED + "service"), Stats()).n,
        overall_dimensions=_weighted_mean(dimensions),
        overall_moments=_weighted_mean(moments),
    )
