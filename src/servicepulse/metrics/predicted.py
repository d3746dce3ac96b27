"""Predicted experience: what a customer whose case closed would say, from what happened in the case.

Only a minority of customers answer a survey; for everyone else we know what happened (the case facts),
not what they would say. Two models learn that from the answers given about closed cases:

* the **grade** (rapportcijfer, 1-10): a ridge regression on the case's facts, with an 80% interval
  from split-conformal calibration (the conformity score is the absolute error; its quantile comes
  from cross-validated errors on respondents the model did not see, as ``kernels.forecast.conformal``
  does for durations);
* the **NPS group** (detractor 0-6, passive 7-8, promoter 9-10): a multinomial logistic regression;
  the predicted group is the most probable one, and the probabilities add up to the predicted NPS of a
  group of cases (share of promoters minus share of detractors, as the mean of the probabilities).

The features are the 0/1 drivers of the key-driver analysis (``metrics.CASE_DRIVERS``: broken promise,
more than two days without news, repeat contact, handoff, ...), how much of each happened (contacts,
handoffs, reopenings, waiting hours, throughput; log1p-scaled) and the case's journey.

**Validation on held-out respondents.** The answers are split into ``FOLDS`` folds by customer (all
answers of one customer in one fold, so no customer is both learnt from and judged on); each fold is
predicted by models trained on the others, whose conformal interval is calibrated on the others'
cross-validated errors. Over all held-out answers: the grade's mean absolute error (against the mean of
the training answers as the naive prediction), the share of grades inside the 80% interval, and the
ROC AUC of the detractor probability, with a reliability table (predicted against observed share of
detractors). The model that predicts the closed cases is then fitted on all answers, with the interval
from the held-out errors.

**Storage and privacy.** Nothing is stored: predictions are computed when asked for and kept in this
process's memory only until an answer, a case, its facts or a promise changes (``fingerprint``), so an
erased customer's cases and answers leave the predictions with the next request. The pages that show
them are for administrators and analysts.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.orm import Session

from servicepulse import followups
from servicepulse.kernels.forecast.conformal import conformal_quantile
from servicepulse.metrics import predicted_repository as prepo
from servicepulse.metrics.repository import CASE_DRIVERS, journeys
from servicepulse.metrics.service import DRIVER_LABELS

FOLDS = 5
SEED = 2026
COVERAGE = 0.8
MIN_ANSWERS = 100  # below this many answers about closed cases nothing is predicted
GROUPS = ("detractor", "passive", "promoter")
RELIABILITY_BINS = 5
CACHED_DATABASES = 4


class PredictedSettings(BaseSettings):
    """The proactive follow-up rule (environment, prefix SERVICEPULSE_PREDICTED_)."""

    model_config = SettingsConfigDict(env_prefix="SERVICEPULSE_PREDICTED_", extra="ignore")

    # Off by default: open a follow-up for a customer predicted to be a detractor who did not answer.
    followups: bool = False
    # ... when the predicted probability of a detractor is at least this ...
    followup_probability: float = 0.7
    # ... the case closed at least this many days ago (time to answer) ...
    followup_after_days: int = 7
    # ... and at most this many days before that (older cases are history, not a call to make).
    followup_window_days: int = 14


def nps_group(nps) -> np.ndarray:
    """0 detractor (0-6), 1 passive (7-8), 2 promoter (9-10); -1 where there is no NPS."""
    v = np.asarray(nps, dtype=float)
    return np.where(np.isnan(v), -1, np.where(v <= 6, 0, np.where(v <= 8, 1, 2))).astype(int)


def design(features: pd.DataFrame, journey: pd.Series, journey_ids: list[int]) -> np.ndarray:
    """The model's columns: 0/1 drivers, log1p amounts, one column per known journey."""
    drivers = features[list(CASE_DRIVERS)].to_numpy(dtype=float)
    amounts = np.log1p(np.maximum(features[list(prepo.AMOUNT_FACTS)].to_numpy(dtype=float), 0.0))
    j = journey.to_numpy()
    onehot = np.column_stack([(j == k).astype(float) for k in journey_ids]) if journey_ids else np.zeros((len(j), 0))
    return np.column_stack([drivers, amounts, onehot])


