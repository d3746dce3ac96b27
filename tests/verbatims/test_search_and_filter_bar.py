"""The comment browser's text search and the analytics pages' filter bar on it: each narrows the comments,
the chips name the bar's filters, the page links keep both, and bad values are messages, never a 500."""

from __future__ import annotations

import pytest

from servicepulse.db.session import UnitOfWork
from servicepulse.models import OrgUnit, Response
from servicepulse.settings import Settings
from servicepulse.verbatims.analysis import analyse_responses

from .conftest import add_responses, login

PATH = "C:\\Users\\jan\\'factuur' 100%_"


@pytest.fixture
def settings(tmp_path):
    return Settings(secret_key="test-secret-" + "x" * 32, data_dir=tmp_path, organisation_name="Testbedrijf", min_n=5)


def _data(engine):
    rows = [{"comment": f"De monteur kwam niet opdagen ({i})", "nps": 2, "channel": "sms"} for i in range(60)]
    rows += [{"comment": f"Snel geholpen door de medewerker ({i})", "nps": 9, "channel": "email"} for i in range(5)]
    rows.append({"comment": f"Zie bijlage {PATH}", "nps": 5, "channel": "email"})
    add_responses(engine, rows)
    with UnitOfWork(engine) as s:
        team = OrgUnit(key="front", name="Front office")
        s.add(team)
        s.flush()
        s.query(Response).filter(Response.channel == "email").update({"team_id": team.id})
        analyse_responses(s)
        return team.id


def test_search_finds_text_case_insensitively_with_literal_wildcards(engine, client, make_user):
    _data(engine)
    make_user("ann@example.org", role="analyst", language="en")
    assert login(client, "ann@example.org").status_code == 303
    assert "60 comments found" in client.get("/verbatims/comments", params={"q": "MONTEUR"}).text
    assert "1 comments found" in client.get("/verbatims/comments", params={"q": "users\\jan\\'factuur'"}).text
    assert "1 comments found" in client.get("/verbatims/comments", params={"q": "100%_"}).text
    assert "0 comments found" in client.get("/verbatims/comments", params={"q": "100%x"}).text
    page = client.get("/verbatims/comments", params={"q": "monteur"})
    assert 'href="/verbatims/comments?q=monteur&amp;page=2"' in page.text or "q=monteur&page=2" in page.text
    bad = client.get("/verbatims/comments", params={"q": "a\x01b"})
    assert bad.status_code == 200 and "comments found" in bad.text


def test_filter_bar_narrows_and_shows_chips(engine, client, make_user):
    team = _data(engine)
    make_user("ann@example.org", role="analyst", language="en")
    assert login(client, "ann@example.org").status_code == 303
    page = client.get("/verbatims/comments", params={"channel": "sms"})
    assert "60 comments found" in page.text and 'class="chips"' in page.text
    assert "6 comments found" in client.get("/verbatims/comments", params={"team": str(team)}).text
    assert "0 comments found" in client.get("/verbatims/comments", params={"segment": "business"}).text
    both = client.get("/verbatims/comments", params={"channel": "email", "q": "bijlage"})
    assert "1 comments found" in both.text
    bad = client.get("/verbatims/comments", params={"team": "x", "journey": "99999999999"})
    assert bad.status_code == 200 and "66 comments found" in bad.text
