"""Issue #16 item 5: a workspace per role on the home page.

Agents land on their teams' work (overdue, due today, own and the team's follow-ups, signals), team leads on
their teams (follow-ups, root causes, scores, recovery budget, signals), administrators and analysts on the
7+/9+ status of every moment and a ranked "what to improve first". Each sees only what their role may see.
Both databases (the `engine` fixture)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from servicepulse.db.session import UnitOfWork
from servicepulse.demo import recovery
from servicepulse.demo.after_load import prepare_closed_loop
from servicepulse.expectations.signals import ensure_default_rules
from servicepulse.models import (
    Answer,
    Case,
    FollowUp,
    FollowUpReason,
    Journey,
    Moment,
    Response,
    Survey,
    SurveyVersion,
)
from servicepulse.models.expectations import Signal
from servicepulse.models.followups import Gesture, RecoveryBudget, RootCause
from servicepulse.org import service as org_service
from servicepulse.registry import NAV

from .conftest import PASSWORD, csrf_from, login

# (moment key, kind, [grades]): the statuses follow from the norms (7 functional, 9 emotional; below 7 is
# always "fix the basics"), so the ranking is known without the application
MOMENTS = [
    ("good", "functional", [7, 8] * 20),  # 7.5 >= 7, less than a point above: good enough
    ("fix_small", "functional", [6, 7] * 16),  # 6.5 < 7: fix the basics, 32 answers
    ("win", "emotional", [7, 9] * 30),  # 8.0 < 9: a moment of truth to win, 60 answers
    ("fix_big", "functional", [5, 7] * 25),  # 6.0 < 7: fix the basics, 50 answers
    ("keep", "emotional", [9, 10] * 20),  # 9.5 >= 9: keep it
    ("few", "functional", [3] * 5),  # too few answers to judge
]
EXPECTED_RANKING = ["fix_big", "fix_small", "win"]  # the basics first, each group by its number of answers
EXPECTED_STATUS = {"good": "good_enough", "fix_small": "fix_basics", "win": "win_moment", "fix_big": "fix_basics",
                   "keep": "keep_it", "few": "unknown"}


def _journey(s, now):
    survey = Survey(key="s", name="s")
    version = SurveyVersion(survey=survey, version=1, definition={})
    journey = Journey(key="repair", name_nl="Reparatie", name_en="Repair")
    s.add_all([survey, version, journey])
    for position, (key, kind, grades) in enumerate(MOMENTS, start=1):
        moment = Moment(journey=journey, key=key, position=position, name_nl=f"Moment {key}", name_en=f"Moment {key}",
                        kind=kind, norm=7.0 if kind == "functional" else 9.0)
        s.add(moment)
        s.flush()
        for i, grade in enumerate(grades):
            s.add(Response(survey_version_id=version.id, moment_id=moment.id, grade=grade,
                           submitted_at=now - timedelta(days=10, hours=i),
                           answers=[Answer(question_key=f"moment_{key}", value_num=float(grade))]))
    s.flush()
    return journey


def _build(engine):
    """Teams A and B, a user of every role, follow-ups and signals of both teams, a budget and a gesture."""
    now = datetime.now(UTC)
    ids = {}
    with UnitOfWork(engine) as s:
        dept = org_service.create_unit(s, "dept", "Klantenservice", kind="department")
        team_a = org_service.create_unit(s, "team-a", "Team Alfa", parent=dept, line="front")
        team_b = org_service.create_unit(s, "team-b", "Team Bravo", parent=dept, line="front")
        users = {}
        for who, role, teams, lead in [("admin", "admin", [], []), ("analyst", "analyst", [], []),
                                       ("lead", "teamlead", [], ["team-a"]), ("agent-a", "agent", ["team-a"], []),
                                       ("agent-b", "agent", ["team-b"], [])]:
            users[who] = org_service.create_user(s, f"{who}@example.org", f"Naam {who}", PASSWORD, role,
                                                 teams=teams, lead_of=lead, language="nl").id
        journey = _journey(s, now)
        s.add(RootCause(journey_id=journey.id, key="slow_engineer", label_nl="Monteur te laat",
                        label_en="Engineer late"))
        cases = {}
        for key, team in (("K-A", team_a), ("K-B", team_b)):
            cases[key] = Case(external_id=key, journey_id=journey.id, last_team_id=team.id, opened_at=now - timedelta(days=3))
            s.add(cases[key])
        s.flush()

        def fu(ref, team, due, *, assignee=None, status="open", **extra):
            row = FollowUp(cause="detractor", cause_ref=ref, team_id=team.id, priority=2, status=status,
                           created_at=now - timedelta(days=2), due_at=due, assignee_id=assignee, **extra)
            s.add(row)
            s.flush()
            return row.id

        ids["a_overdue"] = fu("r:1", team_a, now - timedelta(hours=5))
        ids["a_today"] = fu("r:2", team_a, now + timedelta(minutes=10))
        ids["a_mine"] = fu("r:3", team_a, now + timedelta(days=5), assignee=users["agent-a"], status="claimed")
        ids["a_team"] = fu("r:4", team_a, now + timedelta(days=6))
        ids["a_closed"] = fu("r:5", team_a, now - timedelta(days=1), status="closed", case_id=cases["K-A"].id,
                             closed_at=now - timedelta(days=1, hours=2), outcome="compensated",
                             root_cause="slow_engineer")
        ids["b_overdue"] = fu("r:6", team_b, now - timedelta(hours=5))
        rules = {r.key: r for r in ensure_default_rules(s)}
        for key, team in (("K-A", team_a), ("K-B", team_b)):
            s.add(Signal(rule_id=rules["dark_too_long"].id, case_id=cases[key].id, team_id=team.id,
                         cause_key=f"dark:{key}", fired_at=now - timedelta(hours=1), details={}))
        today = now.date()
        s.add(RecoveryBudget(team_id=team_a.id, period_start=today - timedelta(days=40),
                             period_end=today + timedelta(days=40), amount_cents=20_000))
        s.add(Gesture(followup_id=ids["a_closed"], team_id=team_a.id, user_id=users["agent-a"], kind="credit",
                      amount_cents=2_550, note="", status="granted", at=now - timedelta(days=1, hours=2)))
        ids.update(team_a=team_a.id, team_b=team_b.id, journey=journey.id, now=now)
    return ids


def _as(client, who: str, lang: str = "nl") -> str:
    assert login(client, f"{who}@example.org").status_code == 303
    home = client.get("/")
    if lang != "nl":
        client.post("/language", data={"lang": lang, "csrf_token": csrf_from(home.text)})
        home = client.get("/")
    assert home.status_code == 200
    return home.text


def _section(html: str, table_id: str) -> str:
    match = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, flags=re.S)
    return match[0] if match else ""


def _followups(html: str, table_id: str) -> list[int]:
    return [int(x) for x in re.findall(r'data-followup="(\d+)"', _section(html, table_id))]


def _local_day(moment: datetime):
    return moment.astimezone(ZoneInfo("Europe/Amsterdam")).date()


def test_an_agent_lands_on_their_teams_work_and_sees_nothing_of_another_team(client, engine):
    ids = _build(engine)
    html = _as(client, "agent-a")
    assert "Mijn werk" in html
    assert _followups(html, "home-overdue") == [ids["a_overdue"]]
    if _local_day(ids["now"]) == _local_day(ids["now"] + timedelta(minutes=10)):  # not just before midnight
        assert _followups(html, "home-due-today") == [ids["a_today"]]
    assert _followups(html, "home-mine") == [ids["a_mine"]]
    assert ids["a_team"] in _followups(html, "home-team") and ids["a_mine"] not in _followups(html, "home-team")
    shown = set(map(int, re.findall(r'data-followup="(\d+)"', html)))
    assert ids["b_overdue"] not in shown and ids["a_closed"] not in shown  # another team's; a closed one
    signals = _section(html, "home-signals")
    assert "K-A" in signals and "K-B" not in signals
    assert "Team Bravo" not in html
    assert 'href="/expectations/signals"' in html  # the work list is in the menu (and linked from the panel)
    assert "Naam lead" not in html  # no names beyond the assignee column of the follow-up list

    other = _as(client, "agent-b", "en")
    assert "My work" in other
    assert _followups(other, "home-overdue") == [ids["b_overdue"]]
    assert "K-A" not in _section(other, "home-signals") and "K-B" in _section(other, "home-signals")


def test_a_team_lead_lands_on_their_team(client, engine):
    ids = _build(engine)
    html = _as(client, "lead")
    assert "Mijn team" in html
    assert _followups(html, "home-overdue") == [ids["a_overdue"]]
    assert ids["b_overdue"] not in map(int, re.findall(r'data-followup="(\d+)"', html))
    # the root cause by its label, under the journey's name
    causes = re.search(r'<ul id="home-root-causes">(.*?)</ul>', html, flags=re.S)[1]
    assert "Reparatie" in causes and "Monteur te laat (1)" in causes
    # the budget: 200,00 with 25,50 spent leaves 174,50 (Dutch decimal commas)
    budget = _section(html, "home-budget")
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", budget)][4:]
    assert cells == ["Team Alfa", "200,00", "25,50", "174,50"]
    scores = _section(html, "home-scores")
    assert f'data-team="{ids["team_a"]}"' in scores and f'data-team="{ids["team_b"]}"' not in scores
    assert "K-A" in _section(html, "home-signals") and "K-B" not in _section(html, "home-signals")

    english = _as(client, "lead", "en")
    assert "My team" in english and "Engineer late (1)" in english and "174.50" in _section(english, "home-budget")


def test_managers_land_on_the_moment_statuses_and_what_to_improve_first(client, engine):
    ids = _build(engine)
    for who in ("admin", "analyst"):
        html = _as(client, who)
        ranked = re.findall(r'<tr data-priority="([^"]+)" data-status="([^"]+)"', html)
        assert [k for k, _ in ranked] == EXPECTED_RANKING
        statuses = dict(re.findall(r'<tr data-moment="([^"]+)" data-status="([^"]+)"', html))
        assert statuses == EXPECTED_STATUS
        # the same statuses as the journey page shows
        journey_page = client.get(f"/metrics/journeys/{ids['journey']}").text
        assert dict(re.findall(r'<tr data-moment="([^"]+)" data-status="([^"]+)"', journey_page)) == statuses
        assert "home-overdue" not in html  # no work lists: managers do not work follow-ups
        client.post("/logout", data={"csrf_token": csrf_from(html)})
    english = _as(client, "analyst", "en")
    assert "What to improve first" in english and "fix the basics" in english


def test_the_signals_work_list_is_in_the_menu_of_every_role(client, engine):
    assert any(entry.path == "/expectations/signals" and not entry.roles for entry in NAV)
    _build(engine)
    for who in ("agent-a", "lead"):
        _as(client, who)
        page = client.get("/expectations/signals").text
        # only the closest menu entry is the current one, not also /expectations above it
        assert re.findall(r'<a href="([^"]+)" aria-current="page"', page) == ["/expectations/signals"]
        client.post("/logout", data={"csrf_token": csrf_from(page)})


def test_the_demo_ships_budgets_and_root_causes(engine):
    """The demo's helpers: a budget per team and month, root causes per journey, older follow-ups worked."""
    with UnitOfWork(engine) as s:
        team = org_service.create_unit(s, "t", "T", kind="team")
        journey = Journey(key="fault_repair", name_nl="Storing", name_en="Fault")
        s.add(journey)
        s.flush()
        assert recovery.create_root_causes(s, {"fault_repair": journey.id}) == 6  # five general, one own
        # the follow-up window starts in February; three months on is June: five months
        assert recovery.create_budgets(s, {"t": team.id}, datetime(2026, 3, 2).date()) == 5
        s.flush()
        assert set(s.scalars(select(RootCause.key).where(RootCause.journey_id == journey.id))) == {"network"}


