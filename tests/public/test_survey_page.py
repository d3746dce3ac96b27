"""The public survey page over HTTP (TestClient): languages, partial saves, bad input, links, opt-out, anonymous."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from servicepulse.db.session import UnitOfWork
from servicepulse.invitations import enable_anonymous_link
from servicepulse.models import Answer, Customer, Invitation, Response, utcnow

from ..invitations.support import add_customer, seed_world, sent_invitation
from ..web.conftest import csrf_from


def _post(client, path, data, page=None):
    page = page if page is not None else client.get(path).text
    return client.post(path, data={"csrf_token": csrf_from(page), **data}, follow_redirects=False)


def _response(engine, invitation_id):
    with UnitOfWork(engine, readonly=True) as s:
        response = s.scalar(select(Response).where(Response.invitation_id == invitation_id))
        if response is None:
            return None, {}
        answers = {a.question_key: a for a in s.scalars(select(Answer).where(Answer.response_id == response.id))}
        s.expunge_all()
        return response, answers


def test_language_from_invitation_then_switch(client, invited):
    _, token = invited
    page = client.get(f"/s/{token}", headers={"accept-language": "en-GB,en;q=0.9"})
    assert page.status_code == 200
    assert '<html lang="nl">' in page.text  # the invitation's language wins over the browser's
    assert "Hoe was uw contact met ons?" in page.text
    english = client.get(f"/s/{token}?lang=en")
    assert '<html lang="en">' in english.text and "How was your contact with us?" in english.text
    assert "made it easy for me to handle my issue" in english.text  # CES 2.0 wording
    assert 'aria-current="true">English' in english.text
    assert client.get(f"/s/{token}?lang=fr").text.count('<html lang="nl">') == 1  # unsupported: ignored


def test_partial_save_then_the_why_prompt_follows_the_score(client, engine, invited):
    invitation_id, token = invited
    first = client.get(f"/s/{token}")
    assert "Wat kunnen we beter doen?" in first.text  # no score yet: the default prompt
    saved = _post(client, f"/s/{token}", {"q_ces": "2", "action": "save"}, first.text)
    assert saved.status_code == 303 and saved.headers["location"] == f"/s/{token}?lang=nl&saved=1"
    response, answers = _response(engine, invitation_id)
    assert response.completed is False and response.ces == 2 and set(answers) == {"ces"}
    again = client.get(saved.headers["location"])
    assert "Uw antwoorden zijn bewaard" in again.text
    assert re.search(r'name="q_ces" value="2"[^>]*checked', again.text)
    assert "Wat maakte het lastig?" in again.text  # low effort score: the low-score prompt
    assert "Wat kunnen we beter doen?" not in again.text


def test_complete_then_change_until_expiry_one_response(client, engine, invited):
    invitation_id, token = invited
    done = _post(client, f"/s/{token}", {"q_ces": "6", "q_grade": "8", "q_resolved": "yes",
                                         "q_why": "Snel & <vriendelijk>", "action": "submit"})
    assert done.status_code == 303 and done.headers["location"] == f"/s/{token}/thanks?lang=nl"
    thanks = client.get(done.headers["location"])
    assert "Hartelijk dank!" in thanks.text and "Antwoorden wijzigen" in thanks.text
    response, answers = _response(engine, invitation_id)
    assert (response.completed, response.ces, response.grade, response.comment) == (True, 6, 8, "Snel & <vriendelijk>")
    assert answers["resolved"].value_text == "yes" and answers["grade"].value_num == 8
    with UnitOfWork(engine, readonly=True) as s:
        invitation = s.get(Invitation, invitation_id)
        assert invitation.status == "responded" and invitation.responded_at is not None
    reopened = client.get(f"/s/{token}")
    assert "U heeft deze vragenlijst al ingevuld" in reopened.text
    assert "Snel &amp; &lt;vriendelijk&gt;" in reopened.text  # escaped, kept
    assert "Fijn om te horen!" in reopened.text  # high CES: the high-score prompt
    changed = _post(client, f"/s/{token}", {"q_ces": "3", "q_grade": "5", "action": "submit"}, reopened.text)
    assert changed.status_code == 303
    response, answers = _response(engine, invitation_id)
    assert (response.ces, response.grade, response.comment, response.completed) == (3, 5, None, True)
    assert set(answers) == {"ces", "grade"}
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(Response)) == 1


BAD_INPUT = [
    ({"q_grade": "7"}, "ces", "Beantwoord deze vraag alstublieft."),
    ({"q_ces": "9"}, "ces", "Kies een getal van 1 tot en met 7."),
    ({"q_ces": "zes"}, "ces", "Kies een getal van 1 tot en met 7."),
    ({"q_ces": "5", "q_resolved": "maybe"}, "resolved", "Kies een van de getoonde mogelijkheden."),
    ({"q_ces": "5", "q_why": "x" * 5001}, "why", "Uw tekst is 5001 tekens lang; er passen er 5000."),
]


def test_bad_input_is_explained_on_the_page_next_to_its_question(client, engine, invited):
    invitation_id, token = invited
    for data, key, message in BAD_INPUT:
        page = _post(client, f"/s/{token}", {**data, "action": "submit"})
        assert page.status_code == 422, data
        assert message in page.text
        # The message is tied to its question for screen readers, and linked from the summary.
        assert f'<p class="error" id="err-{key}">{message}' in page.text
        assert re.search(rf'aria-describedby="[^"]*\berr-{key}\b', page.text)
        assert f'<a href="#q-{key}">' in page.text and f'id="q-{key}"' in page.text
        assert _response(engine, invitation_id)[0] is None  # nothing half-written
        if "q_why" in data:
            assert "x" * 5001 in page.text  # what they typed is not lost


def test_bad_input_in_english_and_save_with_missing_required_answers(client, engine, invited):
    invitation_id, token = invited
    page = _post(client, f"/s/{token}?lang=en", {"q_grade": "11", "lang": "en", "action": "save"},
                 client.get(f"/s/{token}?lang=en").text)
    assert page.status_code == 422 and "Choose a number from 1 to 10." in page.text
    # A save may leave required questions open, but not keep an invalid answer.
    saved = _post(client, f"/s/{token}", {"q_grade": "4", "action": "save"})
    assert saved.status_code == 303 and _response(engine, invitation_id)[0].completed is False


def test_wrong_and_expired_links_get_friendly_pages(client, engine):
    missing = client.get("/s/" + "A" * 43, headers={"accept-language": "en"})
    assert missing.status_code == 404 and "We do not recognise this link" in missing.text
    assert client.get("/s/not a token!", headers={"accept-language": "nl"}).status_code == 404
    with UnitOfWork(engine) as s:
        world = seed_world(s)
        customer = add_customer(s, "C-en", email="en@example.org", language="en")
        invitation, token = sent_invitation(s, world["survey"], customer, utcnow() - timedelta(days=15))
    gone = client.get(f"/s/{token}", headers={"accept-language": "nl"})
    assert gone.status_code == 410 and '<html lang="en">' in gone.text and "This survey has closed" in gone.text
    assert client.post(f"/s/{token}", data={"q_ces": "5"}).status_code in (403, 410)  # no CSRF token: refused


def test_submit_works_without_any_cookie(client, engine, invited):
    invitation_id, token = invited
    page = client.get(f"/s/{token}")
    assert "set-cookie" not in page.headers  # respondents get no session at all
    client.cookies.clear()
    sent = client.post(f"/s/{token}", data={"csrf_token": csrf_from(page.text), "q_ces": "6", "action": "submit"},
                       follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"].startswith(f"/s/{token}/thanks")
    response, answers = _response(engine, invitation_id)
    assert response.completed is True and response.ces == 6


def test_a_post_without_the_form_token_is_refused_with_a_clear_page(client, engine, invited):
    invitation_id, token = invited
    with UnitOfWork(engine) as s:  # a second invitation: its form token must not open the first one
        world = seed_world(s)
        other = add_customer(s, "C-other", email="other@example.nl")
        _, other_token = sent_invitation(s, world["survey"], other, utcnow())
    other_form = csrf_from(client.get(f"/s/{other_token}").text)
    assert other_form != csrf_from(client.get(f"/s/{token}").text)
    for data in ({}, {"csrf_token": "forged"}, {"csrf_token": other_form}, {"csrf_token": ""}):
        refused = client.post(f"/s/{token}", data={"q_ces": "1", "action": "submit", **data})
        assert refused.status_code == 403
        assert "Uw antwoorden zijn niet verstuurd" in refused.text and f'href="/s/{token}?lang=nl"' in refused.text
    assert _response(engine, invitation_id)[0] is None
    # The opt-out form has a token of its own; the answer form's token does not unsubscribe anyone.
    answer_token = csrf_from(client.get(f"/s/{token}").text)
    assert client.post(f"/s/{token}/opt-out", data={"csrf_token": answer_token}).status_code == 403
    assert client.post(f"/s/{token}/opt-out", data={}).status_code == 403
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(Customer.opted_out_at).where(Customer.external_id == "C-page")) is None


def test_anonymous_form_token_is_signed_and_time_limited(client, engine, monkeypatch):
    from servicepulse.public import form_token, views

    with UnitOfWork(engine) as s:
        seed_world(s)
        enable_anonymous_link(s, "after_contact", per_address_limit=10)
    issued_at = utcnow()
    monkeypatch.setattr(views, "clock", lambda: issued_at)
    page = client.get("/a/after_contact").text
    token = csrf_from(page)
    issued, _, mac = token.partition(".")
    tampered = f"{int(issued) + 3600}.{mac}"  # a later issue time with the old signature
    assert client.post("/a/after_contact", data={"csrf_token": tampered, "q_ces": "3",
                                                 "action": "submit"}).status_code == 403
    # Past the maximum age the same token is refused, nothing stored ...
    monkeypatch.setattr(views, "clock", lambda: issued_at + form_token.ANONYMOUS_MAX_AGE + timedelta(minutes=1))
    late = client.post("/a/after_contact", data={"csrf_token": token, "q_ces": "3", "action": "submit"})
    assert late.status_code == 403 and 'href="/a/after_contact?lang=nl"' in late.text
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(Response)) == 0
    # ... and within it the form goes through, without cookies; the resume page then has its own token.
    monkeypatch.setattr(views, "clock", lambda: issued_at + form_token.ANONYMOUS_MAX_AGE - timedelta(minutes=1))
    client.cookies.clear()
    ok = client.post("/a/after_contact", data={"csrf_token": token, "q_ces": "3", "action": "submit"},
                     follow_redirects=False)
    assert ok.status_code == 303
    resume = ok.headers["location"].split("/thanks")[0]
    assert client.post(resume, data={"csrf_token": token, "q_ces": "4", "action": "submit"}).status_code == 403
    changed = _post(client, resume, {"q_ces": "4", "action": "submit"})
    assert changed.status_code == 303
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalars(select(Response.ces)).all() == [4]


def test_opt_out_link_works_even_after_expiry(client, engine):
    with UnitOfWork(engine) as s:
        world = seed_world(s)
        customer = add_customer(s, "C-out", language="nl")
        _, token = sent_invitation(s, world["survey"], customer, utcnow() - timedelta(days=30))
    page = client.get(f"/s/{token}/opt-out")
    assert page.status_code == 200 and "Afmelden voor vragenlijsten" in page.text
    done = _post(client, f"/s/{token}/opt-out", {}, page.text)
    assert done.status_code == 200 and "U bent afgemeld" in done.text
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(Customer.opted_out_at).where(Customer.external_id == "C-out")) is not None


def test_anonymous_link_with_a_per_address_limit(client, engine):
    with UnitOfWork(engine) as s:
        seed_world(s)
    assert client.get("/a/after_contact").status_code == 404  # not enabled
    with UnitOfWork(engine) as s:
        enable_anonymous_link(s, "after_contact", per_address_limit=2)
    page = client.get("/a/after_contact", headers={"accept-language": "en-US,en;q=0.8"})
    assert page.status_code == 200 and '<html lang="en">' in page.text
    first = _post(client, "/a/after_contact", {"q_ces": "7", "lang": "en", "action": "submit"}, page.text)
    assert first.status_code == 303
    resume = first.headers["location"].split("/thanks")[0]
    assert re.fullmatch(r"/a/after_contact/r/[A-Za-z0-9_\-]{43}", resume)
    assert client.get(resume).status_code == 200 and "Glad to hear it!" in client.get(resume).text
    changed = _post(client, resume, {"q_ces": "2", "action": "submit"})
    assert changed.status_code == 303
    assert _post(client, "/a/after_contact", {"q_ces": "4", "action": "save"}).status_code == 303
    limited = _post(client, "/a/after_contact", {"q_ces": "4", "lang": "en", "action": "submit"})
    assert limited.status_code == 429 and "Please wait a little" in limited.text
    with UnitOfWork(engine, readonly=True) as s:
        rows = s.execute(select(Response.ces, Response.completed, Response.channel).order_by(Response.id)).all()
    assert [tuple(r) for r in rows] == [(2, True, "web"), (4, False, "web")]
    assert client.get("/a/after_contact/r/" + "B" * 43).status_code == 404


def test_page_weight_stays_under_30_kb(client, invited):
    _, token = invited
    # The heaviest state: every question in error, in English (longer labels), long text echoed back is excluded.
    page = _post(client, f"/s/{token}?lang=en", {"q_ces": "0", "q_grade": "x", "q_resolved": "?", "lang": "en",
                                                 "action": "submit"}, client.get(f"/s/{token}?lang=en").text)
    assert page.status_code == 422
    assert len(page.content) < 30 * 1024, len(page.content)
    assert "<script" not in page.text and "<img" not in page.text and 'rel="stylesheet"' not in page.text
