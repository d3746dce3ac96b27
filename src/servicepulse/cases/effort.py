"""Customer Effort Index: effort per case from its facts, with learned weights.

The weights are learned, not invented: a ridge regression of the CES answer
(1-7, 7 = easy) on the case's facts (log1p-scaled, standardised) over the
cases that have both. Each weight's sign is fixed in advance (`DIRECTION`):
a harmful fact (a handoff, a reopening, a repeat contact, a broken promise,
waiting, ...) can only lower the predicted CES, i.e. raise effort, and first
time right can only raise it. Unconstrained, facts that move together (inbound
and repeat contacts, waiting on us and throughput) split their common share
with opposite signs, and the index then said that an extra contact or more
waiting made a case easier; a bound at zero keeps such a fact at no effect
instead. The model is validated on held-out cases (a fixed-seed split):
Pearson correlation of predicted and given CES, and the ROC AUC of the
prediction for "high effort" (CES <= 3). Weights, intercept, scaling and
those figures are stored in `effort_models`.

The index is 0-100, higher = more effort: ``(7 - CES) / 6 * 100``. A case
with a CES answer gets its measured effort as the index; every case gets the
estimate from its facts (``effort_estimate``), which is the index of cases
without an answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from servicepulse.db import bulkio
from servicepulse.errors import ValidationFailed
from servicepulse.models import Promise, Response
from servicepulse.models.base import utcnow
from servicepulse.models.cases import CaseFacts, EffortModel

FEATURES = (
    "inbound_contacts", "repeat_contacts", "after_hours_contacts", "channel_switches", "handoffs",
    "front_to_back", "back_to_front", "ping_pong", "dark_period_hours", "reopenings", "first_time_right",
    "waiting_on_customer_hours", "waiting_on_us_hours", "throughput_days", "broken_promises",
)
# Sign of each fact's CES weight: -1 harmful (more of it = more effort = lower CES), +1 helpful.
DIRECTION = {name: -1 for name in FEATURES} | {"first_time_right": +1}
HIGH_EFFORT_CES = 3  # CES <= 3 is "high effort"
MIN_CASES = 50
CHUNK = 5_000


def ces_to_effort(ces) -> np.ndarray:
    return (7.0 - np.clip(np.asarray(ces, dtype=float), 1, 7)) / 6.0 * 100.0


def _transform(frame: pd.DataFrame) -> np.ndarray:
    x = frame[list(FEATURES)].astype(float).to_numpy()
    return np.log1p(np.maximum(x, 0.0))  # counts and hours are right-skewed; a tenth hour matters less


def _by_case(session: Session, stmt_for, ids: np.ndarray) -> dict[int, float]:
    out: dict[int, float] = {}
    ids = [int(i) for i in ids]
    for start in range(0, len(ids), CHUNK):
        out.update(session.execute(stmt_for(ids[start:start + CHUNK])).all())
    return out


def broken_promises(session: Session, ids: np.ndarray) -> np.ndarray:
    counts = _by_case(session, lambda part: select(Promise.case_id, func.count())
                      .where(Promise.case_id.in_(part), Promise.status == "broken").group_by(Promise.case_id), ids)
    return np.array([counts.get(int(i), 0) for i in ids], dtype=float)


def latest_ces(session: Session, ids: np.ndarray) -> np.ndarray:
    """The most recent CES answer per case (NaN where none)."""
    def stmt(part):
        latest = (select(Response.case_id, func.max(Response.submitted_at).label("at"))
                  .where(Response.case_id.in_(part), Response.ces.is_not(None), Response.completed.is_(True))
                  .group_by(Response.case_id).subquery())
        return (select(Response.case_id, func.max(Response.ces))
                .join(latest, (latest.c.case_id == Response.case_id) & (latest.c.at == Response.submitted_at))
                .where(Response.ces.is_not(None), Response.completed.is_(True)).group_by(Response.case_id))
    found = _by_case(session, stmt, ids)
    return np.array([found.get(int(i), np.nan) for i in ids], dtype=float)


def active_model(session: Session) -> EffortModel | None:
    return session.scalars(select(EffortModel).where(EffortModel.active.is_(True))
                           .order_by(EffortModel.trained_at.desc(), EffortModel.id.desc()).limit(1)).first()


def predict_ces(model: EffortModel, features: pd.DataFrame) -> np.ndarray:
    x = _transform(features)
    z = (x - np.asarray(model.scaling["mean"])) / np.asarray(model.scaling["scale"])
    return np.clip(z @ np.asarray(model.weights) + model.intercept, 1.0, 7.0)


def effort_for(session: Session, ids: np.ndarray, facts: pd.DataFrame,
               lookup: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(estimate, index) per case; the estimate is NaN while no model is trained.
    ``lookup``: the only cases that may have promises or answers (default: all)."""
    ids = np.asarray(ids, dtype=np.int64)
    lookup = ids if lookup is None else np.intersect1d(ids, lookup)
    pos = pd.Index(ids).get_indexer(lookup)
    model = active_model(session)
    if model is not None:
        broken = np.zeros(len(ids))
        broken[pos] = broken_promises(session, lookup)
        estimate = ces_to_effort(predict_ces(model, facts.assign(broken_promises=broken)))
    else:
        estimate = np.full(len(ids), np.nan)
    answers = np.full(len(ids), np.nan)
    answers[pos] = latest_ces(session, lookup)
    measured = ces_to_effort(answers)  # NaN where the case has no answer
    index = np.where(np.isnan(measured), estimate, measured)
    return estimate, index