DEMO_NOW = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)  # the small demo's last day (tests/followups/test_demo.py)


@pytest.mark.demo("small", 2026)  # a fresh copy of the small demo
def test_the_demo_works_its_older_follow_ups_within_the_budgets(engine):
    prepare_closed_loop(engine, DEMO_NOW)
    with UnitOfWork(engine, readonly=True) as s:
        offered = {}
        for journey_id, key in s.execute(select(RootCause.journey_id, RootCause.key)):
            offered.setdefault(journey_id, set()).add(key)
        journeys = {j.id for j in s.scalars(select(Journey))}
        assert all(offered[None] | offered.get(j, set()) for j in journeys)
        first = dict(s.execute(select(FollowUpReason.followup_id, func.min(FollowUpReason.at))
                               .group_by(FollowUpReason.followup_id)).all())
        closed = list(s.scalars(select(FollowUp).where(FollowUp.status == "closed")))
        still_open = list(s.scalars(select(FollowUp).where(FollowUp.status != "closed")))
        assert closed and still_open  # worked ones for the root-cause panel, open ones for the work lists
        for fu in closed + still_open:
            assert fu.created_at == first[fu.id]  # opened when its first reason arrived
        for fu in closed:
            journey = s.scalar(select(func.coalesce(Case.journey_id, Moment.journey_id))
                               .select_from(FollowUp).outerjoin(Case, Case.id == FollowUp.case_id)
                               .outerjoin(Response, Response.id == FollowUp.response_id)
                               .outerjoin(Moment, Moment.id == Response.moment_id).where(FollowUp.id == fu.id))
            assert fu.root_cause in offered[None] | offered.get(journey, set())
            assert fu.created_at < fu.closed_at <= DEMO_NOW and fu.outcome and fu.assignee_id
        # every gesture fits in its team's budget of the month
        spent = {}
        for team_id, amount, at in s.execute(select(Gesture.team_id, Gesture.amount_cents, Gesture.at)):
            month = (team_id, _local_day(at).replace(day=1))
            spent[month] = spent.get(month, 0) + amount
        assert spent
        for (team_id, month), cents in spent.items():
            budget = s.scalar(select(RecoveryBudget.amount_cents).where(RecoveryBudget.team_id == team_id,
                                                                         RecoveryBudget.period_start == month))
            assert budget is not None and cents <= budget
        customers = [fu.customer_id for fu in still_open if fu.customer_id is not None]
        assert len(customers) == len(set(customers))  # still one open follow-up per customer