@dataclass
class Model:
    """The two fitted models and the half-width of the grade's calibrated interval."""

    grade: object  # scikit-learn pipeline
    groups: object
    halfwidth: float

    def predict(self, x: np.ndarray) -> pd.DataFrame:
        grade = np.clip(self.grade.predict(x), 1.0, 10.0)
        proba = np.zeros((len(x), 3))
        proba[:, self.groups.classes_] = self.groups.predict_proba(x)
        return pd.DataFrame({
            "grade": grade, "low": np.clip(grade - self.halfwidth, 1.0, 10.0),
            "high": np.clip(grade + self.halfwidth, 1.0, 10.0),
            "p_detractor": proba[:, 0], "p_passive": proba[:, 1], "p_promoter": proba[:, 2],
            "group": np.array(GROUPS)[proba.argmax(axis=1)],
        })


def _fit_grade(x: np.ndarray, y: np.ndarray):
    # imported here: scikit-learn costs seconds to import, and the CLI and server should start quickly
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), Ridge(alpha=1.0)).fit(x, y)


def _fit_groups(x: np.ndarray, g: np.ndarray):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000)).fit(x, g)


def folds_by_customer(customers: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """A fold number per row such that all rows of one customer share it (groups shuffled with ``seed``)."""
    keys = pd.Series(customers).astype(str).to_numpy()
    unique = np.unique(keys)
    order = np.random.default_rng(seed).permutation(len(unique))
    fold_of = dict(zip(unique[order], np.arange(len(unique)) % folds))
    return np.array([fold_of[k] for k in keys], dtype=int)


def _cv_errors(x: np.ndarray, y: np.ndarray, customers: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Absolute errors of the grade model on each row, from a model that did not see the row's customer."""
    fold = folds_by_customer(customers, folds, seed)
    errors = np.full(len(y), np.nan)
    for k in range(folds):
        test = fold == k
        if test.any() and (~test).sum() >= 2:
            errors[test] = np.abs(y[test] - np.clip(_fit_grade(x[~test], y[~test]).predict(x[test]), 1.0, 10.0))
    return errors[~np.isnan(errors)]


@dataclass
class Validation:
    """The held-out figures, and the held-out rows to check them against (one per answer)."""

    n_answers: int
    n_customers: int
    folds: int
    coverage_target: float
    mae: float | None
    mae_baseline: float | None
    coverage: float | None
    width: float | None  # mean width of the interval (grade points)
    auc_detractor: float | None
    detractor_share: float | None
    detractor_predicted: float | None
    brier_detractor: float | None
    nps_actual: float | None
    nps_predicted: float | None
    reliability: list[dict] = field(default_factory=list)  # per bin: predicted, observed, n
    rows: pd.DataFrame | None = None


def cross_validate(x: np.ndarray, grade: np.ndarray, nps: np.ndarray, customers: np.ndarray, *,
                   folds: int = FOLDS, seed: int = SEED, coverage: float = COVERAGE) -> Validation:
    """Predict every answer from models trained on the other customers' answers (see the module text)."""
    from sklearn.metrics import roc_auc_score

    fold = folds_by_customer(customers, folds, seed)
    has_grade = ~np.isnan(grade)
    group = nps_group(nps)
    has_nps = group >= 0
    out = pd.DataFrame({"fold": fold, "grade": grade, "nps": nps, "grade_pred": np.nan, "low": np.nan,
                        "high": np.nan, "baseline": np.nan, "p_detractor": np.nan, "p_passive": np.nan,
                        "p_promoter": np.nan})
    for k in range(folds):
        test, train = fold == k, fold != k
        tg = train & has_grade
        if test.any() and tg.sum() >= 2 * folds:
            reg = _fit_grade(x[tg], grade[tg])
            q = conformal_quantile(_cv_errors(x[tg], grade[tg], customers[tg], folds, seed + k + 1), coverage)
            pred = np.clip(reg.predict(x[test]), 1.0, 10.0)
            out.loc[test, "grade_pred"] = pred
            out.loc[test, "low"] = np.clip(pred - q, 1.0, 10.0)
            out.loc[test, "high"] = np.clip(pred + q, 1.0, 10.0)
            out.loc[test, "baseline"] = float(grade[tg].mean())
        tn = train & has_nps
        if test.any() and len(np.unique(group[tn])) >= 2:
            clf = _fit_groups(x[tn], group[tn])
            proba = np.zeros((int(test.sum()), 3))
            proba[:, clf.classes_] = clf.predict_proba(x[test])
            out.loc[test, ["p_detractor", "p_passive", "p_promoter"]] = proba
    g = out.dropna(subset=["grade", "grade_pred"])
    n = out.dropna(subset=["nps", "p_detractor"])
    detractor = (n["nps"] <= 6).to_numpy()
    both = bool(detractor.any() and not detractor.all())
    reliability = []
    if len(n) >= RELIABILITY_BINS * 10:
        bins = pd.qcut(n["p_detractor"].rank(method="first"), RELIABILITY_BINS, labels=False)
        for b in range(RELIABILITY_BINS):
            part = n[bins == b]
            reliability.append({"bin": b + 1, "predicted": float(part["p_detractor"].mean()),
                                "observed": float((part["nps"] <= 6).mean()), "n": int(len(part))})
    return Validation(
        n_answers=int(len(out)), n_customers=int(len(np.unique(pd.Series(customers).astype(str)))), folds=folds,
        coverage_target=coverage,
        mae=float(np.mean(np.abs(g["grade"] - g["grade_pred"]))) if len(g) else None,
        mae_baseline=float(np.mean(np.abs(g["grade"] - g["baseline"]))) if len(g) else None,
        coverage=float(((g["grade"] >= g["low"]) & (g["grade"] <= g["high"])).mean()) if len(g) else None,
        width=float((g["high"] - g["low"]).mean()) if len(g) else None,
        auc_detractor=float(roc_auc_score(detractor, n["p_detractor"])) if both else None,
        detractor_share=float(detractor.mean()) if len(n) else None,
        detractor_predicted=float(n["p_detractor"].mean()) if len(n) else None,
        brier_detractor=float(np.mean((n["p_detractor"] - detractor) ** 2)) if len(n) else None,
        nps_actual=float(100 * ((n["nps"] >= 9).mean() - detractor.mean())) if len(n) else None,
        nps_predicted=float(100 * (n["p_promoter"].mean() - n["p_detractor"].mean())) if len(n) else None,
        reliability=reliability, rows=out,
    )


def fit(x: np.ndarray, grade: np.ndarray, nps: np.ndarray, customers: np.ndarray, validation: Validation) -> Model:
    """The served model, fitted on all answers; the interval's half-width from the held-out errors."""
    has_grade = ~np.isnan(grade)
    group = nps_group(nps)
    rows = validation.rows.dropna(subset=["grade", "grade_pred"])
    q = conformal_quantile(np.abs(rows["grade"] - rows["grade_pred"]).to_numpy(), validation.coverage_target)
    return Model(_fit_grade(x[has_grade], grade[has_grade]), _fit_groups(x[group >= 0], group[group >= 0]), q)


# --- what the pages, the command and the rule read ---------------------------------------------------

@dataclass
class Block:
    """NPS and mean grade of one group of answers or cases, measured or predicted."""

    n: int
    nps: float | None
    grade: float | None


@dataclass
class JourneyRow:
    journey_id: int | None
    closed: int
    answered: int
    respondents: Block
    predicted: Block


@dataclass
class DriverGap:
    driver: str
    answered: float  # share of the answered cases with the driver
    not_answered: float


@dataclass
class PredictedExperience:
    """Predictions per closed case (``cases``), the held-out validation, and the comparison of the
    respondents with all closed cases; ``message`` instead when there is too little to learn from."""

    message: str | None = None
    n_closed: int = 0
    n_without_facts: int = 0
    n_left_out: int = 0  # closed cases of a journey group nobody answered about: not predicted (see build)
    validation: Validation | None = None
    cases: pd.DataFrame | None = None  # index case_id: journey_id, customer_id, team_id, closed_at, answered, predictions
    respondents: Block | None = None  # as they answered
    respondents_predicted: Block | None = None  # their cases, as predicted (the model's own check)
    all_predicted: Block | None = None  # every closed case, as predicted
    not_answered_predicted: Block | None = None
    by_journey: list[JourneyRow] = field(default_factory=list)
    driver_gaps: list[DriverGap] = field(default_factory=list)
    drivers: pd.DataFrame | None = None  # index case_id: the 0/1 drivers of each predicted case
    answers: pd.DataFrame | None = None  # index response_id: case_id, nps, grade of each answer learnt from

    @property
    def ok(self) -> bool:
        return self.cases is not None


def _measured(frame: pd.DataFrame) -> Block:
    nps = frame["nps"].dropna()
    grade = frame["grade"].dropna()
    return Block(int(len(frame)), float(100 * ((nps >= 9).mean() - (nps <= 6).mean())) if len(nps) else None,
                 float(grade.mean()) if len(grade) else None)


def _predicted(frame: pd.DataFrame) -> Block:
    if frame.empty:
        return Block(0, None, None)
    return Block(int(len(frame)), float(100 * (frame["p_promoter"].mean() - frame["p_detractor"].mean())),
                 float(frame["grade"].mean()))


def build(session: Session, *, folds: int = FOLDS, seed: int = SEED, coverage: float = COVERAGE,
          min_answers: int = MIN_ANSWERS) -> PredictedExperience:
    """Fit, validate and predict (always afresh; :func:`predicted_experience` keeps the result)."""
    closed = prepo.closed_cases(session)
    result = PredictedExperience(n_closed=int(len(closed)))
    features = prepo.case_features(session, closed.index.tolist()) if len(closed) else pd.DataFrame()
    result.n_without_facts = int(len(closed) - len(features))
    answers = prepo.answers(session)
    answers = answers[answers["case_id"].isin(features.index)] if len(features) else answers.iloc[0:0]
    if len(features):
        # Cases of a journey group no answer is about (in practice the cases outside every journey, such as an
        # invoice run nobody is asked about) lie outside what the model learns from: their prediction would be
        # the intercept's guess, yet it would move "all closed cases". Left out and counted; the page says so.
        group = closed.loc[features.index, "journey_id"].astype("Float64").fillna(-1)
        asked = set(group.loc[answers["case_id"].unique()])
        kept = group.isin(asked).to_numpy()
        result.n_left_out = int((~kept).sum())
        features = features[kept]
    if len(answers) < min_answers:
        result.message = "too_few"
        return result
    journey_ids = sorted(int(j) for j in closed["journey_id"].dropna().unique())
    case_x = design(features, closed.loc[features.index, "journey_id"], journey_ids)
    position = pd.Index(features.index).get_indexer(answers["case_id"])
    x = case_x[position]
    grade = answers["grade"].to_numpy(dtype=float)
    nps = answers["nps"].to_numpy(dtype=float)
    customers = np.where(answers["customer_id"].isna(), "r" + answers.index.astype(str),
                         "c" + answers["customer_id"].astype("Int64").astype(str))
    # imported here like scikit-learn; one BLAS thread: on matrices this small more threads only wait on
    # each other (seconds instead of a tenth of one on a busy machine)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        validation = cross_validate(x, grade, nps, customers, folds=folds, seed=seed, coverage=coverage)
    validation.rows.index = answers.index
    validation.rows["case_id"] = answers["case_id"].to_numpy()
    validation.rows["customer"] = customers
    if validation.mae is None or validation.nps_actual is None or len(np.unique(nps_group(nps)[nps_group(nps) >= 0])) < 2:
        result.message = "too_few"
        return result
    with threadpool_limits(1):
        model = fit(x, grade, nps, customers, validation)
        predictions = model.predict(case_x)
    cases = closed.loc[features.index].copy()
    predictions.index = cases.index
    cases = cases.join(predictions)
    cases["answered"] = cases.index.isin(answers["case_id"])
    result.validation = validation
    result.cases = cases
    result.drivers = features[list(CASE_DRIVERS)]
    result.answers = answers[["case_id", "nps", "grade"]]
    _figures(result, cases, result.answers)
    return result


def _figures(result: PredictedExperience, cases: pd.DataFrame, answers: pd.DataFrame) -> None:
    """The comparison, the journeys and the driver gaps of ``cases`` and the ``answers`` given about them."""
    result.respondents = _measured(answers)
    answered_rows = cases.loc[answers["case_id"]]  # one row per answer, like the measured figures
    result.respondents_predicted = _predicted(answered_rows)
    result.all_predicted = _predicted(cases)
    result.not_answered_predicted = _predicted(cases[~cases["answered"]])
    result.by_journey = []
    journey_ids = sorted(int(j) for j in cases["journey_id"].dropna().unique())
    for journey_id in [*journey_ids, None]:
        in_journey = cases["journey_id"].isna() if journey_id is None else cases["journey_id"] == journey_id
        part = cases[in_journey]
        if part.empty:
            continue
        given = answers[answers["case_id"].isin(part.index)]
        result.by_journey.append(JourneyRow(journey_id, int(len(part)), int(part["answered"].sum()),
                                            _measured(given), _predicted(part)))
    result.driver_gaps = []
    answered_ids = cases.index[cases["answered"]]
    other_ids = cases.index[~cases["answered"]]
    if len(answered_ids) and len(other_ids):
        for driver in CASE_DRIVERS:
            result.driver_gaps.append(DriverGap(driver, float(result.drivers.loc[answered_ids, driver].mean()),
                                                float(result.drivers.loc[other_ids, driver].mean())))
        result.driver_gaps.sort(key=lambda d: -abs(d.answered - d.not_answered))


@dataclass(frozen=True)
class GapParts:
    """Where "all closed cases, predicted" differs from what the respondents said, in NPS points, split exactly:
    ``model`` (the respondents' cases predicted minus their answers: the model's own error), ``mix`` (the closed
    cases lie in other journeys than the answers do) and ``within`` (within each journey, the cases of
    non-respondents are predicted otherwise than the respondents' cases); ``total`` is their sum.
    ``journey_id``: the journey whose share moves ``mix`` most."""

    total: float
    model: float
    mix: float
    within: float
    journey_id: int | None


def gap_parts(view: PredictedExperience) -> GapParts | None:
    """:class:`GapParts` of ``view`` (None without predictions or answers). With w_j the journey's share of
    the cases, v_j its share of the answers, P_j its cases' and R_j its answered cases' predicted NPS (per
    answer): sum w_j P_j - sum v_j R_j = sum (w_j - v_j) R_j + sum w_j (P_j - R_j)."""
    if not view.ok or view.answers is None or view.answers.empty or view.cases.empty:
        return None
    cases = view.cases
    nps = 100 * (cases["p_promoter"] - cases["p_detractor"])
    journey = cases["journey_id"].astype("Float64").fillna(-1)
    rows = view.answers["case_id"]
    rows = rows[rows.isin(cases.index)]  # a filtered view keeps every answer; its figures use its cases' only
    if rows.empty:
        return None
    w = journey.value_counts(normalize=True)
    v = journey.loc[rows].value_counts(normalize=True)
    p = nps.groupby(journey).mean()
    r = nps.loc[rows].groupby(journey.loc[rows].to_numpy()).mean()
    mix = {j: (w[j] - v.get(j, 0.0)) * r.get(j, p[j]) for j in w.index}
    within = sum(w[j] * (p[j] - r.get(j, p[j])) for j in w.index)
    model = view.respondents_predicted.nps - view.respondents.nps
    top = max(mix, key=lambda j: abs(mix[j]))
    return GapParts(float(model + sum(mix.values()) + within), float(model), float(sum(mix.values())),
                    float(within), None if top == -1 else int(top))


@dataclass(frozen=True)
class CaseFilter:
    """Which closed cases the page's figures are about: the filters that describe a case (its journey, its
    last team, when it closed (UTC days, ``date_to`` exclusive) and its customer's segment). The response
    filters (channel, the answer's language) say nothing about a customer who did not answer, so they are
    not offered here."""

    journey_id: int | None = None
    team_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    segment_customers: frozenset[int] | None = None  # the customers of the chosen segment

    @property
    def active(self) -> bool:
        return self != CaseFilter()


def filtered(view: PredictedExperience, f: CaseFilter) -> PredictedExperience:
    """``view`` with its comparison, journeys and driver gaps over the cases ``f`` selects (and the answers
    about them); the model and its held-out validation stay those of all answers (a model judged on a
    slice would be judged on a few dozen answers). Without filters, ``view`` itself."""
    if not view.ok or not f.active:
        return view
    cases = view.cases
    keep = pd.Series(True, index=cases.index)
    if f.journey_id is not None:
        keep &= cases["journey_id"] == f.journey_id
    if f.team_id is not None:
        keep &= cases["team_id"] == f.team_id
    closed_at = pd.to_datetime(cases["closed_at"], utc=True)
    if f.date_from is not None:
        keep &= closed_at >= pd.Timestamp(f.date_from, tz="UTC")
    if f.date_to is not None:
        keep &= closed_at < pd.Timestamp(f.date_to, tz="UTC")
    if f.segment_customers is not None:
        keep &= cases["customer_id"].isin(list(f.segment_customers))
    part = cases[keep]
    out = replace(view, cases=part, n_closed=int(len(part)), by_journey=[], driver_gaps=[])
    _figures(out, part, view.answers[view.answers["case_id"].isin(part.index)])
    return out


_cache: dict[str, tuple[tuple, PredictedExperience]] = {}
_lock = threading.Lock()


def predicted_experience(session: Session) -> PredictedExperience:
    """:func:`build`, kept until the data it reads changes (per database)."""
    key = str(session.get_bind().url)
    stamp = prepo.fingerprint(session)
    with _lock:
        hit = _cache.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    result = build(session)
    with _lock:
        _cache.pop(key, None)
        _cache[key] = (stamp, result)
        while len(_cache) > CACHED_DATABASES:  # the least recently built first (tests make many databases)
            _cache.pop(next(iter(_cache)))
    return result


def case_prediction(session: Session, case_id: int) -> dict | None:
    """The prediction of one closed case (grade, its 80% interval, the group and its probabilities), or None."""
    view = predicted_experience(session)
    if not view.ok or case_id not in view.cases.index:
        return None
    row = view.cases.loc[case_id]
    return {"grade": float(row["grade"]), "low": float(row["low"]), "high": float(row["high"]),
            "group": str(row["group"]), "p_detractor": float(row["p_detractor"]),
            "p_passive": float(row["p_passive"]), "p_promoter": float(row["p_promoter"]),
            "answered": bool(row["answered"])}


def summary_dict(view: PredictedExperience) -> dict:
    """The validation and the comparison as plain JSON-ready numbers (no rows, no customers)."""
    def block(b: Block | None) -> dict | None:
        return None if b is None else {"n": b.n, "nps": b.nps, "grade": b.grade}

    v = view.validation
    out = {"ok": view.ok, "message": view.message, "closed_cases": view.n_closed,
           "closed_cases_without_facts": view.n_without_facts, "closed_cases_left_out": view.n_left_out}
    if not view.ok:
        return out
    out["validation"] = {
        "n_answers": v.n_answers, "n_customers": v.n_customers, "folds": v.folds, "split": "customer",
        "coverage_target": v.coverage_target, "mae": v.mae, "mae_baseline": v.mae_baseline,
        "coverage": v.coverage, "width": v.width, "auc_detractor": v.auc_detractor,
        "detractor_share": v.detractor_share, "detractor_predicted": v.detractor_predicted,
        "brier_detractor": v.brier_detractor, "nps_actual": v.nps_actual, "nps_predicted": v.nps_predicted,
        "reliability": v.reliability,
    }
    for key in ("respondents", "respondents_predicted", "all_predicted", "not_answered_predicted"):
        out[key] = block(getattr(view, key))
    out["by_journey"] = [{"journey_id": r.journey_id, "closed_cases": r.closed, "answered_cases": r.answered,
                          "respondents": block(r.respondents), "predicted": block(r.predicted)}
                         for r in view.by_journey]
    out["drivers"] = [{"driver": d.driver, "answered": d.answered, "not_answered": d.not_answered}
                      for d in view.driver_gaps]
    return out


def driver_label(driver: str, language: str) -> str:
    labels = DRIVER_LABELS.get(driver)
    return driver if labels is None else labels[0 if language == "nl" else 1]


def journey_names(session: Session, language: str) -> dict[int, str]:
    return {j.id: j.name(language) for j in journeys(session)}


# --- the proactive follow-up rule ---------------------------------------------------------------------

def _utc(moment) -> pd.Timestamp:
    stamp = pd.Timestamp(moment)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


@dataclass
class Candidate:
    case_id: int
    customer_id: int
    team_id: int | None
    closed_at: datetime
    p_detractor: float
    grade: float


def silent_detractors(session: Session, now: datetime, settings: PredictedSettings | None = None) -> list[Candidate]:
    """Closed cases whose customer is predicted to be a detractor and did not answer: closed between
    ``followup_after_days + followup_window_days`` and ``followup_after_days`` days before ``now``, with a
    customer, no answer about the case and no answer of the customer since it closed."""
    settings = settings or PredictedSettings()
    view = predicted_experience(session)
    if not view.ok:
        return []
    cases = view.cases
    latest = _utc(now - timedelta(days=settings.followup_after_days))
    earliest = latest - pd.Timedelta(days=settings.followup_window_days)
    closed_at = pd.to_datetime(cases["closed_at"], utc=True)
    pick = cases[(closed_at >= earliest) & (closed_at < latest) & ~cases["answered"] & cases["customer_id"].notna()
                 & (cases["p_detractor"] >= settings.followup_probability)]
    if pick.empty:
        return []
    closed_at = closed_at.loc[pick.index]
    spoke = prepo.last_answer(session, pick["customer_id"].astype(int).tolist(), closed_at.min().to_pydatetime())
    out = []
    for case_id, row in pick.sort_values("p_detractor", ascending=False).iterrows():
        last = spoke.get(int(row["customer_id"]))
        if last is not None and _utc(last) >= closed_at.loc[case_id]:
            continue  # the customer answered (about anything) after the case closed: they can speak for themselves
        out.append(Candidate(int(case_id), int(row["customer_id"]),
                             None if pd.isna(row["team_id"]) else int(row["team_id"]),
                             closed_at.loc[case_id].to_pydatetime(), float(row["p_detractor"]), float(row["grade"])))
    return out


RULE = "predicted_detractor"  # the follow-up reason's rule key (its label: followups.rule.predicted_detractor)
RULE_PRIORITY = 2
RULE_DUE_WORKING_DAYS = 2


def open_followups(session: Session, now: datetime, settings: PredictedSettings | None = None) -> list[int]:
    """The proactive rule: one follow-up reason per silent predicted detractor (:func:`silent_detractors`),
    placed by the follow-ups domain (merged into the customer's open follow-up, else opening one; a case
    gets the reason once, however often this runs). Returns the new follow-ups' ids; nothing while the rule
    is off."""
    settings = settings or PredictedSettings()
    if not settings.followups:
        return []
    due = followups.add_working_days(now, RULE_DUE_WORKING_DAYS)
    reasons = [followups.Reason(
        RULE, f"case:{c.case_id}", now,
        # ends in the probability (%, at most 99: a model is never sure): the follow-up page words it as
        # followups.why.predicted_detractor
        f"predicted detractor, did not answer; predicted grade {c.grade:.1f}; probability {min(99, round(100 * c.p_detractor))}",
        RULE_PRIORITY, due, c.customer_id, c.case_id, team_id=c.team_id) for c in silent_detractors(session, now, settings)]
    return followups.place_reasons(session, reasons, now).opened if reasons else []


__all__ = [
    "COVERAGE", "FOLDS", "GROUPS", "Block", "Candidate", "CaseFilter", "DriverGap", "JourneyRow", "Model", "PredictedExperience",
    "PredictedSettings", "Validation", "build", "case_prediction", "cross_validate", "design", "driver_label",
    "filtered", "fit", "folds_by_customer", "GapParts", "gap_parts", "journey_names", "nps_group", "open_followups", "predicted_experience",
    "silent_detractors", "summary_dict",
]
