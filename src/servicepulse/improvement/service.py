"""Improvement projects and the 7+/9+ scan of their experience potential.

Framework-free; never commits. A project targets moments (improving their grade by ``expected_improvement``
points) and/or case drivers from :data:`servicepulse.metrics.CASE_DRIVERS` (for a driver,
``expected_improvement`` is read as the share 0-1 of affected cases the project prevents, capped at 1).

Every effect is told in the unit of the investment compass (``measure``): NPS points (promoters% -
detractors%) or grade points (the overall 1-10 grade), with the compass's slopes
(`servicepulse.investment.effect_slopes`: per journey, the measure regressed on the journey's moment grades,
HC3 standard errors) and its delta-method interval (`investment.effect_interval`). A project's effect is the
expected change of the measure over ALL respondents of the period (the figure /metrics shows), so effects
of different projects are comparable and their joint effect is meaningful:

- a moment: slope x counted points x reach, where counted = min(the plans on the moment, norm - score)
  (nothing is counted above the norm, of either kind) and reach = the moment's answers / all respondents
  with the measure. ``slope x counted`` is the effect among the customers who meet the moment: the number
  the compass shows for a moment lifted to its norm;
- a case fact: its slope in the regression of the measure on every case fact (respondents with a case),
  x the cases it can still change x the share changed, x those respondents' share of all respondents;
- a target without a significant effect in the expected direction (a moment: the slope's HC3 test; a case
  fact: Holm-corrected, as the key-driver page judges it) counts nothing.

Shared, never counted twice: projects on the same moment or fact pool their plans (up to what the target has
to give) and each gets the part in proportion to its own plan. The joint effect of all projects is computed
on the pooled targets (each counted once), and no effect passes the top of the measure's scale. The class
follows the project's moments: a functional moment is a 7+ (basics) target, an emotional one (a moment of
truth) a 9+ target. A case fact is how a project lifts its moments (a shorter silence shows in the
grade of the moment waited at), so the case facts of a project that also targets moments are shown but not
added (their effect would count the same improvement twice); a project with case facts only is judged on them
(a 7+ project: taking away effort is fixing the basics). The joint effect of moment projects is therefore at
most the effect of lifting every moment to its norm (``potential``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.stats import norm as normal
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from servicepulse import investment, metrics
from servicepulse.errors import NotFound, ValidationFailed
from servicepulse.kernels import statistics
from servicepulse.kernels.statistics.project_scan import CLASSES, TargetEffect, project_class
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
MEASURES = ("nps", "grade")  # the compass's units: NPS points or grade points
SCALES = {"nps": (-100.0, 100.0), "grade": (1.0, 10.0)}  # where the measure can go: no effect passes the top
MIN_LIFT = {"nps": 0.5, "grade": 0.05}  # below this effect over all customers a project has little potential
_UNIT = {"nps": ("NPS points", "NPS-punten"), "grade": ("grade points", "cijferpunten")}
_KIND_NL = {"functional": "functioneel", "emotional": "emotioneel"}


@dataclass(frozen=True)
class Why:
    """The facts of one plain sentence of why (the catalogue's ``improvement.why.<code>`` says it).

    Codes: ``fix_basics``, ``truth_below_basics``, ``win_moment`` (a moment the project improves),
    ``prevent``, ``add`` (a case fact it prevents or adds), and when nothing counts ``good_enough``,
    ``keep_it``, ``no_effect``, ``no_data``, ``no_targets``, ``through_moments`` (a case fact of a project that
    lifts moments: how it lifts them, not added).
    """

    code: str
    target: str = ""
    score: float | None = None  # the moment's mean grade now
    norm: float | None = None
    reach: float | None = None  # share of all respondents who meet the moment
    prevalence: float | None = None  # share of cases with the fact now
    effect: float | None = None  # measure points the fact costs (or adds) in a case
    share: float | None = None  # share of the cases the project changes
    others: int = 0  # other projects that address the same moment or fact (they share its effect)


@dataclass(frozen=True)
class TargetLift:
    """One target of a project: the project's part of the target's effect, with that part's interval.

    ``effect.lift`` is the part over all respondents, ``among`` the same part among the customers the target
    reaches (``effect.volume_share`` of all): ``lift = among x reach``."""

    key: tuple[str, object]  # ("moment", moment id) or ("driver", driver name)
    effect: TargetEffect  # counted and lift are this project's part; slope in the measure's units
    share: float  # this project's part of the target's effect: its plan over all plans on the target
    projects: int  # how many projects address the target
    low: float | None  # None: no standard error for the slope
    high: float | None
    capped: bool  # the top of the scale cut the target's effect
    why: Why
    among: float = 0.0
    among_low: float | None = None
    among_high: float | None = None


@dataclass
class ScanRow:
    project_id: int
    title: str
    owner: str | None
    cost: float | None
    scan: statistics.ProjectScan  # expected_lift: the measure's expected change over all respondents
    low: float | None = None  # the interval of scan.expected_lift (None when a slope had no standard error)
    high: float | None = None
    targets: list[TargetLift] = field(default_factory=list)
    why: Why = Why("no_targets")
    rank: int = 0
    capped: bool = False  # the project's effect was cut to what the scale leaves

    @property
    def lift_per_1000(self) -> float | None:
        """Measure points per 1,000 of cost: what a euro buys."""
        if not self.cost:
            return None
        return self.scan.expected_lift / self.cost * 1000


@dataclass
class ScanReport:
    rows: list[ScanRow]
    measure: str  # "nps" (NPS points) or "grade" (grade points): the unit of every effect
    notes: list[str]
    base: float | None = None  # the measure over all respondents now (the NPS or mean grade /metrics shows)
    base_n: int = 0
    scale: tuple[float, float] = SCALES["nps"]
    confidence: float = CONFIDENCE
    joint: float = 0.0  # every project together: each moment and case fact counted once, up to its norm
    joint_low: float | None = None
    joint_high: float | None = None
    joint_capped: bool = False  # the top of the scale cut the joint effect
    joint_moments: float = 0.0  # the moments' part of the joint effect
    potential: float = 0.0  # every moment with a clear effect lifted to its norm: the most moment projects give
    with_drivers: bool = False  # some project changes case facts: they act partly through the moments

    @property
    def outcome(self) -> str:  # the name the API has used
        return self.measure


@dataclass(frozen=True)
class _Pooled:
    """A target with the plans of every project on it together."""

    effect: TargetEffect
    among: float
    among_low: float | None
    among_high: float | None
    low: float | None
    high: float | None
    capped: bool
    why: Why
    plans: dict[int, float]  # project id -> its plan (moment points, or for a driver the share of cases 0-1)


def _fmt(value: float, digits: int, language: str, sign: bool = False) -> str:
    text = f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"
    return text.replace(".", ",") if language == "nl" else text


def _p_value(slope: investment.Slope) -> float:
    if not slope.se or not math.isfinite(slope.se):
        return 0.0 if slope.slope else 1.0
    return float(2 * normal.sf(abs(slope.slope) / slope.se))


def _bounded(lift: float, low: float | None, high: float | None, cap: float | None):
    """Cut an effect (and its interval) to what the scale leaves for the customers it reaches."""
    if cap is None:
        return lift, low, high, False
    low = None if low is None else min(low, cap)
    high = None if high is None else min(high, cap)
    return min(lift, cap), low, high, lift > cap + 1e-12


def _pooled_moment(fact: statistics.MomentFacts, slope: investment.Slope | None, plans: dict[int, float],
                   reach: float, alpha: float, room: float | None, measure: str) -> _Pooled:
    """Every plan on one moment together: slope x min(sum of plans, norm - score) x reach."""
    planned = sum(plans.values())
    kind = fact.kind
    norm = float(fact.norm) if fact.norm is not None else (9.0 if kind == "emotional" else 7.0)
    score = fact.score
    gap = 0.0 if score is None else max(0.0, norm - float(score))
    counted = min(planned, gap)
    s = 0.0 if slope is None else slope.slope
    significant = slope is not None and s > 0 and _p_value(slope) < alpha
    among = among_low = among_high = None
    if slope is not None:
        among, among_low, among_high = investment.effect_interval(slope, counted)
    if not significant or counted <= 0:
        among = 0.0
        among_low = None if among_low is None else min(0.0, among_low)
        among_high = None if among_high is None else max(0.0, among_high)
    lift, low, high, capped = _bounded(among * reach, None if among_low is None else among_low * reach,
                                       None if among_high is None else among_high * reach,
                                       None if room is None else room * reach)
    if capped:
        among = lift / reach
    role = ("7plus" if kind == "functional" else "9plus") if lift > 0 else None
    en, nl = _UNIT[measure]
    name = fact.name
    if score is None:
        reason_en = f"'{name}': no grade yet (too few answers), nothing counted"
        reason_nl = f"'{name}': nog geen cijfer (te weinig antwoorden), niets meegeteld"
    elif gap <= 0:
        reason_en = (f"'{name}' ({kind}): already at norm ({_fmt(score, 1, 'en')} >= {norm:g}), "
                     f"nothing counted")
        reason_nl = (f"'{name}' ({_KIND_NL.get(kind, kind)}): al op norm ({_fmt(score, 1, 'nl')} >= "
                     f"{_fmt(norm, 0 if norm.is_integer() else 1, 'nl')}), niets meegeteld")
    elif not significant:
        reason_en = (f"'{name}' ({kind}): no significant positive effect ({_fmt(s, 2, 'en', True)} {en} "
                     f"per grade point), nothing counted")
        reason_nl = (f"'{name}' ({_KIND_NL.get(kind, kind)}): geen significant positief effect "
                     f"({_fmt(s, 2, 'nl', True)} {nl} per cijferpunt), niets meegeteld")
    else:
        reason_en = (f"'{name}' ({kind}, {_fmt(score, 1, 'en')} against norm {norm:g}): plans "
                     f"{_fmt(planned, 1, 'en', True)}, counts {_fmt(counted, 2, 'en', True)} up to the norm; "
                     f"{_fmt(s, 2, 'en')} {en} per point = {_fmt(among, 2, 'en', True)} among the "
                     f"{reach:.0%} of customers who meet it = {_fmt(lift, 2, 'en', True)} over all customers")
        reason_nl = (f"'{name}' ({_KIND_NL.get(kind, kind)}, {_fmt(score, 1, 'nl')} tegen norm "
                     f"{_fmt(norm, 0 if norm.is_integer() else 1, 'nl')}): plan {_fmt(planned, 1, 'nl', True)}, "
                     f"telt {_fmt(counted, 2, 'nl', True)} tot de norm; {_fmt(s, 2, 'nl')} {nl} per punt = "
                     f"{_fmt(among, 2, 'nl', True)} bij de {reach:.0%} van de klanten die het meemaken = "
                     f"{_fmt(lift, 2, 'nl', True)} over alle klanten")
        if capped:
            reason_en += "; cut to the top of the scale"
            reason_nl += "; begrensd door de top van de schaal"
    effect = TargetEffect(moment=name, kind=kind, score=score, norm=norm, planned=planned,
                          counted=counted if lift > 0 else 0.0, slope=s, volume_share=reach, lift=lift, role=role,
                          reason_en=reason_en, reason_nl=reason_nl)
    base = dict(target=name, score=score, norm=norm, reach=reach)
    if lift > 0:
        status = statistics.moment_status(kind, norm, score).code
        code = ("win_moment" if status == "win_moment" else
                "truth_below_basics" if kind == "emotional" else "fix_basics")
    elif score is None:
        code = "no_data"
    elif gap <= 0:  # the plainer reason first, even when the slope is not significant either
        code = "good_enough" if kind == "functional" else "keep_it"
    else:
        code = "no_effect"
    return _Pooled(effect, among, among_low, among_high, low, high, capped, Why(code, **base), plans)


@dataclass
class _Drivers:
    table: object  # metrics.key_drivers' table (significance as the key-driver page judges it), or None
    slopes: dict  # driver -> investment.Slope in the measure's units
    n: int  # respondents in the regression


def _driver_analysis(session: Session, f: MetricFilter, measure: str, min_n: int, language: str,
                     notes: list[str]) -> _Drivers:
    """The case facts' slopes in the measure's units: the key-driver page's factors (and its Holm-corrected
    significance), regressed with the measure coded as the compass codes it (NPS: 100 / 0 / -100)."""
    analysis = metrics.key_drivers(session, f, include="case", outcome=measure, min_n=min_n, language=language)
    if analysis.message:
        notes.append(analysis.message)
    if analysis.table is None:
        return _Drivers(None, {}, 0)
    columns = list(analysis.table.index)
    frame = metrics.driver_frame(session, f, include="case", outcome=measure)
    data = frame[columns + [measure]].dropna()
    x = np.column_stack([np.ones(len(data)), data[columns].to_numpy(dtype=float)])
    y = investment.outcome_values(data[measure].astype(float), measure).to_numpy(dtype=float)
    try:
        coef, se = investment.hc3_ols(x, y)
    except np.linalg.LinAlgError:
        return _Drivers(None, {}, 0)
    slopes = {c: investment.Slope(float(coef[i + 1]), float(se[i + 1]), len(data)) for i, c in enumerate(columns)}
    return _Drivers(analysis.table, slopes, len(data))


def _pooled_driver(driver: str, plans: dict[int, float], drivers: _Drivers, reach: float, alpha: float,
                   room: float | None, language: str, measure: str) -> _Pooled:
    """Every plan on one case fact together: its effect in a case x cases it can change x share changed
    (at most all), x the share of all respondents in the analysis."""
    share = min(sum(plans.values()), 1.0)
    name_nl, name_en = DRIVER_LABELS[driver]
    name = name_nl if language == "nl" else name_en
    en, nl = _UNIT[measure]
    base = dict(moment=name, kind="driver", score=None, norm=0.0, planned=share, volume_share=reach)
    table = drivers.table
    if table is None or driver not in table.index or driver not in drivers.slopes:
        effect = TargetEffect(counted=0.0, slope=0.0, lift=0.0, role=None,
                              reason_en=f"'{name_en}': no driver analysis possible, nothing counted",
                              reason_nl=f"'{name_nl}': geen driveranalyse mogelijk, niets meegeteld", **base)
        why = Why("no_data" if table is None else "no_effect", target=name)
        return _Pooled(effect, 0.0, None, None, None, None, False, why, plans)
    row = table.loc[driver]
    slope = drivers.slopes[driver]
    p = float(row["p_adjusted"]) if "p_adjusted" in row.index else float(row["p_value"])
    prevalence = float(row["prevalence"])
    helpful = driver in POSITIVE_DRIVERS
    strength = slope.slope if helpful else -slope.slope  # measure points a case wins when the fact changes
    changeable = (1 - prevalence) if helpful else prevalence  # cases the project can still change
    significant = strength > 0 and p < alpha and (float(row["slope"]) > 0) == helpful
    half = _Z * slope.se * changeable * share if math.isfinite(slope.se) else None
    among = strength * changeable * share if significant else 0.0
    among_low = None if half is None else (among - half if significant else min(0.0, strength * changeable * share - half))
    among_high = None if half is None else max(0.0, strength * changeable * share + half)
    lift, low, high, capped = _bounded(among * reach, None if among_low is None else among_low * reach,
                                       None if among_high is None else among_high * reach,
                                       None if room is None else room * reach)
    if capped:
        among = lift / reach
    why = Why(("add" if helpful else "prevent") if significant else "no_effect", target=name,
              prevalence=prevalence, effect=strength, share=share)
    if not significant:
        reason_en = (f"'{name_en}': no significant effect (corrected p = {p:.2f}), nothing counted")
        reason_nl = (f"'{name_nl}': geen significant effect (gecorrigeerde p = {_fmt(p, 2, 'nl')}), "
                     "niets meegeteld")
    else:
        reason_en = (f"'{name_en}' ({changeable:.0%} of cases {'without' if helpful else 'with'} it, "
                     f"{'adds' if helpful else 'costs'} {_fmt(strength, 1, 'en')} {en} in a case): changes "
                     f"{share:.0%} of them = {_fmt(among, 2, 'en', True)} among the {reach:.0%} of customers "
                     f"with a case = {_fmt(lift, 2, 'en', True)} over all customers")
        reason_nl = (f"'{name_nl}' ({changeable:.0%} van de dossiers {'zonder' if helpful else 'met'}, "
                     f"{'levert' if helpful else 'kost'} {_fmt(strength, 1, 'nl')} {nl} per dossier): "
                     f"verandert {share:.0%} daarvan = {_fmt(among, 2, 'nl', True)} bij de {reach:.0%} van de "
                     f"klanten met een dossier = {_fmt(lift, 2, 'nl', True)} over alle klanten")
    effect = TargetEffect(counted=share if significant else 0.0, slope=slope.slope, lift=lift, role=None,
                          reason_en=reason_en, reason_nl=reason_nl, **base)
    return _Pooled(effect, among, among_low, among_high, low, high, capped, why, plans)


def _part(key: tuple[str, object], pool: _Pooled, project_id: int) -> TargetLift:
    """A project's part of a target: in proportion to its plan, so projects on one target share its effect
    and together count it once."""
    plan = pool.plans[project_id]
    total = sum(pool.plans.values())
    weight = plan / total if total > 0 else 1 / len(pool.plans)
    e = pool.effect
    lift = e.lift * weight
    reason_en, reason_nl = e.reason_en, e.reason_nl
    if len(pool.plans) > 1:
        reason_en += (f"; shared by {len(pool.plans)} projects in proportion to their plans, "
                      f"this project's part {weight:.0%} = {lift:+.2f}")
        reason_nl += (f"; gedeeld door {len(pool.plans)} projecten naar rato van hun plan, "
                      f"deel van dit project {weight:.0%} = {_fmt(lift, 2, 'nl', True)}")
    effect = TargetEffect(moment=e.moment, kind=e.kind, score=e.score, norm=e.norm, planned=plan,
                          counted=e.counted * weight, slope=e.slope, volume_share=e.volume_share, lift=lift,
                          role=e.role, reason_en=reason_en, reason_nl=reason_nl)

    def scaled(end: float | None) -> float | None:  # the effect is linear in the plan's weight, so is its interval
        return None if end is None else weight * end

    why = replace(pool.why, others=len(pool.plans) - 1)
    if key[0] == "driver":
        why = replace(why, share=min(plan, 1.0))
    return TargetLift(key, effect, weight, len(pool.plans), scaled(pool.low), scaled(pool.high), pool.capped, why,
                      among=pool.among * weight, among_low=scaled(pool.among_low), among_high=scaled(pool.among_high))


_NOTHING_ORDER = ("good_enough", "keep_it", "no_effect", "through_moments", "no_data")


def _project_why(parts: list[TargetLift]) -> Why:
    """The target that brings the most; when none brings anything, the plainest reason why not."""
    if not parts:
        return Why("no_targets")
    best = max(parts, key=lambda p: p.effect.lift)
    if best.effect.lift > 0:
        return best.why
    return min((p.why for p in parts), key=lambda w: _NOTHING_ORDER.index(w.code))


def _quadrature(point: float, lows: list[float | None], highs: list[float | None], points: list[float],
                room: float | None) -> tuple[float | None, float | None]:
    """An interval of a sum of targets' effects, their slopes taken as independent (half-widths in quadrature)."""
    if any(v is None for v in lows + highs):
        return None, None
    low = point - math.hypot(*(p - lo for p, lo in zip(points, lows)))
    high = point + math.hypot(*(hi - p for p, hi in zip(points, highs)))
    if room is not None:
        high = min(high, max(point, room))
    return low, high


