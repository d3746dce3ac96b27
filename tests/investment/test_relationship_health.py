"""Relationship health on a hand-made organisation: who had transactional contact only, who heard nothing after a
bad experience, counted by segment and cut to a team lead's teams; the rule (off by default) opens one follow-up
per customer, merges into an open one, and never twice. On SQLite and PostgreSQL; plus the small demo's billing-only
customers, recovered exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from servicepulse.db.session import UnitOfWork
from servicepulse.demo.generate import generate
from servicepulse.investment import relationship
from servicepulse.models import (
    Case,
    CaseEvent,
    Customer,
    FollowUp,
    FollowUpContact,
    FollowUpReason,
    Journey,
    Moment,
    Response,
)
from servicepulse.org import Actor, service
from servicepulse.surveys import create_or_update_survey

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def _build(engine, now: datetime = NOW) -> dict:
    """The hand-made organisation, its days written as if ``NOW`` were today and shifted to ``now``; returns ids
    by name (customers c1..c13, teams A and B)."""

    def at(day: str) -> datetime:
        return datetime.fromisoformat(day).replace(hour=10, tzinfo=UTC) - NOW + now

    ids: dict = {}
    with UnitOfWork(engine) as s:
        team_a = service.create_unit(s, "team-a", "Team A")
        team_b = service.create_unit(s, "team-b", "Team B")
        ids["A"], ids["B"] = team_a.id, team_b.id
        journey = Journey(key="j", name_nl="J", name_en="J")
        journey.moments = [Moment(key="m", position=1, name_nl="M", name_en="M", kind="functional", norm=7.0)]
        s.add(journey)
        s.flush()
        version = create_or_update_survey(s, {"key": "after", "name": "After", "moment": "j/m",
                                              "questions": [{"key": "nps", "type": "nps"},
                                                            {"key": "grade", "type": "grade"}]})
        segments = {1: "consumer", 2: "consumer", 3: "business", 4: None, 5: "senior", 6: "consumer",
                    7: "consumer", 8: "business", 9: "senior", 10: "consumer", 11: "consumer", 12: "consumer",
                    13: "business"}
        for n, segment in segments.items():
            customer = Customer(external_id=f"K{n:03d}", segment=segment)
            s.add(customer)
            s.flush()
            ids[f"c{n}"] = customer.id

        def case(n: int, team: str, events: list[tuple]) -> int:
            c = Case(external_id=f"Z{n}-{len(events)}-{team}", customer_id=ids[f"c{n}"], last_team_id=ids[team])
            s.add(c)
            s.flush()
            for k, (day, activity, direction) in enumerate(events):
                s.add(CaseEvent(case_id=c.id, occurred_at=at(day), seq=k, activity=activity, direction=direction,
                                team_id=ids[team], customer_facing=direction != "internal"))
            s.flush()
            return c.id

        def answer(n: int, day: str, team: str, nps=None, grade=None, case_id=None) -> int:
            r = Response(survey_version_id=version.id, customer_id=ids[f"c{n}"], submitted_at=at(day), nps=nps,
                         grade=grade, team_id=ids[team], case_id=case_id, completed=True)
            s.add(r)
            s.flush()
            return r.id

        # transactional only
        case(1, "A", [("2026-01-10", "Invoice sent", "outbound"), ("2026-02-10", "Direct debit collected", None)])
        case(2, "A", [("2026-01-10", "Invoice sent", "outbound"),
                      ("2026-03-01", "Billing question asked", "inbound")])  # a real contact: not
        case(3, "B", [("2026-04-01", "invoice SENT", "outbound")])  # case-insensitive
        case(4, "A", [("2025-03-01", "Invoice sent", "outbound")])  # nothing in the last 12 months: not
        case(5, "A", [("2025-02-01", "Fault reported", "inbound"),  # before the window
                      ("2026-02-01", "Invoice sent", "outbound")])
        # silent after a bad experience
        z6 = case(6, "A", [("2026-03-20", "Fault reported", "inbound"), ("2026-03-28", "Case closed", "outbound")])
        answer(6, "2026-04-01", "A", nps=3, case_id=z6)
        z7 = case(7, "A", [("2026-03-20", "Fault reported", "inbound"),
                           ("2026-04-05", "Customer called back", "outbound")])  # we called after the answer
        answer(7, "2026-04-01", "A", nps=2, case_id=z7)
        answer(8, "2026-04-01", "B", nps=9)  # a promoter
        answer(9, "2026-02-01", "B", nps=2)
        answer(9, "2026-03-01", "B", nps=9)  # the latest answer is good
        answer(10, "2026-03-15", "B", grade=4)  # no NPS, a failing grade
        answer(11, "2026-05-25", "A", nps=5)  # a week ago: the alert rules still have it
        r12 = answer(12, "2026-04-10", "A", nps=4)
        fu = FollowUp(cause="detractor", cause_ref=f"response:{r12}", customer_id=ids["c12"], response_id=r12,
                      team_id=ids["A"], status="closed", due_at=at("2026-04-14"), created_at=at("2026-04-10"))
        s.add(fu)
        s.flush()
        s.add(FollowUpContact(followup_id=fu.id, at=at("2026-04-12"), note="gebeld"))  # we reached them
        z13 = case(13, "A", [("2026-04-11", "Customer contacts again", "inbound")])  # only they spoke
        r13 = answer(13, "2026-04-10", "A", nps=1, case_id=z13)
        open_fu = FollowUp(cause="detractor", cause_ref="response:x13", customer_id=ids["c13"], response_id=r13,
                           team_id=ids["A"], status="open", due_at=now + timedelta(days=2), created_at=now)
        s.add(open_fu)
        s.flush()
        s.add(FollowUpReason(followup_id=open_fu.id, rule="detractor", ref="response:x13",
                             at=now - timedelta(days=2), summary="NPS 1", priority=2))
        ids["open13"] = open_fu.id
    return ids


def test_groups_and_counts_by_segment(engine):
    ids = _build(engine)
    with UnitOfWork(engine, readonly=True) as s:
        view = relationship.health(s, Actor.installation(), NOW)
    assert {r.customer_id for r in view.transactional} == {ids["c1"], ids["c3"], ids["c5"]}
    assert {r.customer_id for r in view.silent} == {ids["c6"], ids["c10"], ids["c13"]}
    assert view.counts("transactional") == {"consumer": 1, "business": 1, "senior": 1}
    assert view.counts("silent") == {"consumer": 2, "business": 1}
    silent = {r.customer_id: r for r in view.silent}
    assert (silent[ids["c10"]].nps, silent[ids["c10"]].grade) == (None, 4)
    assert silent[ids["c6"]].number == "K006"
    # a shorter quiet time brings in the answer of a week ago
    with UnitOfWork(engine, readonly=True) as s:
        soon = relationship.health(s, Actor.installation(), NOW, relationship.RelationshipSettings(quiet_days=3))
    assert {r.customer_id for r in soon.silent} == {ids["c6"], ids["c10"], ids["c11"], ids["c13"]}


def test_a_team_lead_sees_the_customers_of_their_teams(engine):
    ids = _build(engine)
    lead_a = Actor(0, "teamlead", frozenset({ids["A"]}), frozenset({ids["A"]}))
    lead_b = Actor(0, "teamlead", frozenset({ids["B"]}), frozenset({ids["B"]}))
    with UnitOfWork(engine, readonly=True) as s:
        a = relationship.health(s, lead_a, NOW)
        b = relationship.health(s, lead_b, NOW)
    assert {r.customer_id for r in a.transactional} == {ids["c1"], ids["c5"]}
    assert {r.customer_id for r in a.silent} == {ids["c6"], ids["c13"]}
    assert {r.customer_id for r in b.transactional} == {ids["c3"]}
    assert {r.customer_id for r in b.silent} == {ids["c10"]}


def test_the_rule_is_off_by_default_and_opens_one_followup_per_customer(engine):
    ids = _build(engine)
    with UnitOfWork(engine) as s:
        assert relationship.open_followups(s, NOW) == []  # off by default
    on = relationship.RelationshipSettings(followups=True)
    with UnitOfWork(engine) as s:
        opened = relationship.open_followups(s, NOW, on)
    with UnitOfWork(engine, readonly=True) as s:
        new = s.execute(select(FollowUp.customer_id, FollowUp.cause, FollowUp.team_id)
                        .where(FollowUp.id.in_(opened))).all()
        merged = s.scalars(select(FollowUpReason.rule).where(FollowUpReason.followup_id == ids["open13"])).all()
    # c13 already had an open follow-up: the reason joined it
    assert sorted(merged) == ["detractor", "silent_after_bad"]
    assert {c for c, _, _ in new} == {ids["c1"], ids["c3"], ids["c5"], ids["c6"], ids["c10"]}
    causes = {c: (cause, team) for c, cause, team in new}
    assert causes[ids["c1"]] == ("transactional_only", ids["A"]) and causes[ids["c3"]] == ("transactional_only",
                                                                                              ids["B"])
    assert causes[ids["c10"]] == ("silent_after_bad", ids["B"])
    # a second run the same day (and a later one in the same year) adds nothing
    with UnitOfWork(engine) as s:
        assert relationship.open_followups(s, NOW, on) == []
        assert relationship.open_followups(s, NOW + timedelta(days=1), on) == []
    with UnitOfWork(engine, readonly=True) as s:
        reasons = s.scalar(select(func.count()).select_from(FollowUpReason)
                           .where(FollowUpReason.rule.in_(("transactional_only", "silent_after_bad"))))
    assert reasons == 6


@pytest.mark.demo("small", 2026)
def test_the_demo_billing_only_customers_are_recovered(engine):
    now = datetime(2026, 11, 1, tzinfo=UTC)
    with UnitOfWork(engine, readonly=True) as s:
        view = relationship.health(s, Actor.installation(), now)
        billing = set(s.scalars(select(Case.customer_id).where(Case.external_id.like("GN-BILL-%"))))
        numbers = dict(s.execute(select(Customer.id, Customer.external_id)).all())
    assert {r.customer_id for r in view.transactional} == billing and len(billing) >= 100
    # the billing-only customers are exactly those the generator left without a case
    data = generate("small", 2026)
    without = set(data.customers["external_id"]) - set(data.customers["external_id"].iloc[data.cases["customer"]])
    assert {numbers[c] for c in billing} <= without
    # the demo's stories leave detractors who heard nothing after their answer
    assert len(view.silent) >= 50 and set(view.counts("silent")) == {"consumer", "senior", "business"}
