"""The predicted-experience page applies its filters (#17, H3 item 2): journey, team, customer segment and
the day a case closed select the cases whose figures are shown, checked against counts made here from the
stored rows; the response filters (channel, language) are not offered and, in a URL, said not to apply."""

from __future__ import annotations

from datetime import date
from html import unescape

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.metrics import predicted
from servicepulse.models import Case, Customer, Response

from .conftest import SMALL_DEMO_SEED, login

DEMO = pytest.mark.demo("small", SMALL_DEMO_SEED)


@pytest.fixture(scope="module")
def demo_rows(demo_engine):
    with UnitOfWork(demo_engine, readonly=True) as s:
        view = predicted.build(s)
        cases = pd.DataFrame(s.execute(select(Case.id, Case.journey_id, Case.last_team_id, Customer.segment)
                                       .outerjoin(Customer, Customer.id == Case.customer_id)).all(),
                             columns=["case_id", "journey_id", "team_id", "segment"]).set_index("case_id")
        answers = pd.DataFrame(s.execute(select(Response.case_id, Response.nps, Response.grade)
                                         .where(Response.case_id.is_not(None), Response.completed.is_(True))).all(),
                               columns=["case_id", "nps", "grade"])
        segments = {sg: frozenset(s.scalars(select(Customer.id).where(Customer.segment == sg)))
                    for sg in s.scalars(select(Customer.segment).distinct()) if sg}
    return view, cases, answers, segments


def _nps(scores: pd.Series) -> float:
    scores = scores.dropna()
    return 100 * ((scores >= 9).mean() - (scores <= 6).mean())


def test_no_filter_is_the_whole_view(demo_rows):
    view, *_ = demo_rows
    assert predicted.filtered(view, predicted.CaseFilter()) is view


def test_journey_team_and_segment_select_the_cases(demo_rows):
    view, cases, answers, segments = demo_rows
    predicted_ids = view.cases.index
    journey = int(cases.loc[predicted_ids, "journey_id"].dropna().value_counts().index[-1])  # the smallest journey
    team = int(cases.loc[predicted_ids, "team_id"].dropna().value_counts().index[0])
    segment = sorted(segments)[0]
    for f, chosen in (
            (predicted.CaseFilter(journey_id=journey), cases.loc[predicted_ids, "journey_id"] == journey),
            (predicted.CaseFilter(team_id=team), cases.loc[predicted_ids, "team_id"] == team),
            (predicted.CaseFilter(segment_customers=segments[segment]),
             cases.loc[predicted_ids, "segment"] == segment)):
        part = predicted.filtered(view, f)
        ids = predicted_ids[chosen.to_numpy()]
        assert 0 < len(ids) < len(predicted_ids)
        assert sorted(part.cases.index) == sorted(ids)
        assert part.all_predicted.n == len(ids)
        expected = 100 * (view.cases.loc[ids, "p_promoter"].mean() - view.cases.loc[ids, "p_detractor"].mean())
        assert part.all_predicted.nps == pytest.approx(expected)
        given = answers[answers["case_id"].isin(ids)]
        assert part.respondents.n == len(given)
        assert part.respondents.nps == pytest.approx(_nps(given["nps"]))
        assert part.respondents.grade == pytest.approx(given["grade"].dropna().mean())
        assert sum(r.closed for r in part.by_journey) == len(ids)
        # the model and its held-out check stay those of all answers
        assert part.validation is view.validation
    only = predicted.filtered(view, predicted.CaseFilter(journey_id=journey))
    assert [r.journey_id for r in only.by_journey] == [journey]


def test_the_period_selects_by_the_day_a_case_closed(demo_rows):
    view, *_ = demo_rows
    closed = pd.to_datetime(view.cases["closed_at"], utc=True)
    middle = closed.sort_values().iloc[len(closed) // 2].date()
    start, end = middle.replace(day=1), date(middle.year + (middle.month == 12), middle.month % 12 + 1, 1)
    part = predicted.filtered(view, predicted.CaseFilter(date_from=start, date_to=end))
    inside = (closed >= pd.Timestamp(start, tz="UTC")) & (closed < pd.Timestamp(end, tz="UTC"))
    assert part.all_predicted.n == int(inside.sum()) > 0
    assert np.all(pd.to_datetime(part.cases["closed_at"], utc=True).dt.date >= start)


def test_a_filter_that_selects_nothing_shows_no_figures(demo_rows):
    view, *_ = demo_rows
    part = predicted.filtered(view, predicted.CaseFilter(team_id=2**31 - 1))
    assert part.all_predicted.n == 0 and part.all_predicted.nps is None and part.by_journey == []


@DEMO
def test_the_page_applies_its_filters_and_names_those_that_do_not_apply(client, make_user, engine):
    make_user("ana@example.org", role="analyst", language="en")
    assert login(client, "ana@example.org").status_code == 303
    with UnitOfWork(engine, readonly=True) as s:
        view = predicted.predicted_experience(s)
        journey = int(view.cases["journey_id"].dropna().value_counts().index[-1])
    whole = unescape(client.get("/metrics/predicted").text)
    html = unescape(client.get(f"/metrics/predicted?journey={journey}").text)

    def all_predicted_n(page: str) -> int:
        row = page.split('data-row="all_predicted"')[1].split("</tr>")[0]
        return int(row.split('data-label="Number"')[1].split(">")[1].split("<")[0].replace(",", ""))
    expected = int((view.cases["journey_id"] == journey).sum())
    assert all_predicted_n(whole) == len(view.cases) and all_predicted_n(html) == expected
    assert 'class="chip"' in html and 'id="validation-unfiltered"' in html
    form = html.split('class="filters card"')[1].split("</form>")[0]
    assert 'name="journey"' in form and 'name="team"' in form and 'name="segment"' in form
    assert 'name="channel"' not in form and 'name="language"' not in form
    # the downloads carry the filter, and give the filtered figures
    assert f"/metrics/predicted/tables/comparison.csv?journey={journey}" in html
    csv = client.get(f"/metrics/predicted/tables/comparison.csv?journey={journey}").text
    assert str(expected) in csv
    refused = unescape(client.get("/metrics/predicted?channel=email").text)
    assert "does not apply to predicted figures" in refused
