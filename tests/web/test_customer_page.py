"""The customer page (/customers/{id}) and the links to it: who sees what, the answers told at their place
in the case story, contact details only for the team working an open follow-up, erased customers, and the
one-click links from the case, follow-up, expectations, moment, comment and survey pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest

from servicepulse.cases import facts_store, timeline
from servicepulse.db.session import UnitOfWork
from servicepulse.models import (
    Answer,
    Case,
    CaseEvent,
    Customer,
    FollowUp,
    FollowUpContact,
    Journey,
    Moment,
    Response,
    Verbatim,
)
from servicepulse.models.expectations import Promise, Signal, SignalRule
from servicepulse.models.followups import Gesture
from servicepulse.org import service as org_service
from servicepulse.privacy import erase_customer
from servicepulse.surveys import load_template

from .conftest import PASSWORD, login

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
COMMENT = "De monteur kwam twee uur te laat. Bel me op 06-12345678."


@dataclass
class World:
    customer: int
    other_customer: int
    case_a: int
    case_b: int
    response_a: int
    response_b: int
    anonymous: int
    followup: int
    moment_visit: int
    survey_key: str


def _email(who: str) -> str:
    return f"{who}@example.org"


def build_world(engine) -> World:
    """Customer C-1 has case K-A (worked by team A, an answer grading the engineer's visit a 4, an open follow-up
    of team A with a contact and a gesture, an open promise and a signal) and case K-B (team B only, one answer).
    Customer C-2 has one case of team B. One answer is anonymous."""
    with UnitOfWork(engine) as s:
        dept = org_service.create_unit(s, "dept", "Service", kind="department")
        team_a = org_service.create_unit(s, "team-a", "Team A", parent=dept, line="front")
        team_b = org_service.create_unit(s, "team-b", "Team B", parent=dept, line="back")
        org_service.create_unit(s, "team-c", "Team C", parent=dept, line="front")
        for who, role, teams, lead in [("admin", "admin", [], []), ("analyst", "analyst", [], []),
                                       ("lead-a", "teamlead", [], ["team-a"]), ("agent-a", "agent", ["team-a"], []),
                                       ("agent-b", "agent", ["team-b"], []), ("agent-c", "agent", ["team-c"], [])]:
            org_service.create_user(s, _email(who), who, PASSWORD, role, teams=teams, lead_of=lead)
        org_service.create_user(s, _email("analyst-en"), "analyst-en", PASSWORD, "analyst", language="en")
        journey = Journey(key="repair", name_nl="Storing", name_en="Fault repair")
        journey.moments.append(Moment(key="report", position=1, name_nl="Storing melden", name_en="Reporting the fault",
                                      kind="functional", norm=7.0))
        journey.moments.append(Moment(key="visit", position=2, name_nl="Bezoek van de monteur",
                                      name_en="The engineer's visit", kind="functional", norm=7.0))
        s.add(journey)
        s.flush()
        made = load_template(s, "after_contact", moment="repair/visit")
        visit = journey.moments[1].id
        version, survey_key = made.id, made.survey.key
        c1 = Customer(external_id="C-1", name="Klant Een", email="een@example.org", phone="+31 6 1111 2222",
                      language="nl", segment="consumer")
        c2 = Customer(external_id="C-2", name="Klant Twee", email="twee@example.org", language="nl")
        s.add_all([c1, c2])
        s.flush()
        case_a = Case(external_id="K-A", customer_id=c1.id, journey_id=journey.id, last_team_id=team_a.id,
                      opened_at=T0, closed_at=T0 + timedelta(days=2))
        case_b = Case(external_id="K-B", customer_id=c1.id, journey_id=journey.id, last_team_id=team_b.id,
                      opened_at=T0 - timedelta(days=60))
        case_c = Case(external_id="K-C", customer_id=c2.id, journey_id=journey.id, last_team_id=team_b.id,
                      opened_at=T0)
        s.add_all([case_a, case_b, case_c])
        s.flush()
        for i, (case, team, at, activity) in enumerate([
                (case_a, team_a, T0, "Fault reported"), (case_a, team_a, T0 + timedelta(days=1), "Engineer visit"),
                (case_a, team_a, T0 + timedelta(days=2), "Case resolved"),
                (case_b, team_b, T0 - timedelta(days=60), "Fault reported"),
                (case_c, team_b, T0, "Fault reported")]):
            s.add(CaseEvent(case_id=case.id, occurred_at=at, seq=i, activity=activity, team_id=team.id,
                            channel="phone", direction="inbound" if activity == "Fault reported" else "outbound",
                            customer_facing=True, attributes={}))

        def answer(case, team, at, grade, comment, customer=c1, visit_grade=None):
            r = Response(survey_version_id=version, customer_id=customer.id if customer else None,
                         case_id=case.id if case else None, moment_id=visit, team_id=team.id, channel="email",
                         language="nl", submitted_at=at, nps=grade, grade=grade, ces=5, comment=comment)
            if visit_grade is not None:
                r.answers.append(Answer(question_key="moment_visit", value_num=visit_grade))
                r.answers.append(Answer(question_key="moment_report", value_num=8))
            s.add(r)
            s.flush()
            return r

        # between the engineer's visit (day 1) and the case's closing (day 2)
        ra = answer(case_a, team_a, T0 + timedelta(days=1, hours=3), 4, COMMENT, visit_grade=4)
        rb = answer(case_b, team_b, T0 - timedelta(days=59), 8, "Prima geholpen")
        anonymous = answer(None, team_a, T0, 3, "Anoniem: slecht", customer=None)
        s.add(Verbatim(response_id=ra.id, text="De monteur kwam twee uur te laat. Bel me op [PHONE].", language="nl",
                       language_confidence=0.9, sentiment=-0.5, lexicon_sentiment=-0.5, redactions=1))
        fu = FollowUp(cause="detractor", cause_ref=f"response:{ra.id}", case_id=case_a.id, response_id=ra.id,
                      customer_id=c1.id, team_id=team_a.id, status="open", due_at=T0 + timedelta(days=4),
                      created_at=T0 + timedelta(days=1, hours=4))
        s.add(fu)
        s.flush()
        s.add(FollowUpContact(followup_id=fu.id, at=T0 + timedelta(days=1, hours=5), note="Teruggebeld, excuses",
                              outcome="explained"))
        s.add(Gesture(followup_id=fu.id, team_id=team_a.id, kind="gift", amount_cents=2550, status="granted",
                      at=T0 + timedelta(days=1, hours=5)))
        s.add(Promise(case_id=case_a.id, kind="callback", made_at=T0, due_at=T0 + timedelta(days=30), status="open"))
        rule = SignalRule(key="dark_too_long", kind="dark_too_long", params={"hours": 24})
        s.add(rule)
        s.flush()
        s.add(Signal(rule_id=rule.id, case_id=case_a.id, team_id=team_a.id, cause_key="dark:1",
                     fired_at=T0 + timedelta(hours=30), details={}))
        s.flush()
        facts_store.recompute_all(s)  # the case list shows cases with their facts
        return World(c1.id, c2.id, case_a.id, case_b.id, ra.id, rb.id, anonymous.id, fu.id, visit, survey_key)


@pytest.fixture
def world(engine) -> World:
    return build_world(engine)


def _as(client, who: str):
    assert login(client, _email(who)).status_code == 303
    return client


def _page(client, path: str):
    return client.get(path)


def _text(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def test_the_analyst_sees_every_case_with_the_answer_told_in_the_story(client, world):
    _as(client, "analyst")
    page = _page(client, f"/customers/{world.customer}")
    assert page.status_code == 200
    html, text = page.text, _text(page.text)
    assert "Klant Een" in text and "Klantnummer C-1" in text
    assert 'data-case="K-A"' in html and 'data-case="K-B"' in html
    assert "Daarna gaf de klant ‘Bezoek van de monteur’ een 4" in text
    assert "De monteur kwam twee uur te laat" in text
    assert "06-12345678" not in html  # the comment is redacted wherever it is shown
    assert "Ook beoordeeld: Storing melden 8" in text
    # analysts do not call customers: no phone or e-mail
    assert "een@example.org" not in html and "1111" not in html and 'id="contact-hidden"' in html
    # the follow-up with its contact and gesture, the open promise and the signal
    assert f'href="/followups/{world.followup}"' in html
    assert "Teruggebeld, excuses" in text and "€ 25,50" in text
    assert 'id="open-promises"' in html and 'data-rule="dark_too_long"' in html
    assert 'href="/cases/K-A"' in html  # analysts may open the case page
    assert 'data-slot="predicted-experience"' in html  # the slot, empty until the model exists
    figures = dict(re.findall(r'data-figure="(\w+)">([^<]*)<', html))
    assert figures["cases"] == "2" and figures["answers"] == "2" and figures["open_followups"] == "1"
    assert figures["open_promises"] == "1" and figures["open_signals"] == "1"


def test_english_tells_the_answer_as_a_sentence(client, world):
    _as(client, "analyst-en")  # the user's own language is English
    text = _text(_page(client, f"/customers/{world.customer}").text)
    assert "Then the customer graded the engineer's visit a 4 and wrote:" in text


def test_an_agent_sees_only_their_teams_part_and_the_contact_details_they_need(client, world):
    _as(client, "agent-a")
    page = _page(client, f"/customers/{world.customer}")
    assert page.status_code == 200
    html = page.text
    assert 'data-case="K-A"' in html and 'data-case="K-B"' not in html
    assert "Prima geholpen" not in html  # team B's answer on team B's case
    assert 'id="hidden-cases"' in html
    assert "een@example.org" in html and "+31 6 1111 2222" in html  # team A works an open follow-up
    assert 'href="/cases/K-A"' not in html  # agents have no case page; the story is on this page
    assert "Daarna gaf de klant ‘Bezoek van de monteur’ een 4" in _text(html)


def test_another_team_sees_its_own_case_without_contact_details(client, world):
    _as(client, "agent-b")
    html = _page(client, f"/customers/{world.customer}").text
    assert 'data-case="K-B"' in html and 'data-case="K-A"' not in html
    assert f'data-followup="{world.followup}"' not in html  # team A's follow-up
    assert "een@example.org" not in html and 'id="contact-hidden"' in html


def test_a_customer_of_no_own_team_is_as_unknown_as_one_that_does_not_exist(client, world):
    _as(client, "agent-c")
    foreign = _page(client, f"/customers/{world.customer}")
    missing = _page(client, "/customers/999999")
    assert foreign.status_code == missing.status_code == 404
    assert _text(foreign.text) == _text(missing.text)
    assert "recht op vergetelheid" in foreign.text


def test_an_erased_customer_has_a_404_that_says_why(engine, client, world):
    _as(client, "admin")
    assert _page(client, f"/customers/{world.customer}").status_code == 200
    with UnitOfWork(engine) as s:
        erase_customer(s, "C-1", actor="test")
    page = _page(client, f"/customers/{world.customer}")
    assert page.status_code == 404
    assert "recht op vergetelheid" in page.text and "Klant Een" not in page.text


def test_an_answer_links_to_its_customer_and_back(client, world):
    _as(client, "analyst")
    moved = client.get(f"/customers/answers/{world.response_a}?back=/metrics", follow_redirects=False)
    assert moved.status_code == 303
    assert moved.headers["location"] == f"/customers/{world.customer}?back=%2Fmetrics#response-{world.response_a}"
    html = client.get(moved.headers["location"]).text
    assert 'id="back-link" href="/metrics"' in html and f'id="response-{world.response_a}"' in html
    # only a path on this site is a way back
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        assert "back-link" not in client.get(f"/customers/{world.customer}", params={"back": evil}).text
    anonymous = client.get(f"/customers/answers/{world.anonymous}")
    assert anonymous.status_code == 404 and "anoniem" in anonymous.text


def test_an_agent_cannot_follow_an_answer_of_another_team(client, world):
    _as(client, "agent-b")
    assert client.get(f"/customers/answers/{world.response_a}", follow_redirects=False).status_code == 404
    assert client.get(f"/customers/answers/{world.response_b}", follow_redirects=False).status_code == 303


def test_every_page_showing_the_customer_a_case_or_an_answer_links_to_the_customer_page(client, world):
    _as(client, "analyst")
    customer = f'href="/customers/{world.customer}?back='
    answer = f'href="/customers/answers/{world.response_a}?back='
    case_page = client.get("/cases/K-A").text
    assert customer in case_page and 'href="/expectations/cases/K-A"' in case_page
    expectations = client.get("/expectations/cases/K-A").text
    assert customer in expectations and 'href="/cases/K-A"' in expectations
    assert f'href="/customers/{world.customer}?back=/cases"' in client.get("/cases").text
    assert answer in client.get(f"/metrics/moments/{world.moment_visit}").text
    assert answer in client.get("/verbatims/comments").text
    assert answer in client.get(f"/surveys/{world.survey_key}").text


def test_the_case_page_tells_the_answer_between_what_happened_before_and_after(client, world):
    _as(client, "analyst")
    html = client.get("/cases/K-A").text
    story = html[html.index('<ol class="timeline" id="timeline">'):]
    story = story[:story.index("</section>")]
    items = re.findall(r'<li(?: class="answer" id="response-(\d+)")?[^>]*data-kinds="([^"]*)"', story)
    assert [kinds for _, kinds in items][2] == "answer" and items[2][0] == str(world.response_a)
    assert "closed" in items[3][1]  # told after the visit it grades, before the case closed
    times = re.findall(r'<time datetime="([^"]+)"', story)
    assert times == sorted(times) and len(times) == 4


def test_the_follow_up_shows_the_case_story_with_the_answer_and_the_customer_link(client, world):
    _as(client, "agent-a")
    html = client.get(f"/followups/{world.followup}").text
    assert 'id="case-story"' in html
    assert "Daarna gaf de klant ‘Bezoek van de monteur’ een 4" in _text(html)
    assert f'href="/customers/{world.customer}?back=/followups/{world.followup}"' in html


def test_the_timeline_places_answers_in_time_order(engine, world):
    with UnitOfWork(engine, readonly=True) as s:
        case = s.get(Case, world.case_a)
        tl = timeline.build(s, case)
        story = tl.story()
        kinds = [(kind, item.at) for kind, item in story if kind != "dark"]
    assert [k for k, _ in kinds] == ["step", "step", "answer", "step"]
    assert [at for _, at in kinds] == sorted(at for _, at in kinds)
    # every silence is told once, right after the event it started with
    dark = [i for i, (kind, _) in enumerate(story) if kind == "dark"]
    assert len(dark) == len(tl.dark_periods) >= 1
    assert all(story[i - 1][0] == "step" and story[i - 1][1].at == story[i][1].start for i in dark)
    [a] = tl.answers
    assert a.moment.key == "visit" and a.moment.value == 4 and [g.key for g in a.graded] == ["report", "visit"]
    assert "06-12345678" not in a.comment and a.comment.startswith("De monteur kwam twee uur te laat.")
