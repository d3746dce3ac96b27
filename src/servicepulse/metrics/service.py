"""Experience metrics with honest intervals, the 7+/9+ moment view and key drivers.

Framework-free and never commits. The database does the counting
(:mod:`servicepulse.metrics.repository`); the statistics come from the
analytics kernel. Nothing here raises on bad or thin data: a figure below
``min_n`` answers is marked ``too_few``, and an analysis that cannot be run
(no variance, collinear drivers, fewer answers than drivers, an empty
period) returns its ``message`` instead of numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

import pandas as pd
from sqlalchemy.orm import Session

from servicepulse.kernels import statistics
from servicepulse.kernels.statistics import AnalyticsInputError, MeanResult, NpsResult, ShareResult
from servicepulse.metrics import label_check
from servicepulse.metrics import repository as repo
from servicepulse.metrics.repository import MetricFilter
from servicepulse.models import Journey, Moment

NPS_METHODS = ("adjusted-wald", "wald", "bootstrap")
# moment_status codes -> chart colour keys (charts.specs.STATUS_COLOURS)
CHART_STATUS = {"fix_basics": "fix_basics", "good_enough": "good_enough", "win_moment": "moment_to_win",
                "keep_it": "keep_it", "over_invested": "over_invested", "unknown": "too_few"}


@dataclass(frozen=True)
class Figures:
    """All headline figures of one group of responses, each with its interval."""

    responses: int
    nps: NpsResult
    grade: MeanResult
    grade_7: ShareResult
    grade_9: ShareResult
    csat_top2: ShareResult
    ces: MeanResult
    ces_easy: ShareResult


@dataclass(frozen=True)
class MetricRow:
    key: object  # group value (id, text or period start); None for the whole selection
    label: str
    figures: Figures
    complete: bool = True  # False for the running period (it has not ended yet: its figures are partial)


def utc_today() -> date:
    return datetime.now(UTC).date()


def period_end(start: date, period: str) -> date:
    """The first day after the day / ISO week / month that starts on ``start``."""
    if period == "day":
        return start + timedelta(days=1)
    if period == "week":
        return start + timedelta(days=7)
    return repo.next_month(start)


def period_complete(start: date, period: str, today: date | None = None) -> bool:
    """Whether the period starting on ``start`` has ended by ``today`` (UTC; default the current day)."""
    return period_end(start, period) <= (today or utc_today())


def last_complete_month(last_data_day: date | None, today: date | None = None) -> str:
    """'YYYY-MM' of the newest month that has ended and holds data (the default of the monthly report)."""
    today = today or utc_today()
    running = today.replace(day=1)
    last = (last_data_day or today).replace(day=1)
    month = min(last, (running - timedelta(days=1)).replace(day=1))
    return f"{month:%Y-%m}"


def _sd(n: float, total: float, squares: float) -> float:
    if n < 2:
        return 0.0
    variance = max(squares - total * total / n, 0.0) / (n - 1)
    return math.sqrt(variance)


def _mean(n: float, total: float, squares: float, confidence: float, min_n: int) -> MeanResult:
    n = int(n)
    if n == 0:
        return statistics.mean_t_from_stats(0.0, 0.0, 0, confidence, min_n=max(min_n, 1))
    return statistics.mean_t_from_stats(total / n, _sd(n, total, squares), n, confidence, min_n=min_n)


def figures_from_sums(sums: pd.Series | dict, *, min_n: int = 30, method: str = "adjusted-wald",
                      confidence: float = 0.95, seed: int | None = 0) -> Figures:
    """Turn the sums of ``repository.FIGURE_COLUMNS`` into figures with intervals."""
    s = {k: int(sums[k]) for k in repo.FIGURE_COLUMNS}
    if method not in NPS_METHODS:
        raise AnalyticsInputError(f"NPS interval method must be one of {', '.join(NPS_METHODS)}, got {method!r}")
    kwargs = {"seed": seed} if method == "bootstrap" else {}
    return Figures(
        responses=s["responses"],
        nps=statistics.nps(s["detractors"], s["passives"], s["promoters"], method=method, confidence=confidence,
                          min_n=min_n, **kwargs),
        grade=_mean(s["grade_n"], s["grade_sum"], s["grade_sq"], confidence, min_n),
        grade_7=statistics.wilson(s["grade_7"], s["grade_n"], confidence, min_n=min_n),
        grade_9=statistics.wilson(s["grade_9"], s["grade_n"], confidence, min_n=min_n),
        csat_top2=statistics.wilson(s["csat_top2"], s["csat_n"], confidence, min_n=min_n),
        ces=_mean(s["ces_n"], s["ces_sum"], s["ces_sq"], confidence, min_n),
        ces_easy=statistics.wilson(s["ces_easy"], s["ces_n"], confidence, min_n=min_n),
    )


def _labels(session: Session, by: str | None, language: str) -> dict:
    if by == "journey":
        return {j.id: j.name(language) for j in repo.journeys(session)}
    if by == "moment":
        return {m.id: m.name(language) for m in repo.moments(session)}
    if by == "team":
        return repo.team_names(session)
    return {}


def _missing_label(language: str) -> str:
    return "(onbekend)" if language == "nl" else "(unknown)"


def moment_group_sums(session: Session, f: MetricFilter, source: str = "auto") -> pd.DataFrame:
    """``FIGURE_COLUMNS`` sums per moment (``key``), each answer counted for every moment it is about.

    ``responses`` and the grade sums are the answers grading the moment (a journey-end answer that grades
    several moments counts for each: the counts of the home page and the moment pages) plus the one-moment
    surveys sent for it, whose overall grade is the moment's grade. NPS, CSAT and CES come from those
    one-moment surveys only: a journey survey's overall scores are about its journey (``by="journey"``).
    """
    single = repo.single_moment_sums(session, f)
    graded = repo.moment_sums(session, f, source=source)
    keys = sorted(set(single.index) | {int(k) for k in graded.index})
    out = single.reindex(keys, fill_value=0)
    grades = graded.reindex(keys, fill_value=0).round().astype("int64")
    for column in repo.MOMENT_COLUMNS:
        out[column] = out[column] + grades[column]
    out["responses"] = out["responses"] + grades["grade_n"]
    return out.reset_index(names="key")


def metrics(session: Session, f: MetricFilter = MetricFilter(), *, by: str | None = None, period: str = "month",
            min_n: int = 30, method: str = "adjusted-wald", confidence: float = 0.95, language: str = "nl",
            source: str = "auto", today: date | None = None) -> list[MetricRow]:
    """Figures per group (``by``: journey, moment, channel, team, segment, period) or for the whole selection.

    Periods are returned in order with empty periods in between filled in
    (as "too few answers"), so that a trend shows its gaps; the running period
    (the one holding ``today``, UTC) has ``complete`` False.
    """
    sums = moment_group_sums(session, f, source) if by == "moment" else repo.metric_sums(
        session, f, by=by, period=period, source=source)
    if by is None:
        row = sums.iloc[0] if len(sums) else pd.Series(0, index=repo.FIGURE_COLUMNS)
        return [MetricRow(None, "", figures_from_sums(row, min_n=min_n, method=method, confidence=confidence))]
    if by == "period":
        sums = _fill_periods(sums, period, f)
    labels = _labels(session, by, language)
    rows = []
    for _, row in sums.iterrows():
        key = row["key"]
        key = None if pd.isna(key) else (int(key) if by in ("journey", "moment", "team") else key)
        label = _missing_label(language) if key is None else str(labels.get(key, key))
        complete = True
        if by == "period" and key is not None:
            complete = period_complete(date.fromisoformat(str(key)), period, today)
        rows.append(MetricRow(key, label, figures_from_sums(row, min_n=min_n, method=method, confidence=confidence),
                              complete))
    return rows


def period_starts(first: date, last: date, period: str) -> list[date]:
    """Start days of every period from the one holding ``first`` to the one holding ``last``."""
    def start(d: date) -> date:
        if period == "week":
            return d - timedelta(days=d.weekday())
        if period == "month":
            return d.replace(day=1)
        return d

    out, current = [], start(first)
    while current <= last:
        out.append(current)
        if period == "day":
            current += timedelta(days=1)
        elif period == "week":
            current += timedelta(days=7)
        else:
            current = repo.next_month(current)
    return out


def _fill_periods(sums: pd.DataFrame, period: str, f: MetricFilter) -> pd.DataFrame:
    keys = [date.fromisoformat(k) for k in sums["key"] if isinstance(k, str)]
    first = f.date_from or (min(keys) if keys else None)
    last = (f.date_to - timedelta(days=1)) if f.date_to else (max(keys) if keys else None)
    if first is None or last is None or first > last:
        return sums
    if period == "day" and (last - first).days > 3660:
        return sums  # do not invent ten years of empty days
    full = pd.DataFrame({"key": [d.isoformat() for d in period_starts(first, last, period)]})
    merged = full.merge(sums, on="key", how="left")
    merged[list(repo.FIGURE_COLUMNS)] = merged[list(repo.FIGURE_COLUMNS)].fillna(0).astype("int64")
    return merged


# -- comparisons ------------------------------------------------------------------

@dataclass(frozen=True)
class Comparison:
    key: object
    label: str
    nps: statistics.ComparisonResult
    grade: statistics.ComparisonResult
    nps_p_adjusted: float | None = None
    nps_significant: bool | None = None


def _nps_triplet(s) -> tuple[int, int, int]:
    return int(s["detractors"]), int(s["passives"]), int(s["promoters"])


def _grade_stats(s) -> tuple[float, float, int]:
    n = int(s["grade_n"])
    mean = s["grade_sum"] / n if n else 0.0
    return mean, _sd(n, s["grade_sum"], s["grade_sq"]), n


def compare_periods(session: Session, previous: MetricFilter, current: MetricFilter, *, by: str | None = None,
                    period: str = "month", min_n: int = 30, confidence: float = 0.95, correction: str = "holm",
                    language: str = "nl", source: str = "auto") -> list[Comparison]:
    """Change from ``previous`` to ``current`` overall or per group, NPS p-values corrected for many groups."""
    a = repo.metric_sums(session, previous, by=by, period=period, source=source)
    b = repo.metric_sums(session, current, by=by, period=period, source=source)
    if by is None:
        a, b = a.assign(key=None), b.assign(key=None)
    zero = pd.Series(0, index=repo.FIGURE_COLUMNS)
    a_rows = {None if pd.isna(k) else k: r for k, r in zip(a["key"], (r for _, r in a.iterrows()))}
    b_rows = {None if pd.isna(k) else k: r for k, r in zip(b["key"], (r for _, r in b.iterrows()))}
    labels = _labels(session, by, language)
    out = []
    for key in sorted(set(a_rows) | set(b_rows), key=lambda k: (k is None, str(k))):
        ra, rb = a_rows.get(key, zero), b_rows.get(key, zero)
        nps_cmp = statistics.compare_nps(_nps_triplet(ra), _nps_triplet(rb), confidence=confidence, min_n=min_n)
        ga, gb = _grade_stats(ra), _grade_stats(rb)
        grade_cmp = statistics.compare_means_from_stats(*ga, *gb, confidence=confidence, min_n=min_n)
        label = _missing_label(language) if key is None and by else str(labels.get(key, key) if key is not None else "")
        out.append(Comparison(key, label, nps_cmp, grade_cmp))
    tested = {str(i): c.nps for i, c in enumerate(out) if c.nps.p_value is not None}
    if tested:
        adjusted = statistics.adjust_pvalues([c.p_value for c in tested.values()], correction)
        for (i, _), p in zip(tested.items(), adjusted):
            out[int(i)] = replace(out[int(i)], nps_p_adjusted=float(p), nps_significant=bool(p < 1 - confidence))
    return out


# -- the 7+/9+ moment view -------------------------------------------------------

@dataclass
class MomentRow:
    id: int
    key: str
    name: str
    position: int
    kind: str
    norm: float
    n: int
    score: MeanResult
    share_7: ShareResult
    share_9: ShareResult
    status: statistics.MomentStatus
    behaviour: str | None = None  # PRCA: basic / excitement / performance / no effect
    penalty: float | None = None
    reward: float | None = None
    label_check: statistics.LabelCheck | None = None

    @property
    def chart_status(self) -> str:
        return CHART_STATUS[self.status.code]


@dataclass
class MomentView:
    journey_id: int
    journey_name: str
    outcome: str
    moments: list[MomentRow]
    prca_n: int = 0
    prca_sampled: bool = False  # the check ran on the newest label_check.PRCA_SAMPLE complete answers, not all
    prca_message: str | None = None
    notes: list[str] = field(default_factory=list)


def _moment_rows(session: Session, f: MetricFilter, moments: list[Moment], *, min_n: int, confidence: float,
                 language: str, source: str) -> list[MomentRow]:
    sums = repo.moment_sums(session, f, source=source)
    rows = []
    for m in moments:
        s = sums.loc[m.id] if m.id in sums.index else pd.Series(0.0, index=repo.MOMENT_COLUMNS)
        score = _mean(s["grade_n"], s["grade_sum"], s["grade_sq"], confidence, min_n)
        status = statistics.moment_status(m.kind, m.norm, score.mean, score.low, score.high)
        rows.append(MomentRow(
            id=m.id, key=m.key, name=m.name(language), position=m.position, kind=m.kind, norm=m.norm,
            n=int(s["grade_n"]), score=score,
            share_7=statistics.wilson(int(s["grade_7"]), int(s["grade_n"]), confidence, min_n=min_n),
            share_9=statistics.wilson(int(s["grade_9"]), int(s["grade_n"]), confidence, min_n=min_n),
            status=status,
        ))
    return rows


def moment_view(session: Session, journey_id: int, f: MetricFilter = MetricFilter(), *, outcome: str = "nps",
                min_n: int = 30, confidence: float = 0.95, language: str = "nl", source: str = "auto",
                alpha: float = 0.05) -> MomentView:
    """Per moment of a journey: kind, norm, score with interval, status and the PRCA check of its label."""
    journey = session.get(Journey, journey_id)
    if journey is None:
        raise LookupError(f"journey {journey_id} does not exist")
    f = replace(f, journey_id=journey_id, moment_id=None)
    moments = repo.moments(session, journey_id)
    rows = _moment_rows(session, f, moments, min_n=min_n, confidence=confidence, language=language, source=source)
    view = MomentView(journey_id, journey.name(language), outcome, rows)
    if not rows:
        view.prca_message = _t(language, "Deze klantreis heeft geen momenten.", "This journey has no moments.")
        return view
    # on the newest complete answers only (bounded work at any scale), remembered for a while; the figures
    # above still cover the whole window
    keys = [r.key for r in rows if r.n > 0]
    fingerprint = tuple((r.key, r.n, r.score.mean, r.share_7.share, r.share_9.share) for r in rows)
    check = label_check.run_label_check(session, f, keys, outcome, min_n=min_n, alpha=alpha, fingerprint=fingerprint)
    view.prca_n, view.prca_sampled = check.n, check.sampled
    if check.too_few:
        view.prca_message = _t(
            language,
            f"Te weinig volledige antwoorden ({check.n}) om te toetsen of de momenten zich gedragen naar hun label.",
            f"Too few complete answers ({check.n}) to check whether the moments behave as labelled.")
        return view
    if check.error is not None:
        view.prca_message = _t(language, f"De labelcontrole kon niet worden uitgevoerd: {check.error}",
                               f"The label check could not be run: {check.error}")
        return view
    result = check.result
    view.notes.extend(result.notes)
    by_key = {r.key: r for r in rows}
    for key, rec in result.table.iterrows():
        row = by_key[key]
        row.behaviour = str(rec["behaviour"])
        row.penalty = None if pd.isna(rec["penalty"]) else float(rec["penalty"])
        row.reward = None if pd.isna(rec["reward"]) else float(rec["reward"])
        row.label_check = statistics.check_label(row.kind, row.behaviour)
    return view


def _t(language: str, nl: str, en: str) -> str:
    return nl if language == "nl" else en


# -- key drivers -------------------------------------------------------------------

@dataclass
class DriverAnalysis:
    outcome: str
    drivers: list[str]
    n: int = 0
    r2: float | None = None
    table: pd.DataFrame | None = None  # by driver: relative_weight, dominance (both % of R2), slope, p_value, performance, quadrant
    message: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    correction: str = "holm"  # multiple-comparison correction of the slopes' p-values
    alpha: float = 0.05

    @property
    def ok(self) -> bool:
        return self.table is not None


DRIVER_LABELS = {
    "broken_promise": ("afspraak niet nagekomen", "broken promise"),
    "dark_period_over_2_days": ("meer dan 2 dagen stilte", "more than 2 days of silence"),
    "repeat_contact": ("herhaalcontact", "repeat contact"),
    "handoff": ("doorverbonden naar ander team", "handoff to another team"),
    "reopened": ("opnieuw geopend", "reopened"),
    "after_hours_contact": ("contact buiten openingstijden", "contact outside opening hours"),
    "channel_switch": ("kanaalwissel", "channel switch"),
    "proactive_update": ("proactieve update", "proactive update"),
    "first_time_right": ("in één keer goed", "first time right"),
}


def driver_frame(session: Session, f: MetricFilter, *, include: str = "case", outcome: str = "nps") -> pd.DataFrame:
    """X and y in one frame: the outcome column plus moment grades ("moments"), case facts ("case") or both ("all")."""
    if include not in ("case", "moments", "all"):
        raise ValueError(f"include must be 'case', 'moments' or 'all', got {include!r}")
    if outcome not in ("nps", "grade"):
        raise ValueError(f"outcome must be 'nps' or 'grade', got {outcome!r}")
    if include == "case":
        base = repo.response_outcomes(session, f)[["case_id", outcome]]
    else:
        if f.journey_id is None:
            raise ValueError("moment drivers need a journey")
        base = repo.moment_grade_frame(session, f)
        keys = [m.key for m in repo.moments(session, f.journey_id)]
        base = base.reindex(columns=["case_id", outcome] + keys)  # an empty period still names its moments
    if include in ("case", "all"):
        cases = repo.case_driver_frame(session, base["case_id"].dropna().astype("int64").tolist())
        base = base.join(cases, on="case_id", how="inner")
    return base.drop(columns=["case_id"])


HELPFUL_FACTS = ("proactive_update", "first_time_right")  # every other case fact is harmful


def key_drivers(session: Session, f: MetricFilter = MetricFilter(), *, include: str = "case", outcome: str = "nps",
                min_n: int = 30, language: str = "nl", alpha: float = 0.05, correction: str = "holm") -> DriverAnalysis:
    """Which drivers explain the outcome: relative weights and general dominance (% of R-squared).

    Per factor also: its ``direction`` (harmful/helpful), the partial regression slope (outcome points per
    driver point) with its p-value and the p-value corrected for the number of factors (``correction``,
    Holm by default), the ``univariate`` slope (the factor alone), for case facts the ``prevalence``, a
    ``performance`` that is "good" upwards for every factor (a harmful fact: how rarely it happens; a
    moment: its score) against its norm, and the quadrant of
    :func:`servicepulse.kernels.statistics.importance_performance.driver_grid` (never "priority" when not
    significant after the correction, "overlap" when collinearity turns the partial slope against the
    factor's direction).
    """
    frame = driver_frame(session, f, include=include, outcome=outcome)
    drivers = [c for c in frame.columns if c != outcome]
    analysis = DriverAnalysis(outcome, drivers)
    analysis.labels = {d: DRIVER_LABELS[d][0 if language == "nl" else 1] if d in DRIVER_LABELS else d for d in drivers}
    norms: dict[str, float] = {}
    if f.journey_id is not None and include != "case":
        for m in repo.moments(session, f.journey_id):
            analysis.labels[m.key] = m.name(language)
            norms[m.key] = float(m.norm if m.norm is not None else (9.0 if m.kind == "emotional" else 7.0))
    data = frame.dropna()
    analysis.n = len(data)
    if not drivers:
        analysis.message = _t(language, "Er zijn geen drivers om te analyseren.", "There are no drivers to analyse.")
        return analysis
    if len(data) < min_n:
        analysis.message = _t(
            language, f"Te weinig antwoorden ({len(data)}, minimaal {min_n}) voor een driveranalyse.",
            f"Too few answers ({len(data)}, at least {min_n}) for a driver analysis.")
        return analysis
    constant = [d for d in drivers if data[d].nunique() < 2]
    X = data[[d for d in drivers if d not in constant]].astype(float)
    y = data[outcome].astype(float)
    notes = []
    if constant:
        notes.append(_t(language, "Zonder variatie, dus weggelaten: ", "Without variation, so left out: ")
                     + ", ".join(analysis.labels[d] for d in constant) + ".")
    # a factor that is the exact mirror of an earlier one (e.g. first time right = no repeat contact in a
    # journey of single cases) says nothing of its own: left out, and said so
    corr = X.corr().abs()
    mirrors = [b for i, b in enumerate(X.columns) if any(corr.loc[a, b] > 1 - 1e-9 for a in X.columns[:i])]
    if mirrors:
        X = X.drop(columns=mirrors)
        notes.append(_t(language, "Spiegelbeeld van een andere factor, dus weggelaten: ",
                        "The mirror image of another factor, so left out: ")
                     + ", ".join(analysis.labels[d] for d in mirrors) + ".")
    try:
        rw = statistics.relative_weights_result(X, y)
        dom = statistics.dominance_result(X, y) if X.shape[1] <= 16 else None
        slopes = statistics.driver_slopes(X, y)
        univariate = statistics.univariate_slopes(X, y)
    except AnalyticsInputError as exc:
        analysis.message = " ".join(notes + [_t(language, f"De driveranalyse kon niet worden uitgevoerd: {exc}",
                                                f"The driver analysis could not be run: {exc}")])
        return analysis
    table = pd.DataFrame({"relative_weight": rw.rescaled_pct, "raw_weight": rw.weights})
    if dom is not None:
        table["dominance"] = dom.rescaled_pct
    table["slope"] = slopes["slope"]
    table["se"] = slopes["se"]
    table["p_value"] = slopes["p_value"]
    table["univariate"] = univariate
    is_moment = [d in norms for d in table.index]
    table["kind"] = ["moment" if m else "fact" for m in is_moment]
    table["direction"] = ["helpful" if (m or d in HELPFUL_FACTS) else "harmful" for d, m in zip(table.index, is_moment)]
    table["value"] = X.mean()
    table["prevalence"] = [None if m else float(v) for v, m in zip(table["value"], is_moment)]
    table["norm"] = [norms.get(d, float("nan")) for d in table.index]
    labelled_corr = X.corr().rename(index=analysis.labels, columns=analysis.labels)
    grid = statistics.driver_grid(
        table.rename(columns={"relative_weight": "importance"}).rename(index=analysis.labels),
        alpha=alpha, correction=correction, correlations=labelled_corr)
    grid.index = table.index
    for column in ("p_adjusted", "performance", "performance_norm", "gap", "quadrant", "against_direction",
                   "univariate_against"):
        table[column] = grid[column]
    table["quadrant_label"] = grid["label_nl" if language == "nl" else "label_en"]
    table["note"] = grid["note_nl" if language == "nl" else "note_en"]
    table["p_text"] = [statistics.format_p(p, language) for p in table["p_value"]]
    table["p_adjusted_text"] = [statistics.format_p(p, language) for p in table["p_adjusted"]]
    analysis.table = table.sort_values("relative_weight", ascending=False)
    analysis.r2 = rw.r2
    analysis.correction = correction
    analysis.alpha = alpha
    analysis.message = " ".join(notes) or None
    return analysis


# -- facts for the project scan -------------------------------------------------------

def moment_facts(session: Session, f: MetricFilter = MetricFilter(), *, outcome: str = "nps", min_n: int = 30,
                 language: str = "nl", source: str = "auto") -> tuple[dict[int, statistics.MomentFacts], list[str]]:
    """What the 7+/9+ scan needs per moment, over all journeys: kind, norm, score, volume and slope.

    The slope of each moment is its coefficient in the regression of the
    outcome on the moment grades of its own journey. Returns the facts by moment id and
    notes on journeys whose slopes could not be estimated (their moments get
    slope 0 with p = 1, so they count for nothing).
    """
    facts: dict[int, statistics.MomentFacts] = {}
    notes: list[str] = []
    for journey in repo.journeys(session):
        jf = replace(f, journey_id=journey.id, moment_id=None)
        moments = repo.moments(session, journey.id)
        if not moments:
            continue
        rows = _moment_rows(session, jf, moments, min_n=min_n, confidence=0.95, language=language, source=source)
        frame = repo.moment_grade_frame(session, jf)
        keys = [m.key for m in moments if m.key in frame.columns]
        slopes = None
        data = frame[keys + [outcome]].dropna() if keys else None
        if data is not None and len(data) >= max(min_n, len(keys) + 2):
            try:
                slopes = statistics.driver_slopes(data[keys].astype(float), data[outcome].astype(float))
            except AnalyticsInputError as exc:
                notes.append(f"{journey.name(language)}: {exc}")
        else:
            notes.append(_t(language, f"{journey.name(language)}: te weinig volledige antwoorden voor hellingen",
                            f"{journey.name(language)}: too few complete answers for slopes"))
        for row in rows:
            has = slopes is not None and row.key in slopes.index
            facts[row.id] = (statistics.MomentFacts(
                name=row.name, kind=row.kind, score=row.score.mean, n=row.n, norm=row.norm,
                slope=float(slopes.loc[row.key, "slope"]) if has else 0.0,
                p_value=float(slopes.loc[row.key, "p_value"]) if has else 1.0,
                se=float(slopes.loc[row.key, "se"]) if has else None,
            ))
    return facts, notes


# -- the overview -------------------------------------------------------------------

@dataclass
class Overview:
    headline: Figures
    previous: Figures | None
    change: Comparison | None
    trend: list[MetricRow]
    journeys: list[MetricRow]
    period: str
    filter: MetricFilter
    # what the change compares: (from, to) of the current and the previous span (to exclusive); complete
    # periods only, or the same number of days of both when the selection runs into today
    current_span: tuple[date, date] | None = None
    previous_span: tuple[date, date] | None = None
    running: bool = False  # the selection includes the running period (its figures are partial)
    today: date | None = None


def overview(session: Session, f: MetricFilter = MetricFilter(), *, period: str = "month", min_n: int = 30,
             method: str = "adjusted-wald", confidence: float = 0.95, language: str = "nl",
             source: str = "auto", today: date | None = None) -> Overview:
    """Headline figures with intervals, the change against a previous span, the trend and the journeys.

    The change never treats the running period as a whole one: with a date range that runs into today
    it compares the days that have passed with the same number of days one span earlier; without a
    date range it compares the last two complete periods of the trend (the running one is left out).
    """
    today = today or utc_today()
    headline = metrics(session, f, min_n=min_n, method=method, confidence=confidence, source=source)[0].figures
    trend = metrics(session, f, by="period", period=period, min_n=min_n, method=method, confidence=confidence,
                    language=language, source=source, today=today)
    current = previous_span = None
    if f.date_from is not None and f.date_to is not None:
        span = f.date_to - f.date_from
        end = min(f.date_to, today)
        if end > f.date_from:
            days = end - f.date_from
            current = (f.date_from, end)
            start = f.date_from - span
            if f.date_from.day == 1 and f.date_to == repo.next_month(f.date_from):  # a calendar month: the one before
                start = (f.date_from - timedelta(days=1)).replace(day=1)
            previous_span = (start, min(start + days, f.date_from))
    else:
        done = [r for r in trend if r.complete and r.key is not None]
        if len(done) >= 2:
            prev_start, cur_start = (date.fromisoformat(str(r.key)) for r in done[-2:])
            current = (cur_start, period_end(cur_start, period))
            previous_span = (prev_start, period_end(prev_start, period))
    previous = change = None
    if current is not None:
        now_f = replace(f, date_from=current[0], date_to=current[1])
        before = replace(f, date_from=previous_span[0], date_to=previous_span[1])
        previous = metrics(session, before, min_n=min_n, method=method, confidence=confidence, source=source)[0].figures
        change = compare_periods(session, before, now_f, min_n=min_n, confidence=confidence, language=language,
                                 source=source)[0]
    journeys = metrics(session, f, by="journey", min_n=min_n, method=method, confidence=confidence,
                       language=language, source=source)
    running = (f.date_to is None or f.date_to > today) and (f.date_from is None or f.date_from <= today)
    return Overview(headline, previous, change, trend, journeys, period, f, current, previous_span,
                    running and any(not r.complete for r in trend), today)


def month_filter(month: str) -> MetricFilter:
    """'2026-10' -> the UTC days of that month."""
    try:
        start = date.fromisoformat(f"{month}-01")
    except ValueError:
        raise AnalyticsInputError(f"month must look like 2026-10, got {month!r}") from None
    end = repo.next_month(start)
    return MetricFilter(date_from=start, date_to=end)


def figures_dict(fig: Figures) -> dict:
    """Plain JSON-ready numbers (None where there are too few answers)."""
    def share(s: ShareResult):
        return {"share": s.share, "low": s.low, "high": s.high, "n": s.n, "too_few": s.too_few}

    def mean(m: MeanResult):
        return {"mean": m.mean, "low": m.low, "high": m.high, "n": m.n, "too_few": m.too_few}

    return {
        "responses": fig.responses,
        "nps": {"score": fig.nps.score, "low": fig.nps.low, "high": fig.nps.high, "se": fig.nps.se, "n": fig.nps.n,
                "method": fig.nps.method, "detractors": fig.nps.detractors, "passives": fig.nps.passives,
                "promoters": fig.nps.promoters, "too_few": fig.nps.too_few},
        "grade": mean(fig.grade), "grade_7": share(fig.grade_7), "grade_9": share(fig.grade_9),
        "csat_top2": share(fig.csat_top2), "ces": mean(fig.ces), "ces_easy": share(fig.ces_easy),
    }


__all__ = [
    "Comparison", "DriverAnalysis", "Figures", "MetricRow", "MomentRow", "MomentView", "Overview",
    "compare_periods", "driver_frame", "last_complete_month", "period_complete", "period_end", "utc_today", "figures_dict", "figures_from_sums", "key_drivers", "metrics",
    "moment_facts", "moment_view", "month_filter", "overview", "period_starts",
]

