"""The journey survey on the public page: moments the case did not include are not asked, "not applicable"
on the others (stored as no grade, counted nowhere, shown again), an error summary naming each question,
question numbers and an answered count on longer surveys, and "Done" as the thanks page's main action."""

from __future__ import annotations

import re

from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.invitations import enable_anonymous_link
from servicepulse.metrics.repository import moment_sums
from servicepulse.models import Answer, MomentRule, Response
from servicepulse.responses import refresh_daily_counts

from ..invitations.support import add_customer, seed_world, sent_invitation
from ..web.conftest import csrf_from
from .conftest import fault_case, seed_fault_journey

ALL = {"q_nps": "9", "q_grade": "8", "q_ces": "6"}


def _post(client, path, data):
    page = client.get(path).text
    return client.post(path, data={"csrf_token": csrf_from(page), **data}, follow_redirects=False)


def _stored(engine, invitation_id) -> dict:
    with UnitOfWork(engine, readonly=True) as s:
        response = s.scalar(select(Response).where(Response.invitation_id == invitation_id))
        rows = s.scalars(select(Answer).where(Answer.response_id == response.id)).all()
        return {a.question_key: (a.value_num, a.value_text, a.value_json) for a in rows}


def test_a_moment_the_case_did_not_include_is_not_asked(client, engine, fault_invitations):
    tokens, ids = fault_invitations
    visited = client.get(f"/s/{tokens['visit']}").text
    remote = client.get(f"/s/{tokens['remote']}").text
    nocase = client.get(f"/s/{tokens['nocase']}").text
    assert 'name="q_moment_engineer_visit"' in visited and "bezoek van de monteur" in visited
    assert 'name="q_moment_engineer_visit"' not in remote and "monteur" not in remote
    assert 'name="q_moment_engineer_visit"' in nocase  # no case: the events cannot tell, so it is asked
    for page in (visited, remote, nocase):
        assert 'name="q_moment_report_fault"' in page and 'name="q_moment_resolution_confirmed"' in page
    # A grade sent for the question that was not asked (an old form, a crafted post) is not stored.
    done = _post(client, f"/s/{tokens['remote']}", {**ALL, "q_moment_engineer_visit": "2", "action": "submit"})
    assert done.status_code == 303
    assert "moment_engineer_visit" not in _stored(engine, ids["remote"])


def test_a_required_moment_question_is_not_required_where_it_is_not_asked(client, engine):
    with UnitOfWork(engine) as s:
        world = seed_fault_journey(s, required_moment="engineer_visit")
        customer = add_customer(s, "C-req", email="req@example.nl")
        seed_other = fault_case(s, world, customer, "F-other", ["engineer_visit"])  # the moment exists in the data
        remote = fault_case(s, world, customer, "F-rem", ["report_fault", "resolution_confirmed"])
        _, token = sent_invitation(s, world["survey"], customer, remote.opened_at, case=remote)
        _, visited_token = sent_invitation(s, world["survey"], customer, remote.opened_at, case=seed_other)
    assert _post(client, f"/s/{token}", {**ALL, "action": "submit"}).status_code == 303
    refused = _post(client, f"/s/{visited_token}", {**ALL, "action": "submit"})
    assert refused.status_code == 422 and 'id="err-moment_engineer_visit"' in refused.text
    # ... where "not applicable" answers it.
    assert _post(client, f"/s/{visited_token}", {**ALL, "q_moment_engineer_visit": "na",
                                                 "action": "submit"}).status_code == 303


def test_moments_from_the_current_rules_count_as_included(client, engine):
    """Events stored before a rule existed have no moment; the rule's mapping of their activity counts."""
    with UnitOfWork(engine) as s:
        world = seed_fault_journey(s)
        customer = add_customer(s, "C-rule", email="rule@example.nl")
        case = fault_case(s, world, customer, "F-rule", ["report_fault", None],
                          activities=["Fault reported", "Engineer visit"])
        _, token = sent_invitation(s, world["survey"], customer, case.opened_at, case=case)
    assert 'name="q_moment_engineer_visit"' in client.get(f"/s/{token}").text  # no rule, no stored moment anywhere
    with UnitOfWork(engine) as s:  # someone else's visit is known: now the events can tell, and this case had none
        fault_case(s, world, customer, "F-seen", ["engineer_visit"])
    assert 'name="q_moment_engineer_visit"' not in client.get(f"/s/{token}").text
    with UnitOfWork(engine) as s:
        s.add(MomentRule(moment_id=world["moments"]["engineer_visit"], activity="engineer visit", position=0,
                         active=True))
    assert 'name="q_moment_engineer_visit"' in client.get(f"/s/{token}").text


def test_not_applicable_is_stored_as_no_grade_counted_nowhere_and_shown_again(client, engine, fault_invitations):
    tokens, ids = fault_invitations
    token = tokens["visit"]
    page = client.get(f"/s/{token}").text
    assert page.count('value="na"') == 3  # every moment question, and only those
    assert page.count("Niet van toepassing") == 3
    done = _post(client, f"/s/{token}", {**ALL, "q_moment_report_fault": "7", "q_moment_engineer_visit": "na",
                                         "action": "submit"})
    assert done.status_code == 303
    stored = _stored(engine, ids["visit"])
    assert stored["moment_engineer_visit"] == (None, None, None)  # answered, without a grade
    assert stored["moment_report_fault"] == (7.0, None, None)
    assert "moment_resolution_confirmed" not in stored  # not answered at all
    with UnitOfWork(engine) as s:
        refresh_daily_counts(s)
    with UnitOfWork(engine, readonly=True) as s:
        for source in ("raw", "daily"):
            sums = moment_sums(s, source=source)
            assert int(sums["grade_n"].sum()) == 1, source  # the one grade; "not applicable" counts nowhere
            assert float(sums["grade_sum"].sum()) == 7.0, source
    again = client.get(f"/s/{token}").text
    assert re.search(r'name="q_moment_engineer_visit" value="na"[^>]*checked', again)
    assert re.search(r'name="q_moment_report_fault" value="7"[^>]*checked', again)
    # Changing it to a grade replaces the empty answer; the API-facing row then has the grade.
    assert _post(client, f"/s/{token}", {**ALL, "q_moment_engineer_visit": "6", "action": "submit"}).status_code == 303
    assert _stored(engine, ids["visit"])["moment_engineer_visit"] == (6.0, None, None)


