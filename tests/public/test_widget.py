"""The survey widget over HTTP (#19 item 2): /w/{survey} answers like the anonymous link (same form token, limit,
validation and response path) in a compact page, and its headers let only the configured sites frame it."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from servicepulse.app import create_app
from servicepulse.db.session import UnitOfWork
from servicepulse.errors import ConfigurationError
from servicepulse.invitations import enable_anonymous_link
from servicepulse.models import AnonymousSubmission, Answer, Response
from servicepulse.settings import Settings

from ..invitations.support import seed_world
from ..web.conftest import csrf_from, fast_password_hashing, login, make_user  # noqa: F401


@pytest.fixture
def link(engine):
    with UnitOfWork(engine) as s:
        seed_world(s)
        enable_anonymous_link(s, "after_contact", per_address_limit=2)
    return "/w/after_contact"


def _csp(response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return {part.split()[0]: " ".join(part.split()[1:]) for part in policy.split("; ")}


def test_widget_answers_are_anonymous_web_responses_like_the_links(client, engine, link):
    page = client.get(link, headers={"accept-language": "en"})
    assert page.status_code == 200 and '<html lang="en" data-servicepulse-frame>' in page.text
    assert '<script src="/static/widget.js" defer></script>' in page.text
    assert 'action="/w/after_contact"' in page.text and 'class="top"' not in page.text  # compact: no header
    bad = client.post(link, data={"csrf_token": csrf_from(page.text), "q_ces": "12", "lang": "en", "action": "submit"})
    assert bad.status_code == 422 and 'class="error-summary"' in bad.text
    assert 'data-servicepulse-frame' in bad.text  # the bad input comes back in the compact page
    done = client.post(link, data={"csrf_token": csrf_from(page.text), "q_ces": "6", "lang": "en",
                                   "action": "submit"}, follow_redirects=False)
    assert done.status_code == 303
    resume = done.headers["location"].split("/thanks")[0]
    assert re.fullmatch(r"/w/after_contact/r/[A-Za-z0-9_\-]{43}", resume)
    thanks = client.get(done.headers["location"])
    assert thanks.status_code == 200 and "Thank you!" in thanks.text and f'href="{resume}/done?lang=en"' in thanks.text
    assert "You can close this window now." in client.get(f"{resume}/done").text
    changed = client.post(resume, data={"csrf_token": csrf_from(client.get(resume).text), "q_ces": "2",
                                        "action": "submit"}, follow_redirects=False)
    assert changed.status_code == 303
    with UnitOfWork(engine, readonly=True) as s:
        rows = s.execute(select(Response.ces, Response.completed, Response.channel, Response.customer_id,
                                Response.invitation_id)).all()
        assert [tuple(r) for r in rows] == [(2, True, "web", None, None)]  # one response, changed, anonymous
        assert s.scalar(select(Answer.value_num).where(Answer.question_key == "ces")) == 2
        assert len(s.scalars(select(AnonymousSubmission)).all()) == 1


def test_the_same_token_and_limit_as_the_anonymous_link(client, engine, link):
    page = client.get(link).text
    assert client.post(link, data={"q_ces": "5", "action": "submit"}).status_code == 403  # no token
    forged = client.post(link, data={"csrf_token": "1." + "0" * 64, "q_ces": "5", "action": "submit"})
    assert forged.status_code == 403 and 'data-servicepulse-frame' in forged.text
    for _ in range(2):
        ok = client.post(link, data={"csrf_token": csrf_from(page), "q_ces": "5", "action": "submit"},
                         follow_redirects=False)
        assert ok.status_code == 303
    limited = client.post(link, data={"csrf_token": csrf_from(page), "q_ces": "5", "action": "submit"})
    assert limited.status_code == 429 and "Even geduld alstublieft" in limited.text
    # the limit counts the link's answers, whichever page they came through
    assert client.post("/a/after_contact", data={"csrf_token": csrf_from(client.get("/a/after_contact").text),
                                                 "q_ces": "5", "action": "submit"}).status_code == 429
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalars(select(Response.ces)).all() == [5, 5]
    assert client.get("/w/no_such_survey").status_code == 404
    assert client.get(link + "/r/" + "B" * 43).status_code == 404


def test_only_the_widget_may_be_framed_and_only_by_listed_origins(client, engine, link):
    widget, dashboard, survey = client.get(link), client.get("/login"), client.get("/a/after_contact")
    assert _csp(widget)["frame-ancestors"] == "'self'" and widget.headers["x-frame-options"] == "SAMEORIGIN"
    assert _csp(widget)["script-src"] == "'self'"
    for other in (dashboard, survey):
        assert _csp(other)["frame-ancestors"] == "'none'" and other.headers["x-frame-options"] == "DENY"
        assert _csp(other)["script-src"] == "'none'"
    settings = Settings(secret_key="x" * 40, widget_origins=" https://www.example.nl, https://*.example.org:8443/")
    with TestClient(create_app(engine, settings)) as other:
        framed = other.get(link)
    assert _csp(framed)["frame-ancestors"] == "'self' https://www.example.nl https://*.example.org:8443"
    assert "x-frame-options" not in framed.headers


@pytest.mark.parametrize("origins", ["https://www.example.nl/path", "www.example.nl", "https://a.nl; script-src *",
                                     "javascript:alert(1)", "'unsafe-inline'"])
def test_widget_origins_must_be_plain_origins(origins):
    with pytest.raises(ConfigurationError, match="SERVICEPULSE_WIDGET_ORIGINS"):
        Settings(widget_origins=origins)


def test_widget_script_is_served_small_and_cacheable(client):
    script = client.get("/static/widget.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert len(script.content) < 8_000 and "no-store" not in script.headers.get("cache-control", "")


def test_the_embed_code_on_the_anonymous_links_page(engine, client, make_user, settings, link):
    make_user("admin@example.org", role="admin", language="nl")
    assert login(client, "admin@example.org").status_code == 303
    html = client.get("/admin/anonymous-links").text
    base = settings.base_url.rstrip("/")
    assert f'&lt;script src="{base}/static/widget.js" defer&gt;&lt;/script&gt;' in html
    assert (f'&lt;a href="{base}/a/after_contact" data-servicepulse-survey="after_contact"&gt;Geef uw mening&lt;/a&gt;'
            in html)
    assert 'data-servicepulse-display="inline"' in html
    assert "Nog geen enkele andere website mag de vragenlijst tonen" in html and "<code>SERVICEPULSE_WIDGET_ORIGINS</code>" in html
    listed = Settings(secret_key="x" * 40, data_dir=settings.data_dir, widget_origins="https://www.example.nl")
    with TestClient(create_app(engine, listed)) as other:
        assert login(other, "admin@example.org").status_code == 303
        assert "Alleen deze websites mogen de vragenlijst tonen: https://www.example.nl." in other.get(
            "/admin/anonymous-links").text


def test_the_widgets_resume_tokens_stay_out_of_the_log():
    from servicepulse.http.access_log import redact_path

    assert redact_path('"POST /w/after_contact/r/AbC_123-xyz/thanks?lang=nl HTTP/1.1"') == \
        '"POST /w/after_contact/r/[token]/thanks?lang=nl HTTP/1.1"'
