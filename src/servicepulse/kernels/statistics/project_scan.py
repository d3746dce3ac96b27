"""The 7+/9+ scan of improvement projects: which projects can move the experience?

For each project and each moment it targets, the expected lift in the overall
score is::

    lift = slope * min(planned improvement, room to the ceiling) * volume share

- ``slope``: overall-score points per moment-score point (e.g. from
  :func:`servicepulse.kernels.statistics.drivers.driver_slopes`). A moment without a
  significant positive slope (``p_value >= alpha`` or slope <= 0) adds nothing.
- ceiling: for a *functional* moment the norm (default 7), because beyond
  "good enough" customers hardly notice; for an *emotional* moment below its
  norm (default 9) the top of the scale (``emotional_ceiling``, default 10).
  A functional moment at its norm or an emotional one already at 9+ has no
  room counted.
- volume share: the moment's number of answers over ``total_n`` (by default
  the largest n among the moments), since a moment few customers meet moves
  the overall score little.

A project is a "7+ project" or "9+ project" by which kind of lift dominates,
and "little experience potential" when its total lift is below ``min_lift``
overall points. Each result carries the reasoning in English and Dutch with
the numbers, so that a manager can check it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from .errors import AnalyticsInputError
from .moments import DEFAULT_NORMS, normalise_kind

CLASSES: dict[str, tuple[str, str]] = {
    "7plus": ("7+ project", "7+-project"),
    "9plus": ("9+ project", "9+-project"),
    "little_potential": ("little experience potential", "weinig belevingspotentie"),
}
_KIND_NL = {"functional": "functioneel", "emotional": "emotioneel"}


@dataclass(frozen=True)
class MomentFacts:
    """What the data say about one moment (pure input, filled by the caller)."""

    name: str
    kind: str  # "functional" or "emotional"
    score: float | None  # current mean score; None when too few answers
    n: int  # answers (volume)
    slope: float  # overall points per moment point
    norm: float | None = None  # None: 7.0 functional, 9.0 emotional
    p_value: float | None = None  # of the slope; None: trust the slope's sign
    importance: float | None = None  # share of R-squared, for the reasoning only
    se: float | None = None  # standard error of the slope (the lift's interval); None: unknown


@dataclass(frozen=True)
class Project:
    """An improvement project and its planned improvement per moment (score points)."""

    name: str
    targets: Mapping[str, float]


@dataclass(frozen=True)
class TargetEffect:
    """One project-moment pair: how much of the plan counts and what it yields."""

    moment: str
    kind: str
    score: float | None
    norm: float
    planned: float
    counted: float  # min(planned, room) when the moment qualifies, else 0
    slope: float
    volume_share: float
    lift: float
    role: str | None  # "7plus", "9plus" or None
    reason_en: str
    reason_nl: str


@dataclass(frozen=True)
class ProjectScan:
    """Scan result for one project."""

    project: str
    code: str  # "7plus", "9plus", "little_potential"
    label_en: str
    label_nl: str
    expected_lift: float  # overall-score points
    reasoning_en: str
    reasoning_nl: str
    targets: list[TargetEffect] = field(default_factory=list)


def _en(x: float, digits: int = 2, sign: bool = False) -> str:
    return f"{x:+.{digits}f}" if sign else f"{x:.{digits}f}"


def _nl(x: float, digits: int = 2, sign: bool = False) -> str:
    return _en(x, digits, sign).replace(".", ",")


def _check_number(value: object, what: str) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise AnalyticsInputError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise AnalyticsInputError(f"{what} must be a finite number, got {value!r}")
    return number


def _effect(project: str, moment: MomentFacts, planned: float, total_n: int, alpha: float,
            emotional_ceiling: float) -> TargetEffect:
    kind = normalise_kind(moment.kind)
    norm = DEFAULT_NORMS[kind] if moment.norm is None else _check_number(moment.norm, f"norm of {moment.name!r}")
    share = min(1.0, moment.n / total_n) if total_n else 0.0
    slope = _check_number(moment.slope, f"slope of {moment.name!r}")
    name = moment.name
    base = dict(moment=name, kind=kind, score=moment.score, norm=norm, planned=planned, slope=slope,
                volume_share=share)
    kind_nl = _KIND_NL[kind]

    def none(reason_en: str, reason_nl: str) -> TargetEffect:
        return TargetEffect(counted=0.0, lift=0.0, role=None, reason_en=f"'{name}' ({kind}): {reason_en}",
                            reason_nl=f"'{name}' ({kind_nl}): {reason_nl}", **base)

    if moment.score is None:
        return none("no score yet (too few answers), nothing counted",
                    "nog geen score (te weinig antwoorden), niets meegeteld")
    score = _check_number(moment.score, f"score of {name!r}")
    if slope <= 0 or (moment.p_value is not None and moment.p_value >= alpha):
        p_en = f", p = {moment.p_value:.2f}" if moment.p_value is not None else ""
        p_nl = f", p = {_nl(moment.p_value)}" if moment.p_value is not None else ""
        return none(f"no significant effect on the overall score (slope {_en(slope)}{p_en}), nothing counted",
                    f"geen significant effect op het totaaloordeel (helling {_nl(slope)}{p_nl}), niets meegeteld")
    if kind == "functional":
        if score >= norm:
            return none(f"already at norm ({_en(score, 1)} >= {_en(norm, 1)}): good enough, nothing counted",
                        f"al op norm ({_nl(score, 1)} >= {_nl(norm, 1)}): goed genoeg, niets meegeteld")
        room, role = norm - score, "7plus"
        upto_en, upto_nl = "up to the norm", "tot de norm"
    else:
        if score >= norm:
            return none(f"already at {_en(norm, 0)}+ ({_en(score, 1)}): keep it, nothing counted",
                        f"al op {_nl(norm, 0)}+ ({_nl(score, 1)}): vasthouden, niets meegeteld")
        room, role = max(0.0, emotional_ceiling - score), "9plus"
        upto_en, upto_nl = f"up to {_en(emotional_ceiling, 0)}", f"tot {_nl(emotional_ceiling, 0)}"
    counted = min(planned, room)
    lift = slope * counted * share
    return TargetEffect(
        counted=counted, lift=lift, role=role,
        reason_en=(f"'{name}' ({kind}, {_en(score, 1)} below norm {_en(norm, 1)}): plans {_en(planned, 1, True)}, "
                   f"counts {_en(counted, 1, True)} {upto_en}; slope {_en(slope)} x volume share {share:.0%} "
                   f"= {_en(lift, 2, True)}"),
        reason_nl=(f"'{name}' ({kind_nl}, {_nl(score, 1)} onder norm {_nl(norm, 1)}): plan {_nl(planned, 1, True)}, "
                   f"telt {_nl(counted, 1, True)} {upto_nl}; helling {_nl(slope)} x volumeaandeel "
                   f"{share:.0%} = {_nl(lift, 2, True)}"),
        **base,
    )


def scan_projects(
    projects: Iterable[Project],
    moments: Iterable[MomentFacts] | Mapping[str, MomentFacts],
    *,
    total_n: int | None = None,
    alpha: float = 0.05,
    min_lift: float = 0.05,
    emotional_ceiling: float = 10.0,
) -> list[ProjectScan]:
    """Estimate each project's lift of the overall score and classify it (largest lift first).

    Args:
        projects: the projects with their targeted moments and planned improvement.
        moments: facts per moment (a list, or a mapping by name).
        total_n: respondents the overall score is based on; default the largest moment n.
        alpha: significance level for a moment's slope.
        min_lift: below this many overall points a project has little potential.
        emotional_ceiling: top of the moment scale for emotional moments.
    """
    facts = dict(moments) if isinstance(moments, Mapping) else {m.name: m for m in moments}
    for name, moment in facts.items():
        if moment.n is None or moment.n < 0:
            raise AnalyticsInputError(f"moment {name!r}: n (number of answers) must be 0 or more, got {moment.n!r}")
    largest = max((m.n for m in facts.values()), default=0)
    total = largest if total_n is None else int(total_n)
    if total_n is not None and total <= 0:
        raise AnalyticsInputError(f"total_n must be positive, got {total_n!r}")
    scans: list[ProjectScan] = []
    for project in projects:
        effects = []
        for moment_name, planned in project.targets.items():
            if moment_name not in facts:
                raise AnalyticsInputError(
                    f"project {project.name!r} targets moment {moment_name!r}, which has no data; "
                    f"known moments: {', '.join(sorted(facts)) or 'none'}"
                )
            amount = _check_number(planned, f"planned improvement of {moment_name!r} in project {project.name!r}")
            if amount <= 0:
                raise AnalyticsInputError(
                    f"project {project.name!r}: the planned improvement of {moment_name!r} must be positive, got {planned!r}"
                )
            effects.append(_effect(project.name, facts[moment_name], amount, total, alpha, emotional_ceiling))
        scans.append(_classify(project.name, effects, min_lift))
    scans.sort(key=lambda s: s.expected_lift, reverse=True)
    return scans


def project_class(effects: Iterable[TargetEffect], lift: float, min_lift: float) -> str:
    """A project's 7+/9+ class: little potential without targets or below ``min_lift``; else 9+ when its
    9+ targets (moments of truth to win) carry more of the lift than its 7+ targets (basics), 7+ otherwise."""
    effects = list(effects)
    if not effects or lift < min_lift:
        return "little_potential"
    lift7 = sum(e.lift for e in effects if e.role == "7plus")
    lift9 = sum(e.lift for e in effects if e.role == "9plus")
    return "9plus" if lift9 > lift7 else "7plus"


def _classify(name: str, effects: list[TargetEffect], min_lift: float) -> ProjectScan:
    lift = sum(e.lift for e in effects)
    code = project_class(effects, lift, min_lift)
    if not effects:
        head_en = "Little experience potential: no moments are linked to this project."
        head_nl = "Weinig belevingspotentie: er zijn geen momenten aan dit project gekoppeld."
    elif code == "little_potential":
        head_en = (f"Little experience potential: expected lift {_en(lift, 2, True)} overall points, "
                   f"below the threshold of {_en(min_lift)}.")
        head_nl = (f"Weinig belevingspotentie: verwacht effect {_nl(lift, 2, True)} punt op het totaaloordeel, "
                   f"onder de drempel van {_nl(min_lift)}.")
    else:
        label_en, label_nl = CLASSES[code]
        head_en = f"Expected lift {_en(lift, 2, True)} overall points ({label_en})."
        head_nl = f"Verwacht effect {_nl(lift, 2, True)} punt op het totaaloordeel ({label_nl})."
    label_en, label_nl = CLASSES[code]
    return ProjectScan(
        project=name, code=code, label_en=label_en, label_nl=label_nl, expected_lift=lift,
        reasoning_en=" ".join([head_en] + [e.reason_en + "." for e in effects]),
        reasoning_nl=" ".join([head_nl] + [e.reason_nl + "." for e in effects]),
        targets=effects,
    )


def facts_from_frame(frame: pd.DataFrame) -> list[MomentFacts]:
    """Build :class:`MomentFacts` from a table indexed by moment name.

    Required columns: ``kind``, ``score``, ``n``, ``slope``; optional: ``norm``,
    ``p_value``, ``importance``. Missing optional values (and a missing score)
    become None.
    """
    required = ["kind", "score", "n", "slope"]
    absent = [c for c in required if c not in frame.columns]
    if absent:
        raise AnalyticsInputError(f"the moment table is missing the column(s): {', '.join(absent)}")

    def value(row: pd.Series, column: str) -> object:
        if column not in row.index or pd.isna(row[column]):
            return None
        return row[column]

    facts = []
    for name, row in frame.iterrows():
        if pd.isna(row["slope"]) or pd.isna(row["n"]):
            raise AnalyticsInputError(f"moment {name!r}: slope and n are required, got slope={row['slope']!r}, n={row['n']!r}")
        facts.append(MomentFacts(
            name=str(name), kind=str(row["kind"]), score=value(row, "score"), n=int(row["n"]),
            slope=float(row["slope"]), norm=value(row, "norm"), p_value=value(row, "p_value"),
            importance=value(row, "importance"),
        ))
    return facts


def scan_table(scans: Iterable[ProjectScan]) -> pd.DataFrame:
    """One row per project: code, labels, expected lift and reasoning."""
    rows = [
        {"project": s.project, "code": s.code, "label_en": s.label_en, "label_nl": s.label_nl,
         "expected_lift": s.expected_lift, "reasoning_en": s.reasoning_en, "reasoning_nl": s.reasoning_nl}
        for s in scans
    ]
    return pd.DataFrame(rows, columns=["project", "code", "label_en", "label_nl", "expected_lift",
                                       "reasoning_en", "reasoning_nl"]).set_index("project")