def test_not_applicable_is_only_for_moment_questions(client, engine, fault_invitations):
    tokens, ids = fault_invitations
    page = _post(client, f"/s/{tokens['visit']}", {"q_nps": "na", "q_grade": "8", "q_ces": "6", "action": "submit"})
    assert page.status_code == 422 and "Kies een getal van 0 tot en met 10." in page.text
    # An open answer that happens to read "na" is the customer's text, not "not applicable".
    done = _post(client, f"/s/{tokens['visit']}", {**ALL, "q_why": "na", "action": "submit"})
    assert done.status_code == 303 and _stored(engine, ids["visit"])["why"] == (None, "na", None)
    assert ">na</textarea>" in client.get(f"/s/{tokens['visit']}").text


def test_the_error_summary_names_each_question_and_links_to_it(client, fault_invitations):
    tokens, _ = fault_invitations
    page = _post(client, f"/s/{tokens['visit']}?lang=en", {"q_grade": "8", "q_moment_report_fault": "11",
                                                          "lang": "en", "action": "submit"})
    assert page.status_code == 422
    assert "<title>Error: Fault repair: how did it go? · " in page.text  # heard first when the page comes back
    summary = page.text.split('class="error-summary"')[1].split("</div>")[0]
    items = re.findall(r'<li><a href="#q-([a-z_]+)">([^<]+)</a><span class="em">([^<]+)</span></li>', summary)
    assert [key for key, _, _ in items] == ["nps", "ces", "moment_report_fault"]
    names = {key: name for key, name, _ in items}
    assert names["nps"].startswith("Question 1: How likely is it that you would recommend")
    assert names["ces"] == "Question 3: Testbedrijf made it easy for me to handle my issue."
    assert names["moment_report_fault"] == "Question 4: What mark would you give for: reporting the fault?"
    assert [message for _, _, message in items] == ["Please answer this question.", "Please answer this question.",
                                                    "Choose a number from 1 to 10."]
    for key in ("nps", "ces", "moment_report_fault"):
        assert f'id="q-{key}"' in page.text


def test_longer_surveys_number_their_questions_and_count_the_answers(client, fault_invitations, invited):
    tokens, _ = fault_invitations
    remote = client.get(f"/s/{tokens['remote']}").text  # 6 questions asked (the engineer's visit left out)
    assert [int(n) for n in re.findall(r'<span class="pos">Vraag (\d+) van 6</span>', remote)] == list(range(1, 7))
    assert '<p class="progress" aria-hidden="true"><span class="count"></span> van 6 vragen beantwoord</p>' in remote
    short = client.get(f"/s/{invited[1]}").text  # four questions: no numbers, no count
    assert 'class="pos"' not in short and 'class="progress"' not in short


def test_the_thanks_page_leads_with_done(client, fault_invitations):
    tokens, _ = fault_invitations
    token = tokens["visit"]
    done = _post(client, f"/s/{token}", {**ALL, "action": "submit"})
    thanks = client.get(done.headers["location"]).text
    buttons = re.findall(r'<a class="button-link" href="([^"]+)">([^<]+)</a>', thanks)
    assert buttons == [(f"/s/{token}/done?lang=nl", "Klaar")]  # the one main action
    assert f'<a href="/s/{token}?lang=nl">Antwoorden wijzigen</a>' in thanks  # a plain link
    last = client.get(f"/s/{token}/done?lang=en")
    assert last.status_code == 200 and "You can close this page now." in last.text


def test_the_journey_survey_stays_under_30_kb_with_every_question_in_error(client, fault_invitations):
    tokens, _ = fault_invitations
    data = {f"q_{key}": "x" for key in ("nps", "grade", "ces", "moment_report_fault", "moment_engineer_visit",
                                        "moment_resolution_confirmed")}
    page = _post(client, f"/s/{tokens['visit']}?lang=en", {**data, "lang": "en", "action": "submit"})
    assert page.status_code == 422 and page.text.count('class="error"') == 6
    assert len(page.content) < 30 * 1024, len(page.content)


def test_the_anonymous_thanks_page_leads_with_done_too(client, engine):
    with UnitOfWork(engine) as s:
        seed_world(s)
        enable_anonymous_link(s, "after_contact", per_address_limit=5)
    sent = _post(client, "/a/after_contact", {"q_ces": "5", "action": "submit"})
    resume = sent.headers["location"].split("/thanks")[0]
    thanks = client.get(sent.headers["location"]).text
    assert re.findall(r'<a class="button-link" href="([^"]+)">([^<]+)</a>', thanks) == [(f"{resume}/done?lang=nl", "Klaar")]
    assert f'<a href="{resume}?lang=nl">Antwoorden wijzigen</a>' in thanks
    assert "U kunt deze pagina nu sluiten." in client.get(f"{resume}/done").text
    assert client.get("/a/after_contact/r/" + "C" * 43 + "/done").status_code == 404