@dataclass
class TrainingResult:
    model_id: int
    validation: dict
    test_case_ids: np.ndarray
    test_predicted_ces: np.ndarray
    test_ces: np.ndarray
    weights: dict[str, float]


def training_frame(session: Session) -> pd.DataFrame:
    """Stored facts of the cases that have a CES answer, with that answer."""
    rows = session.execute(select(CaseFacts)).scalars().all()
    if not rows:
        return pd.DataFrame()
    frame = pd.DataFrame([{c: getattr(r, c) for c in ("case_id",) + FEATURES if c != "broken_promises"}
                          for r in rows]).set_index("case_id")
    ids = frame.index.to_numpy()
    frame["ces"] = latest_ces(session, ids)
    frame = frame[frame["ces"].notna()]
    frame["broken_promises"] = broken_promises(session, frame.index.to_numpy())
    return frame


@dataclass
class Fit:
    weights: np.ndarray     # CES points per standard deviation of each (log1p) fact, in FEATURES order
    intercept: float
    mean: np.ndarray        # scaling of the log1p facts
    scale: np.ndarray
    validation: dict
    test_idx: np.ndarray    # positions in the frame of the held-out cases
    predicted_ces: np.ndarray  # for every row of the frame


def fit(frame: pd.DataFrame, *, seed: int = 2026, test_size: float = 0.3, alpha: float = 1.0) -> Fit:
    """Learn the sign-constrained weights from a frame of FEATURES and ``ces`` (one row per case)
    and validate them on a fixed-seed held-out share."""
    # imported here: scikit-learn costs seconds to import, and every event import loads this module
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    if len(frame) < MIN_CASES:
        raise ValidationFailed(
            f"too few cases with both facts and a CES answer to learn effort weights "
            f"({len(frame)}; at least {MIN_CASES} needed)", [("ces", "not enough answered cases")])
    y = frame["ces"].to_numpy(dtype=float)
    high = y <= HIGH_EFFORT_CES
    x = _transform(frame)
    idx = np.arange(len(frame))
    stratify = high if 2 <= high.sum() <= len(high) - 2 else None
    train_idx, test_idx = train_test_split(idx, test_size=test_size, random_state=seed, stratify=stratify)
    scaler = StandardScaler().fit(x[train_idx])
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    z = (x - scaler.mean_) / scale
    weights, intercept = fit_signed_ridge(z[train_idx], y[train_idx], _directions(), alpha=alpha)
    pred = np.clip(z @ weights + intercept, 1.0, 7.0)
    validation = {
        "n_train": int(len(train_idx)), "n_test": int(len(test_idx)), "seed": seed, "test_size": test_size,
        "high_effort_share_test": float(high[test_idx].mean()),
        "correlation": _pearson(pred[test_idx], y[test_idx]),
        "auc_high_effort": _auc(high[test_idx], -pred[test_idx]),
        "mae": float(np.mean(np.abs(pred[test_idx] - y[test_idx]))),
        "mae_baseline": float(np.mean(np.abs(np.mean(y[train_idx]) - y[test_idx]))),
        "correlation_train": _pearson(pred[train_idx], y[train_idx]),
    }
    return Fit(weights, intercept, scaler.mean_, scale, validation, test_idx, pred)


