"""/api/v1 JSON routes for the experience metrics, the moment view and key drivers.

Numbers are plain JSON; a figure below ``min_n`` answers has ``too_few: true``
and null numbers, and an analysis that cannot be run carries a ``message``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request

from servicepulse.errors import NotFound, ValidationFailed
from servicepulse.http.auth import needs
from servicepulse.http.deps import DbSession
from servicepulse.http.params import MAX_ID, MAX_MIN_N, ApiDate, ApiText, check_range
from servicepulse.metrics import predicted, service
from servicepulse.metrics.repository import MetricFilter
from servicepulse.models import Journey
from servicepulse.settings import get_settings

# ids beyond the id columns' range are a 422 for the client, not a database overflow
OptionalId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
MinN = Annotated[int | None, Query(ge=1, le=MAX_MIN_N, description="fewer answers: too_few (default: the setting)")]
# Dates within the bounds of servicepulse.http.params; with both given, at most five years apart.
DateFrom = Annotated[ApiDate | None, Query(description="first UTC day, inclusive")]
DateTo = Annotated[ApiDate | None, Query(description="UTC day after the last, exclusive; at most five years "
                                                    "after date_from")]
Label = Annotated[ApiText | None, Query(max_length=200)]
DATE_FIELDS = ("date_from", "date_to")

router = APIRouter(tags=["insights"])


def _min_n(request: Request, min_n: int | None) -> int:
    if min_n is not None:
        return min_n
    settings = getattr(request.app.state, "settings", None) or get_settings()
    return int(settings.min_n)


def _filter(journey_id, moment_id, channel, team_id, segment, date_from, date_to) -> MetricFilter:
    return MetricFilter(journey_id=journey_id, moment_id=moment_id, channel=channel, team_id=team_id,
                        segment=segment, date_from=date_from, date_to=date_to)


@router.get("/metrics", dependencies=[needs("read:metrics")], summary="NPS, grade, CSAT and CES with intervals, overall or by a dimension")
def get_metrics(
    request: Request, session: DbSession,
    by: Annotated[Literal["journey", "moment", "channel", "team", "segment", "period"] | None,
                  Query(description="group by this dimension; by moment, each answer counts for every moment it grades, and NPS, CSAT and CES come only from one-moment surveys (a journey survey's overall scores count for its journey)")] = None,
    period: Annotated[Literal["day", "week", "month"], Query(description="bucket size when by=period")] = "month",
    method: Annotated[Literal["adjusted-wald", "wald", "bootstrap"], Query(description="NPS interval")] = "adjusted-wald",
    confidence: Annotated[float, Query(gt=0, lt=1)] = 0.95,
    min_n: MinN = None,
    journey_id: OptionalId = None, moment_id: OptionalId = None, channel: Label = None,
    team_id: OptionalId = None, segment: Label = None, date_from: DateFrom = None, date_to: DateTo = None,
    language: Literal["nl", "en"] = "en",
):
    check_range(date_from, date_to, DATE_FIELDS)
    f = _filter(journey_id, moment_id, channel, team_id, segment, date_from, date_to)
    rows = service.metrics(session, f, by=by, period=period, min_n=_min_n(request, min_n), method=method,
                           confidence=confidence, language=language)
    return {"by": by, "period": period if by == "period" else None, "method": method, "confidence": confidence,
            "min_n": _min_n(request, min_n),
            "groups": [{"key": r.key, "label": r.label, **service.figures_dict(r.figures)} for r in rows]}


@router.get("/journeys/{journey_id}/moments", dependencies=[needs("read:metrics")], summary="The 7+/9+ moment view of a journey, with the PRCA label check")
def get_moment_view(
    request: Request, session: DbSession, journey_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    outcome: Literal["nps", "grade"] = "nps", min_n: MinN = None,
    date_from: DateFrom = None, date_to: DateTo = None, language: Literal["nl", "en"] = "en",
):
    check_range(date_from, date_to, DATE_FIELDS)
    if session.get(Journey, journey_id) is None:
        raise NotFound(f"journey {journey_id} does not exist")
    view = service.moment_view(session, journey_id, MetricFilter(date_from=date_from, date_to=date_to),
                               outcome=outcome, min_n=_min_n(request, min_n), language=language)
    return {
        "journey_id": view.journey_id, "journey": view.journey_name, "outcome": outcome,
        "label_check_n": view.prca_n,
        "label_check_sampled": view.prca_sampled, "message": view.prca_message, "notes": view.notes,
        "moments": [{
            "id": m.id, "key": m.key, "name": m.name, "kind": m.kind, "norm": m.norm, "n": m.n,
            "score": m.score.mean, "low": m.score.low, "high": m.score.high, "too_few": m.score.too_few,
            "share_7": m.share_7.share, "share_9": m.share_9.share,
            "status": m.status.code, "status_label": m.status.label_en if language == "en" else m.status.label_nl,
            "behaviour": m.behaviour, "penalty": m.penalty, "reward": m.reward,
            "label_consistent": m.label_check.consistent if m.label_check else None,
            "suggested_kind": m.label_check.suggested_kind if m.label_check else None,
        } for m in view.moments],
    }


@router.get("/drivers", dependencies=[needs("read:metrics")], summary="Key drivers of NPS or grade: relative weights and dominance (% of R-squared)")
def get_drivers(
    request: Request, session: DbSession,
    outcome: Literal["nps", "grade"] = "nps", include: Literal["case", "moments", "all"] = "case",
    journey_id: OptionalId = None, date_from: DateFrom = None, date_to: DateTo = None,
    min_n: MinN = None, language: Literal["nl", "en"] = "en",
):
    check_range(date_from, date_to, DATE_FIELDS)
    if include != "case" and journey_id is None:
        raise ValidationFailed("moment drivers need a journey", [("journey_id", "required when include is "
                                                                  "'moments' or 'all'")])
    analysis = service.key_drivers(session, MetricFilter(journey_id=journey_id, date_from=date_from, date_to=date_to),
                                   include=include, outcome=outcome, min_n=_min_n(request, min_n), language=language)
    drivers = []
    if analysis.ok:
        for name, rec in analysis.table.iterrows():
            drivers.append({"driver": name, "label": analysis.labels.get(name, name),
                            "relative_weight_pct": float(rec["relative_weight"]),
                            "dominance_pct": float(rec["dominance"]) if "dominance" in rec else None,
                            "slope": float(rec["slope"]), "p_value": float(rec["p_value"]),
                            "p_adjusted": float(rec["p_adjusted"]), "univariate_slope": float(rec["univariate"]),
                            "direction": rec["direction"], "kind": rec["kind"],
                            **({"prevalence": float(rec["prevalence"])} if rec["kind"] == "fact" else {}),
                            "performance": float(rec["performance"]),
                            "performance_norm": float(rec["performance_norm"]), "quadrant": rec["quadrant"],
                            "quadrant_label": rec["quadrant_label"], "note": rec["note"] or None})
    return {"outcome": outcome, "include": include, "n": analysis.n, "r2": analysis.r2,
            "correction": analysis.correction, "alpha": analysis.alpha,
            "message": analysis.message, "drivers": drivers}


@router.get("/metrics/predicted", dependencies=[needs("read:metrics")], summary="Predicted experience of all closed cases, with its held-out validation")
def get_predicted(session: DbSession):
    """Grade and NPS of all closed cases as predicted from what happened in them, beside the respondents, and
    the validation on held-out respondents (MAE, coverage of the 80% interval, AUC for detractors). Aggregates
    only; ``ok`` is false with a ``message`` while there are too few answers to learn from."""
    return predicted.summary_dict(predicted.predicted_experience(session))