def _classify(title: str, parts: list[TargetLift], lift: float, min_lift: float,
              measure: str) -> statistics.ProjectScan:
    en, nl = _UNIT[measure]
    code = project_class([p.effect for p in parts], lift, min_lift)
    if not parts:
        head_en = "Little experience potential: no moments or drivers with data are linked to this project."
        head_nl = "Weinig belevingspotentie: er zijn geen momenten of factoren met gegevens aan gekoppeld."
    elif code == "little_potential":
        head_en = (f"Little experience potential: expected effect {_fmt(lift, 2, 'en', True)} {en} over all "
                   f"customers, below {_fmt(min_lift, 2, 'en')}.")
        head_nl = (f"Weinig belevingspotentie: verwacht effect {_fmt(lift, 2, 'nl', True)} {nl} over alle "
                   f"klanten, onder {_fmt(min_lift, 2, 'nl')}.")
    else:
        head_en = f"Expected effect {_fmt(lift, 2, 'en', True)} {en} over all customers ({CLASSES[code][0]})."
        head_nl = f"Verwacht effect {_fmt(lift, 2, 'nl', True)} {nl} over alle klanten ({CLASSES[code][1]})."
    return statistics.ProjectScan(
        project=title, code=code, label_en=CLASSES[code][0], label_nl=CLASSES[code][1], expected_lift=lift,
        reasoning_en=" ".join([head_en] + [p.effect.reason_en + "." for p in parts]),
        reasoning_nl=" ".join([head_nl] + [p.effect.reason_nl + "." for p in parts]),
        targets=[p.effect for p in parts])


