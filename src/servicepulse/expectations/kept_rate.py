"""How well promises are kept, and what a broken promise costs in the scores.

Counting happens in SQL (GROUP BY on the promises table); the interval is
Wilson's score interval from the analytics kernel. Open promises are left out:
they are neither kept nor broken yet.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import case as sql_case
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from servicepulse.errors import ValidationFailed
from servicepulse.kernels.statistics.compare import ComparisonResult, compare_means
from servicepulse.kernels.statistics.intervals import wilson
from servicepulse.models import Case, Journey, OrgUnit, Promise, Response

GROUPINGS = ("journey", "team", "kind")
MEASURES = ("nps", "grade")


@dataclass(frozen=True)
class KeptRate:
    group: str
    kept: int
    broken: int
    rate: float | None
    low: float | None
    high: float | None

    def as_dict(self) -> dict:
        return asdict(self)


def _window(stmt, since: datetime | None, until: datetime | None, team_id: int | None = None):
    # A promise belongs to the period in which it fell due, and to the team that made it.
    if since is not None:
        stmt = stmt.where(Promise.due_at >= since)
    if until is not None:
        stmt = stmt.where(Promise.due_at < until)
    if team_id is not None:
        stmt = stmt.where(Promise.made_by_team_id == team_id)
    return stmt


def kept_rates(session: Session, by: str = "kind", *, since: datetime | None = None,
               until: datetime | None = None, min_n: int = 1, team_id: int | None = None) -> list[KeptRate]:
    """Kept share of decided promises per journey, team (the promised team) or kind; ``team_id``: only the
    promises that team made."""
    if by not in GROUPINGS:
        raise ValidationFailed(f"group by one of {', '.join(GROUPINGS)}, not {by!r}", [("by", "unknown grouping")])
    kept = func.sum(sql_case((Promise.status == "kept", 1), else_=0))
    broken = func.sum(sql_case((Promise.status == "broken", 1), else_=0))
    if by == "kind":
        label = Promise.kind
        stmt = select(label, kept, broken)
    elif by == "team":
        label = func.coalesce(OrgUnit.name, "-")
        stmt = select(label, kept, broken).outerjoin(OrgUnit, OrgUnit.id == Promise.made_by_team_id)
    else:
        label = func.coalesce(Journey.key, "-")
        stmt = (select(label, kept, broken).join(Case, Case.id == Promise.case_id)
                .outerjoin(Journey, Journey.id == Case.journey_id))
    stmt = _window(stmt.where(Promise.status != "open"), since, until, team_id).group_by(label).order_by(label)
    out = []
    for group, k, b in session.execute(stmt):
        k, b = int(k or 0), int(b or 0)
        share = wilson(k, k + b, min_n=min_n) if k + b else None
        out.append(KeptRate(str(group), k, b, share.share if share else None,
                            share.low if share else None, share.high if share else None))
    return out


def kept_trend(session: Session, *, since: datetime | None = None, until: datetime | None = None,
               freq: str = "MS", team_id: int | None = None) -> pd.DataFrame:
    """Kept rate per period (default: calendar month of the due date), columns period/kept/broken/rate."""
    stmt = _window(select(Promise.due_at, Promise.status).where(Promise.status != "open"), since, until, team_id)
    rows = pd.DataFrame(session.execute(stmt).all(), columns=["due_at", "status"])
    if rows.empty:
        return pd.DataFrame(columns=["period", "kept", "broken", "rate"])
    rows["due_at"] = pd.to_datetime(rows["due_at"], utc=True)
    rows["kept"] = (rows["status"] == "kept").astype(int)
    rows["broken"] = (rows["status"] == "broken").astype(int)
    table = rows.set_index("due_at")[["kept", "broken"]].resample(freq).sum()
    table = table[(table["kept"] + table["broken"]) > 0]
    table["rate"] = table["kept"] / (table["kept"] + table["broken"])
    return table.reset_index(names="period")


def broken_promise_effect(session: Session, measure: str = "nps", *, since: datetime | None = None,
                          until: datetime | None = None, confidence: float = 0.95) -> ComparisonResult:
    """Mean score of responses on cases with a broken promise (b) minus those whose
    promises were all kept (a), with Welch's t interval.

    Only responses on cases that had at least one decided promise take part, so
    the comparison is between promises kept and promises broken, not between
    cases with and without promises.
    """
    if measure not in MEASURES:
        raise ValidationFailed(f"measure is one of {', '.join(MEASURES)}, not {measure!r}",
                               [("measure", "unknown measure")])
    score = getattr(Response, measure)
    any_broken = exists().where(Promise.case_id == Response.case_id, Promise.status == "broken")
    any_decided = exists().where(Promise.case_id == Response.case_id, Promise.status != "open")
    stmt = select(score, any_broken).where(Response.case_id.is_not(None), score.is_not(None), any_decided,
                                           Response.completed.is_(True))  # saved, unsent answers do not count
    if since is not None:
        stmt = stmt.where(Response.submitted_at >= since)
    if until is not None:
        stmt = stmt.where(Response.submitted_at < until)
    rows = session.execute(stmt).all()
    kept_scores = [float(s) for s, broken in rows if not broken]
    broken_scores = [float(s) for s, broken in rows if broken]
    return compare_means(kept_scores, broken_scores, confidence)