def test_a_team_leads_cases_at_risk_are_the_ones_their_teams_hold(client, engine):
    """Sweep H3-B: a case team A once touched but team B holds now is team B's risk, not on team A's home."""
    from servicepulse.models import CaseEvent

    ids = _build(engine)
    now = ids["now"]
    with UnitOfWork(engine) as s:
        cases = {c.external_id: c for c in s.scalars(select(Case))}
        handed = Case(external_id="K-C", journey_id=ids["journey"], last_team_id=ids["team_b"],
                      opened_at=now - timedelta(days=5))
        s.add(handed)
        s.flush()
        silent = now - timedelta(days=3)  # silent for three days: beyond the 48 hours of "dark too long"
        for case, team, at in ((cases["K-A"], ids["team_a"], silent), (cases["K-B"], ids["team_b"], silent),
                               (handed, ids["team_a"], silent - timedelta(days=1)), (handed, ids["team_b"], silent)):
            s.add(CaseEvent(case_id=case.id, occurred_at=at, activity="Note", team_id=team, customer_facing=True))
    with UnitOfWork(engine, readonly=True) as s:  # all three are at risk; team A touched K-C
        from servicepulse.expectations.dashboard import at_risk as all_at_risk
        assert {r["external_id"] for r in all_at_risk(s, datetime.now(UTC))} == {"K-A", "K-B", "K-C"}
    at_risk = _section(_as(client, "lead"), "home-at-risk")
    assert re.findall(r'data-case="([^"]+)"', at_risk) == ["K-A"]
    assert "Team Bravo" not in at_risk
