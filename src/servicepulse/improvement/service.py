"""Improvement projects and the 7+/9+ scan of their experience potential.

Framework-free; never commits. A project targets moments (improving their
grade by ``expected_improvement`` points) and/or case drivers from
:data:`servicepulse.metrics.CASE_DRIVERS` (for a driver,
``expected_improvement`` is read as the share 0-1 of affected cases the
project prevents, capped at 1). The scan takes its facts from the data:

- moments: kind, norm, current mean grade, volume and slope in the regression
  of the overall score on the journey's moment grades
  (:func:`servicepulse.metrics.moment_facts`), scored by
  :func:`servicepulse.kernels.statistics.scan_projects`;
- drivers: the slope of the driver in the regression of the overall score on
  all case drivers and its prevalence; a driver without a significant effect in
  the expected direction adds nothing.

The class follows the project's moments (a driver is the mechanism through
which a moment improves): driver lifts add to the expected lift but not to
the 7+/9+ split, so a project with drivers only is a 7+ project (taking away
effort is fixing the basics) when its lift is large enough. Moment and driver
lifts of one project may overlap, so the total is an upper bound.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from servicepulse import metrics
from servicepulse.errors import NotFound, ValidationFailed
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

@dataclass
class ScanRow:
    project_id: int
    title: str
    owner: str | None
    cost: float | None
    scan: statistics.ProjectScan

    @property
    def lift_per_1000(self) -> float | None:
        """Overall points per 1,000 of cost: what a euro buys."""
        if not self.cost:
            return None
        return self.scan.expected_lift / self.cost * 1000


@dataclass
class ScanReport:
    rows: list[ScanRow]
    outcome: str
    notes: list[str]


def _driver_effect(driver: str, planned: float, table, alpha: float) -> TargetEffect:
    """One project-driver pair: lift = |slope| x prevalence x share prevented."""
    share = min(planned, 1.0)
    name = DRIVER_LABELS[driver][1]
    name_nl = DRIVER_LABELS[driver][0]
    base = dict(moment=driver, kind="driver", score=None, norm=0.0, planned=planned, volume_share=1.0)
    if table is None or driver not in table.index:
        return TargetEffect(counted=0.0, slope=0.0, lift=0.0, role=None,
                            reason_en=f"'{name}': no driver analysis possible, nothing counted",
                            reason_nl=f"'{name_nl}': geen driveranalyse mogelijk, niets meegeteld", **base)
    slope, p, prevalence = (float(table.loc[driver, c]) for c in ("slope", "p_value", "performance"))
    helpful = slope > 0 if driver in POSITIVE_DRIVERS else slope < 0
    if not helpful or p >= alpha:
        return TargetEffect(counted=0.0, slope=slope, lift=0.0, role=None,
                            reason_en=(f"'{name}': no significant effect on the overall score "
                                       f"(slope {slope:+.2f}, p = {p:.2f}), nothing counted"),
                            reason_nl=(f"'{name_nl}': geen significant effect op het totaaloordeel "
                                       f"(helling {slope:+.2f}, p = {p:.2f}), niets meegeteld").replace(".", ","),
                            **base)
    room = (1 - prevalence) if driver in POSITIVE_DRIVERS else prevalence
    lift = abs(slope) * room * share
    return TargetEffect(
        counted=share, slope=slope, lift=lift, role=None,
        reason_en=(f"'{name}' ({room:.0%} of cases {'without' if driver in POSITIVE_DRIVERS else 'with'} it, "
                   f"costs {abs(slope):.2f} points): prevents {share:.0%} of them = {lift:+.2f}"),
        reason_nl=(f"'{name_nl}' ({room:.0%} van de zaken {'zonder' if driver in POSITIVE_DRIVERS else 'met'}, "
                   f"kost {abs(slope):.2f} punt): voorkomt {share:.0%} daarvan = {lift:+.2f}").replace(".", ","),
        **base)


def scan(session: Session, f: MetricFilter = MetricFilter(), *, outcome: str = "nps", min_n: int = 30,
         alpha: float = 0.05, min_lift: float = 0.05, language: str = "nl",
         source: str = "auto") -> ScanReport:
    """The 7+/9+ scan of every registered project, largest expected lift first."""
    projects = list_projects(session)
    facts, notes = metrics.moment_facts(session, f, outcome=outcome, min_n=min_n, language=language, source=source)
    fact_by_id = facts
    driver_table = None
    if any(t.driver for p in projects for t in p.targets):
        analysis = metrics.key_drivers(session, f, include="case", outcome=outcome, min_n=min_n, language=language)
        driver_table = analysis.table
        if analysis.message:
            notes.append(analysis.message)
    total_n = max((fact.n for fact in facts.values()), default=0) or None
    rows = []
    for project in projects:
        linked = [t.moment_id for t in project.targets if t.moment_id is not None and t.moment_id in fact_by_id]
        moment_targets = {fact_by_id[m].name: project.expected_improvement for m in linked}
        moment_facts = {fact_by_id[m].name: fact_by_id[m] for m in linked}
        effects: list[TargetEffect] = []
        if moment_targets:
            result = statistics.scan_projects([statistics.Project(project.title, moment_targets)], moment_facts,
                                             total_n=total_n, alpha=alpha, min_lift=min_lift)[0]
            effects.extend(result.targets)
        for t in project.targets:
            if t.driver:
                effects.append(_driver_effect(t.driver, project.expected_improvement, driver_table, alpha))
        rows.append(ScanRow(project.id, project.title, project.owner, project.cost,
                            _classify(project.title, effects, min_lift)))
    rows.sort(key=lambda r: r.scan.expected_lift, reverse=True)
    return ScanReport(rows, outcome, notes)


CSV_COLUMNS = ("project_id", "title", "owner", "cost", "class", "expected_lift", "lift_per_1000_cost", "reasoning")


def scan_csv(report: ScanReport, language: str = "nl") -> str:
    """The scan as CSV (one row per project), reasoning in the chosen language."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in report.rows:
        s = row.scan
        writer.writerow([row.project_id, row.title, row.owner or "", "" if row.cost is None else f"{row.cost:g}",
                         s.label_nl if language == "nl" else s.label_en, f"{s.expected_lift:.3f}",
                         "" if row.lift_per_1000 is None else f"{row.lift_per_1000:.4f}",
                         s.reasoning_nl if language == "nl" else s.reasoning_en])
    return out.getvalue()


__all__ = ["CLASSES", "ProjectInput", "ScanReport", "ScanRow", "create_project", "get_project", "list_projects",
           "scan", "scan_csv", "update_project"]
