"""The demo's expectation answers, its value discipline and its customers with transactional contact only.

Called once by the loader, in the load's transaction, after the main write and before the case facts (the
billing cases get facts like every case). The structure is documented in demo/effects.py (the section on
expectations); the expectation surveys are installed through the investment domain, as an administrator
would. Returns the counts the loader's summary adds (cases, events, responses, answers; the summary's
``surveys`` stays the journey surveys).
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepulse.demo import effects
from servicepulse.demo.catalogue import JOURNEYS
from servicepulse.demo.generate import DemoData
from servicepulse.investment import expectation_survey
from servicepulse.models import Answer, Case, CaseEvent, Customer, OrgUnit, Response, ValueDiscipline

BILLING_TEAM = "gn-billing-ops"
SEED_OFFSET = 18  # the number: these draws never share a stream with the main generator


def _draw(rng: np.random.Generator, mean: float, sd: float, top: int) -> int:
    return int(np.clip(np.rint(rng.normal(mean, sd)), 1, top))


def _window_end(data: DemoData) -> pd.Timestamp:
    return pd.Timestamp(data.last_day + timedelta(days=1), tz="Europe/Amsterdam").tz_convert("UTC")


def _expectation_rows(session: Session, data: DemoData, customer_ids: dict[str, int],
                      rng: np.random.Generator) -> tuple[list[dict], list[list[dict]]]:
    versions = {}
    for change in expectation_survey.install(session):
        survey = change.version.survey
        versions[survey.key] = change.version.id
    journeys = {j.key: j for j in JOURNEYS}
    cases = data.cases.sort_values("opened_at")
    latest = cases.groupby("customer")["journey"].last()
    chosen = latest.index[rng.random(len(latest)) < effects.EXPECTATION_SHARE]
    end = _window_end(data)
    responses, answers = [], []
    for number in chosen:
        customer = data.customers.iloc[int(number)]
        journey = journeys[latest.loc[number]]
        version_id = versions[expectation_survey.key_of(journey.key)]
        at = end - pd.Timedelta(seconds=int(rng.uniform(3600, effects.EXPECTATION_DAYS * 86400)))
        responses.append({
            "external_id": f"demo-expectation-{int(number)}", "survey_version_id": version_id,
            # about the journey as a whole, not about its last moment (the survey's link): no moment, so that the
            # per-moment response counts stay the answers that grade the moment
            "customer_id": customer_ids[customer["external_id"]], "case_id": None, "moment_id": None,
            "team_id": None, "channel": "email", "language": customer["language"], "submitted_at": at.to_pydatetime(),
            "created_at": at.to_pydatetime(), "completed": True,
        })
        rows = []
        for dimension, (importance, expected, perceived) in effects.DIMENSION_MEANS.items():
            rows.append((expectation_survey.IMPORTANCE + dimension,
                         _draw(rng, importance, effects.IMPORTANCE_SD, 5)))
            rows.append((expectation_survey.EXPECTED + dimension, _draw(rng, expected, effects.MARK_SD, 10)))
            rows.append((expectation_survey.PERCEIVED + dimension, _draw(rng, perceived, effects.MARK_SD, 10)))
        for moment in journey.moments:
            keys = expectation_survey.moment_question_keys(moment.key)
            expected = effects.EXPECT_MORE.get((journey.key, moment.key), effects.EXPECTED_MARK[moment.kind])
            rows.append((keys[0], _draw(rng, effects.IMPORTANCE_MARK[moment.kind], effects.IMPORTANCE_SD, 5)))
            rows.append((keys[1], _draw(rng, expected, effects.MARK_SD, 10)))
        answers.append([{"question_key": k, "value_text": f"s{v}"} for k, v in rows])
    return responses, answers


def _billing_cases(conn, data: DemoData, customer_ids: dict[str, int], billing_team: int | None,
                   rng: np.random.Generator) -> tuple[int, int]:
    with_case = set(data.cases["customer"].astype(int))
    without = [i for i in range(len(data.customers)) if i not in with_case]
    chosen = [i for i in without if rng.random() < effects.TRANSACTIONAL_SHARE]
    end = _window_end(data)
    n_events = 0
    for number in chosen:
        bills = int(rng.integers(1, 4))
        times = sorted(end - pd.Timedelta(seconds=int(rng.uniform(3600, 330 * 86400))) for _ in range(bills))
        case_id = conn.execute(Case.__table__.insert().values(
            external_id=f"GN-BILL-{int(number):07d}", journey_id=None,
            customer_id=customer_ids[data.customers.iloc[number]["external_id"]],
            opened_at=times[0].to_pydatetime(), closed_at=times[-1].to_pydatetime() + timedelta(seconds=1), last_team_id=billing_team,
            attributes={"first_channel": "email"})).inserted_primary_key[0]
        conn.execute(CaseEvent.__table__.insert(), [
            {"case_id": case_id, "occurred_at": t.to_pydatetime(), "seq": k, "activity": effects.TRANSACTIONAL_ACTIVITY,
             "channel": "email", "direction": "outbound", "actor": None, "team_id": billing_team, "line": None,
             "customer_facing": True, "moment_id": None, "attributes": {}, "ingested_at": t.to_pydatetime()}
            for k, t in enumerate(times)] + [
            # an internal closing step after the last bill: the case is done (closed, as its events say) and
            # raises no silence signal; it is no contact, so the customer's only contacts stay the bills
            {"case_id": case_id, "occurred_at": times[-1].to_pydatetime() + timedelta(seconds=1), "seq": bills,
             "activity": "Case closed", "channel": None, "direction": "internal", "actor": None,
             "team_id": billing_team, "line": None, "customer_facing": False, "moment_id": None, "attributes": {},
             "ingested_at": times[-1].to_pydatetime() + timedelta(seconds=1)}])
        n_events += bills + 1
    return len(chosen), n_events


def add(conn, data: DemoData, counts: dict[str, int], seed: int) -> dict[str, int]:
    """Write the expectation surveys and answers, the discipline and the billing-only customers; returns
    ``counts`` with the rows added."""
    rng = np.random.default_rng(seed + SEED_OFFSET)
    customer_ids = dict(conn.execute(select(Customer.external_id, Customer.id)).all())
    billing_team = conn.scalar(select(OrgUnit.id).where(OrgUnit.key == BILLING_TEAM))
    session = Session(bind=conn)
    try:
        responses, answers = _expectation_rows(session, data, customer_ids, rng)
        start = pd.Timestamp(data.first_day, tz="Europe/Amsterdam").tz_convert("UTC").to_pydatetime()
        session.add(ValueDiscipline(discipline=effects.DEMO_DISCIPLINE, chosen_at=start,
                                    note="Glasvezel Noord: de scherpste prijs van het noorden."))
        session.flush()
    finally:
        session.close()
    n_answers = 0
    for response, rows in zip(responses, answers):
        response_id = conn.execute(Response.__table__.insert().values(**response)).inserted_primary_key[0]
        conn.execute(Answer.__table__.insert(), [{"response_id": response_id, "value_num": None, "value_json": None,
                                                   **row} for row in rows])
        n_answers += len(rows)
    n_cases, n_events = _billing_cases(conn, data, customer_ids, billing_team, rng)
    return {**counts, "cases": counts["cases"] + n_cases, "events": counts["events"] + n_events,
            "responses": counts["responses"] + len(responses), "answers": counts["answers"] + n_answers}