def train(session: Session, *, seed: int = 2026, test_size: float = 0.3, alpha: float = 1.0) -> TrainingResult:
    """Learn the weights, validate on held-out cases, store the model as the active one
    and re-score every stored case."""
    frame = training_frame(session)
    fitted = fit(frame, seed=seed, test_size=test_size, alpha=alpha)
    session.execute(update(EffortModel).values(active=False))
    model = EffortModel(trained_at=utcnow(), features=list(FEATURES), weights=[float(w) for w in fitted.weights],
                        intercept=fitted.intercept,
                        scaling={"transform": "log1p", "mean": fitted.mean.tolist(), "scale": fitted.scale.tolist()},
                        validation=fitted.validation, active=True)
    session.add(model)
    session.flush()
    rescore(session)
    test_idx = fitted.test_idx
    return TrainingResult(model.id, fitted.validation, frame.index.to_numpy()[test_idx], fitted.predicted_ces[test_idx],
                          frame["ces"].to_numpy(dtype=float)[test_idx], dict(zip(FEATURES, map(float, fitted.weights))))


def _directions() -> np.ndarray:
    return np.array([DIRECTION[name] for name in FEATURES], dtype=float)


def fit_signed_ridge(z: np.ndarray, y: np.ndarray, direction: np.ndarray, *, alpha: float = 1.0) -> tuple[np.ndarray, float]:
    """Ridge weights whose sign is ``direction`` (-1 or +1 per column) or zero, and the intercept.

    The columns are turned so that every wanted weight is non-negative, fitted with scikit-learn's
    non-negative ridge, and turned back.
    """
    # imported here: scikit-learn costs seconds to import, and every event import loads this module
    from sklearn.linear_model import Ridge

    direction = np.asarray(direction, dtype=float)
    if direction.shape != (z.shape[1],) or not np.all(np.abs(direction) == 1):
        raise ValueError(f"direction needs one -1 or +1 per column ({z.shape[1]}), got {direction.tolist()}")
    reg = Ridge(alpha=alpha, positive=True).fit(z * direction, y)
    return reg.coef_ * direction + 0.0, float(reg.intercept_)  # + 0.0: no -0.0 on the page


def _pearson(a: np.ndarray, b: np.ndarray) -> float | None:
    if len(a) < 3 or np.std(a) == 0 or np.std(b) == 0:
        return None
    from scipy import stats

    return float(stats.pearsonr(a, b).statistic)


def _auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    if labels.all() or not labels.any():
        return None
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores))


def rescore(session: Session) -> int:
    """Recompute effort_estimate / effort_index of every stored case with the active model."""
    rows = session.execute(select(CaseFacts)).scalars().all()
    if not rows:
        return 0
    facts = pd.DataFrame([{c: getattr(r, c) for c in ("case_id",) + FEATURES if c != "broken_promises"}
                          for r in rows]).set_index("case_id")
    ids = facts.index.to_numpy()
    estimate, index = effort_for(session, ids, facts)
    conn = session.connection()
    stage = bulkio.temp_table(conn, [bulkio.id_column("id", primary_key=True), _float_col("estimate"), _float_col("idx")])
    bulkio.write_rows(conn, stage, {"id": ids.astype(object), "estimate": _obj(estimate), "idx": _obj(index)})
    s = f'"{stage.name}"'
    conn.execute(text(
        f"UPDATE case_facts SET effort_estimate = (SELECT estimate FROM {s} WHERE {s}.id = case_facts.case_id), "
        f"effort_index = (SELECT idx FROM {s} WHERE {s}.id = case_facts.case_id) "
        f"WHERE case_id IN (SELECT id FROM {s})"))
    bulkio.drop_temp(conn, stage)
    session.expire_all()
    return len(ids)


def _float_col(name: str):
    from sqlalchemy import Column, Float

    return Column(name, Float())


def _obj(values: np.ndarray) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    out = arr.astype(object)
    out[np.isnan(arr)] = None
    return out