def _row(project: ImprovementProject, parts: list[TargetLift], room: float | None, min_lift: float,
         measure: str) -> ScanRow:
    total = sum(p.effect.lift for p in parts)
    capped = room is not None and total > room  # a project cannot pass the top either
    lift = min(total, room) if capped else total
    low, high = _quadrature(total, [p.low for p in parts], [p.high for p in parts],
                            [p.effect.lift for p in parts], room)
    if capped and low is not None:
        low = min(low, lift)
    return ScanRow(project.id, project.title, project.owner, project.cost,
                   _classify(project.title, parts, lift, min_lift, measure), low, high, parts,
                   _project_why(parts), capped=capped)


def scan(session: Session, f: MetricFilter = MetricFilter(), *, measure: str = "nps", min_n: int = 30,
         alpha: float = 0.05, min_lift: float | None = None, language: str = "nl",
         source: str = "auto", rank_by: str = "lift", outcome: str | None = None) -> ScanReport:
    """The 7+/9+ scan of every registered project, largest expected effect first (or, ``rank_by="per_euro"``,
    most effect per euro), in NPS points or grade points (``measure``; ``outcome`` is its old name) over all
    respondents of the filter's period, with the joint effect of all projects."""
    measure = outcome or measure
    if measure not in MEASURES:
        raise ValidationFailed(f"measure must be one of {', '.join(MEASURES)}, got {measure!r}",
                               [("measure", ", ".join(MEASURES))])
    min_lift = MIN_LIFT[measure] if min_lift is None else min_lift
    projects = list_projects(session)
    facts, notes = metrics.moment_facts(session, f, outcome="nps", min_n=min_n, language=language, source=source)
    headline = metrics.overview(session, f, min_n=min_n, language=language, source=source).headline
    figure = headline.nps if measure == "nps" else headline.grade
    base = figure.score if measure == "nps" else figure.mean
    base_n = int(figure.n or 0)
    room = None if base is None else max(0.0, SCALES[measure][1] - float(base))
    slopes = investment.effect_slopes(session, investment.moment_frame(session), measure, f.date_from, f.date_to,
                                      min_n) if facts else {}

    def reach_of(n: int) -> float:
        return min(1.0, n / base_n) if base_n else 0.0

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
    drivers = _Drivers(None, {}, 0)
    if any(kind == "driver" for kind, _ in plans):
        drivers = _driver_analysis(session, f, measure, min_n, language, notes)
    pooled = {
        key: (_pooled_moment(facts[key[1]], slopes.get(key[1]), p, reach_of(facts[key[1]].n), alpha, room, measure)
              if key[0] == "moment"
              else _pooled_driver(key[1], p, drivers, reach_of(drivers.n), alpha, room, language, measure))
        for key, p in plans.items()
    }
    parts = {project.id: [_part(key, pooled[key], project.id) for key in keys[project.id]] for project in projects}
    for project_parts in parts.values():
        if any(p.key[0] == "moment" for p in project_parts):  # its case facts are how it lifts its moments
            project_parts[:] = [_through_moments(p) if p.key[0] == "driver" else p for p in project_parts]
    rows = [_row(project, parts[project.id], room, min_lift, measure) for project in projects]
    rows.sort(key=lambda r: r.scan.expected_lift, reverse=True)
    if rank_by == "per_euro":  # experience potential per euro (the investment compass's question); no cost: last
        rows.sort(key=lambda r: (r.lift_per_1000 is None, -(r.lift_per_1000 or 0.0)))
    for rank, row in enumerate(rows, start=1):
        row.rank = rank
    report = ScanReport(rows, measure, notes, base=base, base_n=base_n, scale=SCALES[measure])
    _joint(report, [p for project_parts in parts.values() for p in project_parts], facts, slopes, reach_of, alpha,
           room)
    return report


