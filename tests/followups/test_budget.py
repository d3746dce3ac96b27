"""Recovery budget: gestures within budget, refusals over it, approval by the team lead, the report."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from servicepulse.db.session import UnitOfWork
from servicepulse.followups import alerts, budget, service
from servicepulse.followups.errors import Conflict, NotAllowed, OverBudget
from servicepulse.models import Case, FollowUp, Gesture, Journey, Response
from servicepulse.models.followups import AlertRouting

from .conftest import NOW, PERIOD, actor, add_response


@pytest.fixture
def claimed(engine, org) -> tuple[int, int]:
    """Two follow-ups of team A (two customers), claimed by agent A; team budget 100 euro, agent A's own 30 euro."""
    with UnitOfWork(engine) as s:
        s.add(AlertRouting(moment_id=org.moment, team_id=org.team_a))
    add_response(engine, "R-1", ces=6, grade=3, why="")
    add_response(engine, "R-2", ces=6, grade=2, why="", customer="C-2")
    admin, agent = actor(engine, org.users["admin"]), actor(engine, org.users["agent_a"])
    with UnitOfWork(engine) as s:
        ids = alerts.evaluate_responses(s, None, NOW)
        budget.set_budget(s, admin, team_id=org.team_a, period_start=PERIOD[0], period_end=PERIOD[1],
                          amount_cents=100_00)
        budget.set_budget(s, admin, user_id=org.users["agent_a"], period_start=PERIOD[0], period_end=PERIOD[1],
                          amount_cents=30_00)
        for fid in ids:
            service.claim(s, agent, fid, NOW)
    return tuple(ids)


def _spent(engine, **owner):
    with UnitOfWork(engine, readonly=True) as s:
        st = budget.state(s, NOW.date(), **owner)
        return st.spent_cents, st.left_cents


def test_within_budget_is_granted_over_budget_is_refused(engine, org, claimed):
    agent = actor(engine, org.users["agent_a"])
    with UnitOfWork(engine) as s:
        g = budget.spend(s, agent, claimed[0], "credit", 25_00, "Tegoed", NOW)
        assert g.status == "granted"
    with pytest.raises(OverBudget) as info:
        with UnitOfWork(engine) as s:
            budget.spend(s, agent, claimed[1], "gift", 10_00, "Bloemen", NOW)
    assert "your budget has € 5,00 left" in str(info.value)
    assert _spent(engine, user_id=org.users["agent_a"]) == (25_00, 5_00)
    assert _spent(engine, team_id=org.team_a) == (25_00, 75_00)
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(Gesture)) == 1


def test_over_budget_waits_for_the_team_lead(engine, org, claimed):
    agent, lead = actor(engine, org.users["agent_a"]), actor(engine, org.users["lead"])
    with UnitOfWork(engine) as s:
        pending = budget.spend(s, agent, claimed[0], "free_service", 50_00, "Maand gratis", NOW, ask_approval=True)
        assert pending.status == "pending"
    assert _spent(engine, user_id=org.users["agent_a"]) == (0, 30_00)  # pending is not spent
    for who in ("agent_a", "agent_b", "analyst", "admin"):
        with pytest.raises(NotAllowed):
            with UnitOfWork(engine) as s:
                budget.decide(s, actor(engine, org.users[who]), pending.id, True, NOW)
    with UnitOfWork(engine) as s:
        assert [g.id for g in budget.pending_for(s, lead)] == [pending.id]
        assert budget.decide(s, lead, pending.id, True, NOW).status == "approved"
    with pytest.raises(Conflict):
        with UnitOfWork(engine) as s:
            budget.decide(s, lead, pending.id, False, NOW)
    assert _spent(engine, team_id=org.team_a) == (50_00, 50_00)


def test_no_budget_at_all_is_a_clear_refusal(engine, org, claimed):
    with pytest.raises(OverBudget, match="no recovery budget"):
        with UnitOfWork(engine) as s:
            budget.spend(s, actor(engine, org.users["agent_a"]), claimed[0], "credit", 5_00, "", NOW + timedelta(days=40))


def test_concurrent_gestures_cannot_both_take_the_last_euros(engine, org, claimed):
    agent = actor(engine, org.users["agent_a"])
    barrier = threading.Barrier(2)
    results = []

    def spend(fid):
        barrier.wait()
        try:
            with UnitOfWork(engine) as s:
                budget.spend(s, agent, fid, "credit", 20_00, "", NOW)
            results.append("granted")
        except OverBudget:
            results.append("refused")

    threads = [threading.Thread(target=spend, args=(fid,)) for fid in claimed]
    assert len(threads) == 2
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["granted", "refused"]
    assert _spent(engine, user_id=org.users["agent_a"]) == (20_00, 10_00)


def test_report_shows_resurvey_score_and_cancellation(engine, org, claimed):
    agent, analyst = actor(engine, org.users["agent_a"]), actor(engine, org.users["analyst"])
    with UnitOfWork(engine) as s:
        budget.spend(s, agent, claimed[0], "credit", 10_00, "", NOW)
        budget.spend(s, agent, claimed[1], "gift", 10_00, "", NOW)
        service.close(s, agent, claimed[0], "compensated", "billing_error", NOW, resurvey=True)
        service.close(s, agent, claimed[1], "compensated", "billing_error", NOW, resurvey=False)
    with UnitOfWork(engine) as s:
        # the re-survey comes back with a 9; the same customer starts a cancellation a week later
        fu = s.get(FollowUp, claimed[0])
        invitation_id = s.get(budget.Resurvey, claimed[0]).invitation_id
        original = s.get(Response, fu.response_id)
        s.add(Response(survey_version_id=original.survey_version_id, invitation_id=invitation_id,
                       customer_id=org.customer, submitted_at=NOW + timedelta(days=2), grade=9))
        cancel = Journey(key="cancellation", name_nl="Opzeggen", name_en="Cancellation")
        s.add(cancel)
        s.flush()
        s.add(Case(external_id="K-cancel", customer_id=org.customer, journey_id=cancel.id,
                   opened_at=NOW + timedelta(days=7)))
    with UnitOfWork(engine, readonly=True) as s:
        rows = {r["followup_id"]: r for r in budget.spend_report(s, analyst)}
        assert rows[claimed[0]]["resurvey_score"] == {"nps": None, "grade": 9}
        assert rows[claimed[1]]["resurveyed"] is False and rows[claimed[1]]["resurvey_score"] is None
        # the first customer started a cancellation, the second (C-2) did not
        assert rows[claimed[0]]["cancelled_after"] and not rows[claimed[1]]["cancelled_after"]
        assert budget.spend_report(s, actor(engine, org.users["agent_b"])) == []  # another team's spending
