"""The department report: the effort and dissatisfaction a department's themes cause, with example comments.

A department owns themes (see codeframes.theme_owners). For all of them
together and for each one, the report compares the customers who mention it
with the other commenting customers on CES (effort), NPS and grade, and shows
the most negative comments (redacted, theme words highlighted).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepulse.errors import NotFound
from servicepulse.kernels.statistics.compare import ComparisonResult
from servicepulse.models import OrgUnit
from servicepulse.verbatims import repository
from servicepulse.verbatims.codeframes import (
    current_codeframe,
    departments,
    theme_owners,
)
from servicepulse.verbatims.highlight import highlight
from servicepulse.verbatims.impact import (
    ThemeImpact,
    compare_groups,
    leaf_groups,
    theme_impact,
)
from servicepulse.verbatims.repository import VerbatimFilter

EXAMPLE_CHARS = 600


@dataclass(frozen=True)
class DepartmentReport:
    department: OrgUnit
    themes: list[ThemeImpact]
    examples: dict[str, list[dict]]   # theme -> example comments (with `html`: escaped, highlighted)
    comments: int                      # comments mentioning any of the department's themes
    total_comments: int
    negative_share: float
    nps: ComparisonResult | None
    grade: ComparisonResult | None
    ces: ComparisonResult | None

    @property
    def share(self) -> float:
        return self.comments / self.total_comments if self.total_comments else 0.0


def department_report(session: Session, department_key: str, f: VerbatimFilter | None = None, *,
                      min_n: int = 30, language: str = "en", examples: int = 3) -> DepartmentReport:
    f = f or VerbatimFilter()
    unit = session.scalar(select(OrgUnit).where(OrgUnit.key == department_key, OrgUnit.kind == "department"))
    if unit is None:
        raise NotFound(f"department {department_key!r} does not exist")
    codeframe, _ = current_codeframe(session)
    owners = theme_owners(session, codeframe)
    owned = [k for k in codeframe.keys if owners.get(k) is not None and owners[k].id == unit.id]
    # report the top-most owned themes (a parent's impact already holds its children's mentions) plus the children
    impacts, totals = theme_impact(session, codeframe, f, min_n=min_n, language=language, themes=owned)
    groups = leaf_groups(codeframe)
    leaves = sorted({leaf for k in owned for leaf in groups[k]})
    ex: dict[str, list[dict]] = {}
    negative_share = {i.theme: i.negative_share for i in impacts}
    for k in owned:
        # Examples show what the theme's comments mostly say: a theme praised in 99% of its comments is not
        # illustrated by its three worst ones.
        tone = "negative" if negative_share.get(k, 1.0) >= 0.5 else "positive"
        rows = repository.example_comments(session, f, groups[k], n=examples, tone=tone)
        spans = repository.mentions_for(session, [r["response_id"] for r in rows])
        for r in rows:
            r["tone"] = tone
            r["html"] = highlight(r["text"], [(s, e, th) for s, e, th, _ in spans[r["response_id"]]],
                                  max_chars=EXAMPLE_CHARS)
        ex[k] = rows
    if leaves:
        any_ = repository.score_totals_by_theme(session, f, {"any": leaves})["any"]
        nps, grade, ces = compare_groups(any_, totals, min_n)
        n, neg = any_["n"], any_["negative"]
    else:
        nps = grade = ces = None
        n = neg = 0
    return DepartmentReport(unit, impacts, ex, n, totals["n"], neg / n if n else 0.0, nps, grade, ces)


def department_list(session: Session) -> list[tuple[OrgUnit, list[str]]]:
    """Every department with the theme keys it owns."""

    codeframe, _ = current_codeframe(session)
    owners = theme_owners(session, codeframe)
    return [(d, [k for k in codeframe.keys if owners.get(k) is not None and owners[k].id == d.id])
            for d in departments(session)]


def report_pdf(html: str) -> bytes:
    """The report page as PDF (weasyprint; the HTML must not refer to anything outside itself)."""
    from weasyprint import HTML

    return HTML(string=html).write_pdf()
