"""Dashboard pages: /surveys (every survey with its response rate) and /surveys/{key} (one survey)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import select

from servicepulse.kernels import charts
from servicepulse.kernels.statistics.intervals import wilson
from servicepulse.kernels.statistics.nps import nps
from servicepulse.errors import NotFound
from servicepulse.invitations.rules import list_rules
from servicepulse.models import Survey, SurveyVersion
from servicepulse.models.invitations import AnonymousLink
from servicepulse.surveys.scales import SCALES, SCORE_TYPES
from servicepulse.metrics import survey_repository as repository
from servicepulse.http.auth import CurrentUser
from servicepulse.http.deps import DbSession
from servicepulse.http.i18n import request_language
from servicepulse.http.templating import render

router = APIRouter()

# Where a score counts as low / high on the distribution chart (colour bands).
BANDS = {"nps": (6, 9), "grade": (5, 8), "ces": (3, 6), "csat": (2, 4)}


def _rate(total: repository.SurveyTotals, min_n: int):
    if total.invitations_sent == 0:
        return None
    return wilson(total.invitations_answered, total.invitations_sent, min_n=min_n)


@router.get("/surveys")
def survey_list(request: Request, user: CurrentUser, session: DbSession):
    min_n = request.app.state.settings.min_n
    rows = [{"totals": t, "rate": _rate(t, min_n)} for t in repository.totals(session)]
    return render(request, "metrics/survey_list.html", {"rows": rows})


@router.get("/surveys/{key}")
def survey_page(request: Request, key: str, user: CurrentUser, session: DbSession):
    survey = session.scalar(select(Survey).where(Survey.key == key))
    if survey is None:
        raise NotFound(f"survey {key!r} does not exist")
    lang = request_language(request)
    settings = request.app.state.settings
    [total] = repository.totals(session, survey.id)
    latest = session.scalar(select(SurveyVersion).where(SurveyVersion.survey_id == survey.id)
                            .order_by(SurveyVersion.version.desc()).limit(1))
    asked = [q["type"] for q in (latest.definition["questions"] if latest else []) if q["type"] in SCORE_TYPES]
    catalogue = request.app.state.catalogue
    scores = []
    for score in dict.fromkeys(asked):
        counts = repository.score_counts(session, survey.id, score)
        n = sum(counts.values())
        scale = SCALES[score]
        title = catalogue.translate(f"surveys_dashboard.score.{score}", lang)
        full = {value: counts.get(value, 0) for value in range(scale.low, scale.high + 1)}
        low, high = BANDS[score]
        chart = charts.svg(charts.specs.distribution(full, low_cut=low, high_cut=high),
                           title=catalogue.translate("surveys_dashboard.chart_label", lang, score=title, n=n),
                           language=lang)
        summary = None
        if score == "nps":
            result = nps(sum(full[v] for v in range(0, 7)), full[7] + full[8], full[9] + full[10],
                         min_n=settings.min_n)
            summary = {"kind": "nps", "result": result}
        elif n:
            summary = {"kind": "mean", "mean": sum(v * c for v, c in full.items()) / n}
        scores.append({"score": score, "title": title, "n": n, "chart": chart, "summary": summary,
                       "table": sorted(full.items())})
    anonymous = session.scalar(select(AnonymousLink).where(AnonymousLink.survey_id == survey.id,
                                                           AnonymousLink.enabled.is_(True)))
    return render(request, "metrics/survey.html", {
        "survey": survey, "version": latest.version if latest else None, "totals": total,
        "rate": _rate(total, settings.min_n), "scores": scores,
        "verbatims": repository.latest_verbatims(session, survey.id),
        "reasons": repository.decisions_by_reason(session, survey.id),
        "by_rule": repository.decisions_by_rule(session, survey.id),
        "rules": list_rules(session, survey.id),
        "anonymous_url": f"{settings.base_url.rstrip('/')}/a/{survey.key}" if anonymous else None,
    })