def _through_moments(part: TargetLift) -> TargetLift:
    """A case fact of a project that also lifts moments: the fact is how the project lifts them (a shorter
    silence shows in the grade of the moment the customer waited at), so adding its own effect would count the
    same improvement twice. Shown, not added."""
    e = part.effect
    note_en, note_nl = "acts through the project's moments, not added", "werkt via de momenten van het project, niet opgeteld"
    effect = TargetEffect(moment=e.moment, kind=e.kind, score=e.score, norm=e.norm, planned=e.planned, counted=0.0,
                          slope=e.slope, volume_share=e.volume_share, lift=0.0, role=None,
                          reason_en=f"{e.reason_en}; {note_en}", reason_nl=f"{e.reason_nl}; {note_nl}")
    return replace(part, effect=effect, low=0.0, high=0.0, among=0.0, among_low=0.0, among_high=0.0,
                    why=replace(part.why, code="through_moments"))


def _joint(report: ScanReport, parts: list[TargetLift], facts: dict, slopes: dict, reach_of, alpha: float,
           room: float | None) -> None:
    """All projects together: every target once (projects on one moment or fact hold parts of it, so their
    parts add up to it once; each moment up to its norm), within the scale; and what lifting every moment with
    a clear effect to its norm would give."""
    total = sum(p.effect.lift for p in parts)
    report.joint_moments = sum(p.effect.lift for p in parts if p.key[0] == "moment")
    report.with_drivers = any(p.key[0] == "driver" and p.effect.lift > 0 for p in parts)
    report.joint_capped = room is not None and total > room
    report.joint = min(total, room) if report.joint_capped else total
    # one target's parts move together (one slope): their half-widths add before the targets' do in quadrature
    by_key: dict = {}
    for p in parts:
        point, low, high = by_key.get(p.key, (0.0, 0.0, 0.0))
        by_key[p.key] = (point + p.effect.lift, None if low is None or p.low is None else low + p.low,
                         None if high is None or p.high is None else high + p.high)
    points = [v[0] for v in by_key.values()]
    report.joint_low, report.joint_high = _quadrature(total, [v[1] for v in by_key.values()],
                                                      [v[2] for v in by_key.values()], points, room)
    if report.joint_capped and report.joint_low is not None:
        report.joint_low = min(report.joint_low, report.joint)
    potential = 0.0
    for moment_id, fact in facts.items():
        slope = slopes.get(moment_id)
        if fact.score is None or slope is None or slope.slope <= 0 or _p_value(slope) >= alpha:
            continue
        norm = float(fact.norm) if fact.norm is not None else (9.0 if fact.kind == "emotional" else 7.0)
        potential += slope.slope * max(0.0, norm - float(fact.score)) * reach_of(fact.n)
    report.potential = min(potential, room) if room is not None else potential


__all__ = ["CLASSES", "CONFIDENCE", "MEASURES", "SCALES", "ProjectInput", "ScanReport", "ScanRow", "TargetLift",
           "Why", "create_project", "get_project", "list_projects", "scan", "update_project"]
