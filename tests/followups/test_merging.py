"""One follow-up per unhappy customer: later reasons (another answer, a broken promise, a high effort index)
merge into the customer's open follow-up within the merge window; anonymous answers open none; old answers
open none; the settings are refused with a clear message when out of range."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from servicepulse.db.session import UnitOfWork
from servicepulse.errors import ValidationFailed
from servicepulse.followups import alerts, config, service
from servicepulse.models import Case, CaseFacts, FollowUp, FollowUpReason, Promise, Response

from .conftest import NOW, actor, add_response


def _state(engine):
    with UnitOfWork(engine, readonly=True) as s:
        fus = [(f.id, f.status, f.priority, f.customer_id) for f in s.scalars(select(FollowUp).order_by(FollowUp.id))]
        reasons = [tuple(r) for r in s.execute(select(FollowUpReason.followup_id, FollowUpReason.rule,
                                                      FollowUpReason.ref).order_by(FollowUpReason.id))]
    return fus, reasons


def _evaluate(engine, at):
    with UnitOfWork(engine) as s:
        return alerts.run_all(s, at)


def test_later_reasons_of_the_customer_merge_into_their_open_follow_up(engine, org):
    first = add_response(engine, "R-1", ces=6, grade=4, why="", case="K-1")
    assert _evaluate(engine, NOW)["responses"] == 1
    second = add_response(engine, "R-2", ces=2, grade=8, why="", now=NOW + timedelta(days=3))
    with UnitOfWork(engine) as s:
        s.add(Promise(case_id=org.case, kind="callback", made_at=NOW, due_at=NOW + timedelta(days=4),
                      status="broken", broken_at=NOW + timedelta(days=4), made_by_team_id=org.team_a))
    counts = _evaluate(engine, NOW + timedelta(days=4))
    assert counts == {"responses": 0, "cases": 0, "merged": 1}
    (fu,), reasons = _state(engine)
    assert fu[1] == "open" and fu[2] == 1  # the broken promise (priority 1) made it more urgent
    assert [(rule, ref) for _, rule, ref in reasons] == [
        ("low_grade", f"response:{first}"), ("high_effort_answer", f"response:{second}"),
        ("broken_promise", reasons[2][2])]
    assert reasons[2][2].startswith("promise:")
    # the page lists every reason with its time, in the reader's words
    with UnitOfWork(engine, readonly=True) as s:
        views = service.reasons_of(s, actor(engine, org.users["agent_b"]), fu[0])
    assert [(v.rule, v.value, v.kind) for v in views] == [("low_grade", "4", None), ("high_effort_answer", "2", None),
                                                          ("broken_promise", None, "callback")]
    assert [v.at for v in views] == [NOW, NOW + timedelta(days=3), NOW + timedelta(days=4)]


def test_outside_the_window_or_after_closing_a_new_follow_up_opens(engine, org):
    add_response(engine, "R-1", ces=6, grade=4, why="")
    _evaluate(engine, NOW)
    add_response(engine, "R-2", ces=6, grade=3, why="", now=NOW + timedelta(days=15))
    assert _evaluate(engine, NOW + timedelta(days=15))["responses"] == 1  # 15 days later: a new story
    with UnitOfWork(engine) as s:
        config.set_loop_settings(s, actor(engine, org.users["admin"]), merge_window_days=30, alert_max_age_days=14)
    add_response(engine, "R-3", ces=6, grade=2, why="", now=NOW + timedelta(days=16))
    assert _evaluate(engine, NOW + timedelta(days=16)) == {"responses": 0, "cases": 0, "merged": 1}
    fus, reasons = _state(engine)
    # within 30 days of both: it joins the newest open follow-up
    assert [fid for fid, _, _ in reasons] == [fus[0][0], fus[1][0], fus[1][0]]
    with UnitOfWork(engine) as s:
        s.execute(update(FollowUp).values(status="closed", outcome="resolved", closed_at=NOW + timedelta(days=16)))
    add_response(engine, "R-4", ces=6, grade=2, why="", now=NOW + timedelta(days=17))
    assert _evaluate(engine, NOW + timedelta(days=17))["responses"] == 1  # closed ones are never reopened


def test_an_anonymous_answer_opens_no_follow_up(engine, org):
    rid = add_response(engine, "R-1", ces=1, grade=1, why="Ik ga opzeggen en een klacht indienen")
    with UnitOfWork(engine) as s:  # as an anonymous link stores it: no customer
        s.execute(update(Response).where(Response.id == rid).values(customer_id=None, case_id=None))
    assert _evaluate(engine, NOW) == {"responses": 0, "cases": 0, "merged": 0}
    assert _state(engine) == ([], [])


def test_only_recent_answers_and_events_alert(engine, org):
    add_response(engine, "R-old", ces=1, grade=1, why="", now=NOW - timedelta(days=15))
    add_response(engine, "R-new", ces=6, grade=4, why="", now=NOW - timedelta(days=13))
    with UnitOfWork(engine) as s:
        s.add(Promise(case_id=org.case, kind="callback", made_at=NOW - timedelta(days=30),
                      due_at=NOW - timedelta(days=20), status="broken", broken_at=NOW - timedelta(days=20)))
    assert _evaluate(engine, NOW) == {"responses": 1, "cases": 0, "merged": 0}
    _, reasons = _state(engine)
    assert [rule for _, rule, _ in reasons] == ["low_grade"]
    with UnitOfWork(engine) as s:  # 0: no age limit (e.g. to follow up an imported period on purpose)
        config.set_loop_settings(s, actor(engine, org.users["admin"]), merge_window_days=14, alert_max_age_days=0)
    # the older answer and promise lie within the merge window of the open follow-up: they join it
    assert _evaluate(engine, NOW) == {"responses": 0, "cases": 0, "merged": 1}
    fus, reasons = _state(engine)
    assert len(fus) == 1 and sorted(rule for _, rule, _ in reasons) == [
        "broken_promise", "high_effort_answer", "low_grade", "low_grade"]


def test_a_case_without_customer_gets_one_follow_up_for_its_reasons(engine, org):
    numbers = dict(events=5, throughput_days=3.0, inbound_contacts=3, repeat_contacts=2, after_hours_contacts=0,
                   channel_switches=1, handoffs=2, front_to_back=1, back_to_front=1, ping_pong=0,
                   dark_period_hours=30.0, closed=True, reopenings=0, first_time_right=False,
                   waiting_on_customer_hours=0.0, closed_hours=0.0, waiting_on_us_hours=40.0)
    with UnitOfWork(engine) as s:
        case = Case(external_id="K-anon", journey_id=org.journey, last_team_id=org.team_a, closed_at=NOW)
        s.add(case)
        s.flush()
        s.add(CaseFacts(case_id=case.id, started_at=NOW, ended_at=NOW, effort_index=90.0, **numbers))
        s.add(Promise(case_id=case.id, kind="callback", made_at=NOW, due_at=NOW, status="broken", broken_at=NOW))
    assert _evaluate(engine, NOW) == {"responses": 0, "cases": 1, "merged": 0}
    (fu,), reasons = _state(engine)
    assert fu[3] is None and sorted(rule for _, rule, _ in reasons) == ["broken_promise", "high_effort_index"]


@pytest.mark.parametrize("window, age", [(-1, 14), (14, 366)])
def test_settings_out_of_range_are_refused(engine, org, window, age):
    with UnitOfWork(engine) as s, pytest.raises(ValidationFailed) as refused:
        config.set_loop_settings(s, actor(engine, org.users["admin"]), merge_window_days=window,
                                 alert_max_age_days=age)
    assert ("merge window" if window < 0 else "age limit") in str(refused.value)
    with UnitOfWork(engine) as s, pytest.raises(Exception) as not_admin:
        config.set_loop_settings(s, actor(engine, org.users["lead"]), merge_window_days=7, alert_max_age_days=7)
    assert "follow-up settings" in str(not_admin.value)


def test_the_settings_page_sets_the_window_and_the_age_limit(engine, org):
    from fastapi.testclient import TestClient

    from servicepulse.app import create_app
    from servicepulse.settings import Settings

    from .conftest import csrf_from, login

    app = create_app(engine, Settings(secret_key="loop-settings-" + "x" * 30))
    with TestClient(app, base_url="http://testserver") as admin, TestClient(app, base_url="http://testserver") as lead:
        assert login(admin, org.email("admin")).status_code == 303
        page = admin.get("/followups/settings")
        assert page.status_code == 200 and 'id="merge_window_days"' in page.text and 'value="14"' in page.text
        token = csrf_from(page.text)
        saved = admin.post("/followups/settings/loop", data={"merge_window_days": "21", "alert_max_age_days": "7",
                                                             "csrf_token": token}, follow_redirects=False)
        assert saved.status_code == 303
        refused = admin.post("/followups/settings/loop", data={"merge_window_days": "", "alert_max_age_days": "400",
                                                               "csrf_token": token}, headers={"Accept-Language": "nl"})
        assert refused.status_code == 400 and "merge_window_days" in refused.text and "geen getal" in refused.text
        assert login(lead, org.email("lead")).status_code == 303
        assert lead.post("/followups/settings/loop", data={"merge_window_days": "1", "alert_max_age_days": "1",
                                                           "csrf_token": csrf_from(lead.get("/").text)}).status_code == 403
    with UnitOfWork(engine, readonly=True) as s:
        assert alerts.loop_settings(s) == alerts.LoopSettings(merge_window_days=21, alert_max_age_days=7)
