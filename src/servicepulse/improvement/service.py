"""Improvement projects and the 7+/9+ scan of their experience potential.

Framework-free; never commits. A project targets moments (improving their
grade by ``expected_improvement`` points) and/or case drivers from
:data:`servicepulse.metrics.CASE_DRIVERS` (for a driver,
``expected_improvement`` is read as the share 0-1 of affected cases the
project prevents, capped at 1). The scan takes its facts from the data:

- moments: kind, norm, current mean grade, volume and slope in the regression
  of the overall score on the journey's moment grades
  (:func:`servicepulse.metrics.moment_facts`, with the slope's standard
  error), scored by
  :func:`servicepulse.kernels.statistics.scan_projects`;
- drivers: the slope of the driver in the regression of the overall score on
  all case drivers, its standard error and its prevalence; a driver without a
  significant effect in the expected direction (Holm-corrected, as on the
  key-driver page) adds nothing.

Three rules keep the figures honest:

- shared, never counted twice: projects on the same moment or fact pool their
  plans (up to what the target has to give) and each gets the part of the
  target's lift in proportion to its own plan;
- bounded by the scale: a target's lift is at most (top of the outcome's scale
  - its current mean) x the share of customers it reaches, a project's at most
  (top - current mean);
- an interval: the lift at the ends of the slope's 95% confidence interval,
  the targets of one project added in quadrature (as if independent).

The class follows the project's moments (a driver is the mechanism through
which a moment improves): driver lifts add to the expected lift but not to
the 7+/9+ split, so a project with drivers only is a 7+ project (taking away
effort is fixing the basics) when its lift is large enough. Moment and driver
lifts of one project may overlap, so its total is an upper bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from scipy.stats import norm as normal
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from servicepulse import metrics
from servicepulse.errors import NotFound, ValidationFailed
from servicepulse.improvement import repository
from servicepulse.kernels import statistics
from servicepulse.kernels.statistics.project_scan import CLASSES, TargetEffect, _classify
from servicepulse.metrics import CASE_DRIVERS, DRIVER_LABELS, MetricFilter
from servicepulse.models import ImprovementProject, Moment, ProjectTarget

STATUSES = ("proposed", "running", "done", "cancelled")
POSITIVE_DRIVERS = ("proactive_update", "first_time_right")


@dataclass
class ProjectInput:
    title: str
    description: str | None = None
    owner: str | None = None
    cost: float | None = None
    expected_improvement: float = 0.5
    status: str = "proposed"
    moment_ids: tuple[int, ...] = ()
    drivers: tuple[str, ...] = ()


def validate(session: Session, data: ProjectInput) -> list[tuple[str, str]]:
    """Every problem with the input as (field, message); empty when it can be saved."""
    problems = []
    if not (data.title or "").strip():
        problems.append(("title", "a project needs a title"))
    elif len(data.title) > 200:
        problems.append(("title", "the title is longer than 200 characters"))
    if data.cost is not None and data.cost < 0:
        problems.append(("cost", f"cost cannot be negative, got {data.cost}"))
    if not data.expected_improvement or data.expected_improvement <= 0:
        problems.append(("expected_improvement", "the expected improvement must be a positive number"))
    if data.status not in STATUSES:
        problems.append(("status", f"status must be one of {', '.join(STATUSES)}, got {data.status!r}"))
    if not data.moment_ids and not data.drivers:
        problems.append(("targets", "link the project to at least one moment or driver"))
    unknown_drivers = [d for d in data.drivers if d not in CASE_DRIVERS]
    if unknown_drivers:
        problems.append(("drivers", f"unknown driver(s) {', '.join(unknown_drivers)}; known: {', '.join(CASE_DRIVERS)}"))
    if data.moment_ids:
        known = set(session.scalars(select(Moment.id).where(Moment.id.in_(list(data.moment_ids)))))
        missing = [str(m) for m in data.moment_ids if m not in known]
        if missing:
            problems.append(("moment_ids", f"no moment with id {', '.join(missing)}"))
    return problems


def _check(session: Session, data: ProjectInput) -> None:
    problems = validate(session, data)
    if problems:
        raise ValidationFailed("the project could not be saved: " + "; ".join(f"{f}: {m}" for f, m in problems),
                               problems)


def _apply(project: ImprovementProject, data: ProjectInput) -> None:
    project.title = data.title.strip()
    project.description = (data.description or "").strip() or None
    project.owner = (data.owner or "").strip() or None
    project.cost = data.cost
    project.expected_improvement = float(data.expected_improvement)
    project.status = data.status
    project.targets = [ProjectTarget(moment_id=m) for m in dict.fromkeys(data.moment_ids)] + [
        ProjectTarget(driver=d) for d in dict.fromkeys(data.drivers)]


def create_project(session: Session, data: ProjectInput) -> ImprovementProject:
    _check(session, data)
    project = ImprovementProject()
    _apply(project, data)
    session.add(project)
    session.flush()
    return project


def update_project(session: Session, project_id: int, data: ProjectInput) -> ImprovementProject:
    project = get_project(session, project_id)
    _check(session, data)
    _apply(project, data)
    session.flush()
    return project


def get_project(session: Session, project_id: int) -> ImprovementProject:
    project = session.get(ImprovementProject, project_id, options=[selectinload(ImprovementProject.targets)])
    if project is None:
        raise NotFound(f"improvement project {project_id} does not exist")
    return project


def list_projects(session: Session) -> list[ImprovementProject]:
    return list(session.scalars(select(ImprovementProject).options(selectinload(ImprovementProject.targets))
                                .order_by(ImprovementProject.id)))


# -- the scan -----------------------------------------------------------------------

CONFIDENCE = 0.95
_Z = float(normal.ppf(0.5 + CONFIDENCE / 2))
# The outcome's answer scale (bottom, top): the recommendation question 0-10, the grade 1-10.
SCALES = {"nps": (0.0, 10.0), "grade": (1.0, 10.0)}


@dataclass(frozen=True)
class Why:
    """The facts of one plain sentence of why (the catalogue's ``improvement.why.<code>`` says it).

    Codes: ``fix_basics``, ``truth_below_basics``, ``win_moment`` (a moment the project improves),
    ``prevent``, ``add`` (a case fact it prevents or adds), and when nothing counts ``good_enough``,
    ``keep_it``, ``no_effect``, ``no_data``, ``no_targets``.
    """

    code: str
    target: str = ""
    score: float | None = None  # the moment's mean grade now
    norm: float | None = None
    reach: float | None = None  # share of customers who meet the moment
    prevalence: float | None = None  # share of cases with the fact now
    effect: float | None = None  # overall points the fact costs (or adds) in a case
    share: float | None = None  # share of the cases the project changes
    others: int = 0  # other projects that address the same moment or fact (they share its lift)


@dataclass(frozen=True)
class TargetLift:
    """One target of a project: the project's part of the target's lift, with that part's interval."""

    key: tuple[str, object]  # ("moment", moment id) or ("driver", driver name)
    effect: TargetEffect  # counted and lift are this project's part
    share: float  # this project's part of the target's lift: its plan over all plans on the target
    projects: int  # how many projects address the target
    low: float | None  # None: no standard error for the slope
    high: float | None
    capped: bool  # the top of the scale cut the target's lift
    why: Why


@dataclass
class ScanRow:
    project_id: int
    title: str
    owner: str | None
    cost: float | None
    scan: statistics.ProjectScan
    low: float | None = None  # the interval of scan.expected_lift (None when a slope had no standard error)
    high: float | None = None
    targets: list[TargetLift] = field(default_factory=list)
    why: Why = Why("no_targets")
    rank: int = 0
    capped: bool = False  # the project's lift was cut to what the scale leaves

    @property
    def lift_per_1000(self) -> float | None:
        """Overall points per 1,000 of cost: what a euro buys."""
        if not self.cost:
            return None
        return self.scan.expected_lift / self.cost * 1000


@dataclass
class ScanReport:
    rows: list[ScanRow]
    outcome: str  # "nps" (the 0-10 recommendation question) or "grade" (the 1-10 grade): the lift's unit
    notes: list[str]
    current: float | None = None  # the outcome's mean now: lifts stop at the top of the scale
    scale: tuple[float, float] = SCALES["nps"]
    confidence: float = CONFIDENCE
    over_scale: bool = False  # all projects together would lift the mean past the top of the scale


@dataclass(frozen=True)
class _Ceiling:
    """The top of the outcome's scale and where the mean stands now."""

    top: float
    current: float

    @property
    def room(self) -> float:
        return max(0.0, self.top - self.current)


@dataclass(frozen=True)
class _Pooled:
    """A target with the plans of every project on it together."""

    effect: TargetEffect
    low: float | None
    high: float | None
    capped: bool
    why: Why
    plans: dict[int, float]  # project id -> its plan (moment points, or for a driver the share of cases 0-1)


def _bounded(effect: TargetEffect, low: float | None, high: float | None, reach: float,
             ceiling: _Ceiling | None) -> tuple[TargetEffect, float | None, float | None, bool]:
    """Cut a lift (and its interval) to (top - current) x reach: the customers reached cannot pass the top."""
    if ceiling is None:
        return effect, low, high, False
    cap = ceiling.room * reach
    low = None if low is None else min(low, cap)
    high = None if high is None else min(high, cap)
    if effect.lift <= cap:
        return effect, low, high, False
    top, now = ceiling.top, ceiling.current
    return replace(
        effect, lift=cap,
        reason_en=effect.reason_en + (f"; at most {cap:+.2f}: the mean cannot pass {top:g} "
                                      f"(now {now:.2f}) for the {reach:.0%} reached"),
        reason_nl=effect.reason_nl + (f"; hoogstens {cap:+.2f}: het gemiddelde kan niet boven {top:g} "
                                      f"(nu {now:.2f}) voor de {reach:.0%} die het bereikt").replace(".", ","),
    ), low, high, True


def _moment_lift(fact: statistics.MomentFacts, planned: float, slope: float, p_value: float | None,
                 total_n: int | None, alpha: float) -> TargetEffect:
    project = statistics.Project(fact.name, {fact.name: planned})
    facts = {fact.name: replace(fact, slope=slope, p_value=p_value)}
    return statistics.scan_projects([project], facts, total_n=total_n, alpha=alpha)[0].targets[0]


def _pooled_moment(fact: statistics.MomentFacts, plans: dict[int, float], total_n: int | None, alpha: float,
                   ceiling: _Ceiling | None) -> _Pooled:
    """Every plan on one moment together: slope x min(sum of plans, room to the ceiling) x volume share."""
    planned = sum(plans.values())
    effect = _moment_lift(fact, planned, fact.slope, fact.p_value, total_n, alpha)
    low = high = None
    se = fact.se
    if se is not None and math.isfinite(se):
        # the lift is linear in the slope: its interval is the lift at the ends of the slope's interval
        high = _moment_lift(fact, planned, fact.slope + _Z * se, None, total_n, alpha).lift
        low = _moment_lift(fact, planned, fact.slope - _Z * se, None, total_n, alpha).lift if effect.lift > 0 else 0.0
    # the customers who meet the moment are taken to stand where everyone does (their own mean is not known here)
    effect, low, high, capped = _bounded(effect, low, high, effect.volume_share, ceiling)
    base = dict(target=fact.name, score=fact.score, norm=effect.norm, reach=effect.volume_share)
    status = statistics.moment_status(effect.kind, effect.norm, fact.score).code
    if effect.lift > 0:
        code = ("win_moment" if status == "win_moment" else
                "truth_below_basics" if effect.kind == "emotional" else "fix_basics")
    elif fact.score is None:
        code = "no_data"
    elif fact.score >= effect.norm:  # the plainer reason first, even when the slope is not significant either
        code = "good_enough" if effect.kind == "functional" else "keep_it"
    else:
        code = "no_effect"
    return _Pooled(effect, low, high, capped, Why(code, **base), plans)


def _pooled_driver(driver: str, plans: dict[int, float], table, alpha: float, ceiling: _Ceiling | None,
                   language: str) -> _Pooled:
    """Every plan on one case fact together: |slope| x cases with (or without) it x share changed (at most all)."""
    share = min(sum(plans.values()), 1.0)
    name_nl, name_en = DRIVER_LABELS[driver]
    name = name_nl if language == "nl" else name_en
    base = dict(moment=name, kind="driver", score=None, norm=0.0, planned=share, volume_share=1.0)
    if table is None or driver not in table.index:  # no analysis, or the fact was left out of it (no variation)
        effect = TargetEffect(counted=0.0, slope=0.0, lift=0.0, role=None,
                              reason_en=f"'{name_en}': no driver analysis possible, nothing counted",
                              reason_nl=f"'{name_nl}': geen driveranalyse mogelijk, niets meegeteld", **base)
        why = Why("no_data" if table is None else "no_effect", target=name)
        return _Pooled(effect, None, None, False, why, plans)
    row = table.loc[driver]
    slope, se = float(row["slope"]), float(row["se"])
    # significance as the key-driver page judges it: corrected for the number of factors tested
    p = float(row["p_adjusted"]) if "p_adjusted" in row.index else float(row["p_value"])
    prevalence = float(row["prevalence"])
    helpful = driver in POSITIVE_DRIVERS
    strength = slope if helpful else -slope  # overall points a case wins when the project changes the fact
    room = (1 - prevalence) if helpful else prevalence  # cases the project can still change

    def lift_at(points: float) -> float:
        return max(points, 0.0) * room * share

    significant = strength > 0 and p < alpha
    lift = lift_at(strength) if significant else 0.0
    high = lift_at(strength + _Z * se) if math.isfinite(se) else None
    low = (lift_at(strength - _Z * se) if significant else 0.0) if math.isfinite(se) else None
    why = Why(("add" if helpful else "prevent") if significant else "no_effect", target=name,
              prevalence=prevalence, effect=strength, share=share)
    if not significant:
        effect = TargetEffect(
            counted=0.0, slope=slope, lift=0.0, role=None,
            reason_en=(f"'{name_en}': no significant effect on the overall score "
                       f"(slope {slope:+.2f}, corrected p = {p:.2f}), nothing counted"),
            reason_nl=(f"'{name_nl}': geen significant effect op het totaaloordeel "
                       f"(helling {slope:+.2f}, gecorrigeerde p = {p:.2f}), niets meegeteld").replace(".", ","),
            **base)
        return _Pooled(effect, low, high, False, why, plans)
    effect = TargetEffect(
        counted=share, slope=slope, lift=lift, role=None,
        reason_en=(f"'{name_en}' ({room:.0%} of cases {'without' if helpful else 'with'} it, "
                   f"{'adds' if helpful else 'costs'} {strength:.2f} points): changes {share:.0%} of them "
                   f"= {lift:+.2f}"),
        reason_nl=(f"'{name_nl}' ({room:.0%} van de zaken {'zonder' if helpful else 'met'}, "
                   f"{'levert' if helpful else 'kost'} {strength:.2f} punt): verandert {share:.0%} daarvan "
                   f"= {lift:+.2f}").replace(".", ","),
        **base)
    if ceiling is not None and "univariate" in row.index and math.isfinite(float(row["univariate"])):
        # the cases the project changes start from their own mean, not everyone's: with a 0/1 fact the
        # univariate slope is (mean with it - mean without it), so the two means follow from the overall one
        gap = float(row["univariate"])
        ceiling = replace(ceiling, current=ceiling.current - prevalence * gap if helpful
                          else ceiling.current + (1 - prevalence) * gap)
    effect, low, high, capped = _bounded(effect, low, high, room * share, ceiling)
    return _Pooled(effect, low, high, capped, why, plans)


def _part(key: tuple[str, object], pool: _Pooled, project_id: int) -> TargetLift:
    """A project's part of a target: in proportion to its plan, so projects on one target share its lift
    and together count it once."""
    plan = pool.plans[project_id]
    total = sum(pool.plans.values())
    weight = plan / total if total > 0 else 1 / len(pool.plans)
    e = pool.effect
    lift = e.lift * weight
    effect = replace(e, planned=plan, counted=e.counted * weight, lift=lift)
    if len(pool.plans) > 1:
        effect = replace(
            effect,
            reason_en=e.reason_en + (f"; shared by {len(pool.plans)} projects in proportion to their plans, "
                                     f"this project's part {weight:.0%} = {lift:+.2f}"),
            reason_nl=e.reason_nl + (f"; gedeeld door {len(pool.plans)} projecten naar rato van hun plan, "
                                     f"deel van dit project {weight:.0%} = {lift:+.2f}").replace(".", ","))
    low = None if pool.low is None else lift - weight * (e.lift - pool.low)
    high = None if pool.high is None else lift + weight * (pool.high - e.lift)
    why = replace(pool.why, others=len(pool.plans) - 1)
    if key[0] == "driver":
        why = replace(why, share=min(plan, 1.0))
    return TargetLift(key, effect, weight, len(pool.plans), low, high, pool.capped, why)


_NOTHING_ORDER = ("good_enough", "keep_it", "no_effect", "no_data")


def _project_why(parts: list[TargetLift]) -> Why:
    """The target that brings the most; when none brings anything, the plainest reason why not."""
    if not parts:
        return Why("no_targets")
    best = max(parts, key=lambda p: p.effect.lift)
    if best.effect.lift > 0:
        return best.why
    return min((p.why for p in parts), key=lambda w: _NOTHING_ORDER.index(w.code))


def _row(project: ImprovementProject, parts: list[TargetLift], ceiling: _Ceiling | None,
         min_lift: float) -> ScanRow:
    capped = False
    total = sum(p.effect.lift for p in parts)
    if ceiling is not None and total > ceiling.room:  # a project cannot pass the top either
        factor = ceiling.room / total
        parts = [replace(p, effect=replace(p.effect, lift=p.effect.lift * factor),
                         low=None if p.low is None else p.low * factor,
                         high=None if p.high is None else p.high * factor) for p in parts]
        capped = True
    scan = _classify(project.title, [p.effect for p in parts], min_lift)
    point = scan.expected_lift
    low = high = None
    if all(p.low is not None and p.high is not None for p in parts):
        # The targets' slopes are treated as independent: their half-widths add in quadrature.
        low = max(0.0, point - math.hypot(*(p.effect.lift - p.low for p in parts)))
        high = point + math.hypot(*(p.high - p.effect.lift for p in parts))
        if ceiling is not None:
            high = min(high, max(point, ceiling.room))
    return ScanRow(project.id, project.title, project.owner, project.cost, scan, low, high, parts,
                   _project_why(parts), capped=capped)


def scan(session: Session, f: MetricFilter = MetricFilter(), *, outcome: str = "nps", min_n: int = 30,
         alpha: float = 0.05, min_lift: float = 0.05, language: str = "nl",
         source: str = "auto", rank_by: str = "lift") -> ScanReport:
    """The 7+/9+ scan of every registered project, largest expected lift first.

    Projects that address the same moment or case fact share its lift in proportion to their plans
    (``expected_improvement``; for a fact capped at 1): the plans count together up to what the target
    has to give, and each project gets its part, so no lift is counted twice. Every lift stops at the top
    of the outcome's scale: at most (top - current mean) x the share of customers reached.
    """
    projects = list_projects(session)
    facts, notes = metrics.moment_facts(session, f, outcome=outcome, min_n=min_n, language=language, source=source)
    plans: dict[tuple[str, object], dict[int, float]] = {}
    keys: dict[int, list[tuple[str, object]]] = {}
    for project in projects:
        keys[project.id] = []
        for t in project.targets:
            if t.moment_id is not None and t.moment_id in facts:
                key, plan = ("moment", t.moment_id), float(project.expected_improvement)
            elif t.driver:
                key, plan = ("driver", t.driver), min(float(project.expected_improvement), 1.0)
            else:
                continue
            plans.setdefault(key, {})[project.id] = plan
            keys[project.id].append(key)
    driver_table = None
    if any(kind == "driver" for kind, _ in plans):
        analysis = metrics.key_drivers(session, f, include="case", outcome=outcome, min_n=min_n, language=language)
        driver_table = analysis.table
        if analysis.message:
            notes.append(analysis.message)
    current, _ = repository.outcome_mean(session, outcome, f)
    ceiling = None if current is None else _Ceiling(SCALES[outcome][1], current)
    total_n = max((fact.n for fact in facts.values()), default=0) or None
    pooled = {
        key: (_pooled_moment(facts[key[1]], p, total_n, alpha, ceiling) if key[0] == "moment"
              else _pooled_driver(key[1], p, driver_table, alpha, ceiling, language))
        for key, p in plans.items()
    }
    rows = [_row(project, [_part(key, pooled[key], project.id) for key in keys[project.id]], ceiling, min_lift)
            for project in projects]
    rows.sort(key=lambda r: r.scan.expected_lift, reverse=True)
    if rank_by == "per_euro":  # experience potential per euro (the investment compass's question); no cost: last
        rows.sort(key=lambda r: (r.lift_per_1000 is None, -(r.lift_per_1000 or 0.0)))
    for rank, row in enumerate(rows, start=1):
        row.rank = rank
    over = ceiling is not None and sum(r.scan.expected_lift for r in rows) > ceiling.room
    return ScanReport(rows, outcome, notes, current=current, scale=SCALES[outcome], over_scale=over)


__all__ = ["CLASSES", "CONFIDENCE", "SCALES", "ProjectInput", "ScanReport", "ScanRow", "TargetLift", "Why",
           "create_project", "get_project", "list_projects", "scan", "update_project"]
