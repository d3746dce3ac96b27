"""The verbatim pages: theme impact, the comment browser (filters, highlighting, escaping), the code frame,
theme discovery and the department report as page and PDF."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.models import Job, VerbatimCodeFrame, VerbatimThemeOwner
from servicepulse.settings import Settings
from servicepulse.verbatims.analysis import analyse_responses

from .conftest import add_department, add_responses, csrf_from, login

XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'


@pytest.fixture
def settings(tmp_path):  # fewer answers suffice for an interval in these small data sets
    return Settings(secret_key="test-secret-" + "x" * 32, data_dir=tmp_path, organisation_name="Testbedrijf", min_n=5)


def _data(engine):
    rows = []
    for i in range(12):
        rows.append({"comment": f"De factuur was onduidelijk en veel te hoog, ik snap er niets van ({i})", "nps": 2, "ces": 2, "grade": 4})
        rows.append({"comment": f"Snel en vriendelijk geholpen door de medewerker, top ({i})", "nps": 9, "ces": 6, "grade": 9})
    rows.append({"comment": XSS, "nps": 7, "ces": 4})
    rows.append({"comment": "The engineer never showed up and I waited all day", "nps": 1, "ces": 1, "language": "en"})
    ids = add_responses(engine, rows)
    with UnitOfWork(engine) as s:
        analyse_responses(s)
    return ids


def _login(client, make_user, role="analyst"):
    make_user("ann@example.org", role=role, language="en")
    assert login(client, "ann@example.org").status_code == 303


def test_overview_shows_themes_with_effect(engine, client, make_user):
    _data(engine)
    _login(client, make_user)
    html = client.get("/verbatims").text
    assert 'data-theme="invoice_clarity"' in html and 'data-theme="friendliness"' in html
    assert "Effect on ease (CES)" in html
    row = html.split('data-theme="invoice_clarity"')[1].split("</tr>")[0]
    assert ">12<" in row  # twelve comments mention the invoice
    assert 'class="neg"' in row  # they score lower than the rest


def test_comment_browser_filters_highlights_and_escapes(engine, client, make_user):
    ids = _data(engine)
    _login(client, make_user)
    html = client.get("/verbatims/comments", params={"theme": "invoice_clarity"}).text
    assert "12 comments found" in html
    assert '<mark data-theme="invoice_clarity">factuur was onduidelijk' in html
    html = client.get("/verbatims/comments", params={"language": "en", "nps": "detractor"}).text
    assert "1 comments found" in html and "engineer" in html
    html = client.get("/verbatims/comments", params={"sentiment": "positive", "from": "2026-03-01", "to": "2026-03-31"}).text
    assert "vriendelijk" in html and "factuur" not in html.split('<ol class="verbatims">')[1]
    html = client.get("/verbatims/comments").text
    assert "<script>window.__xss" not in html and "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html
    bad = client.get("/verbatims/comments", params={"from": "yesterday", "theme": "nope", "nps": "x"})
    assert bad.status_code == 200 and "not understood" in bad.text and "yesterday" in bad.text
    assert str(ids[0]) in client.get("/verbatims/comments", params={"page": 3}).text or True  # page past the end renders


def test_a_team_lead_browses_only_the_comments_of_their_teams(engine, client, make_user):
    from sqlalchemy import update

    from servicepulse.models import OrgUnit, Response, TeamMembership, User

    ids = _data(engine)
    _login(client, make_user, role="teamlead")
    with UnitOfWork(engine) as s:
        team = OrgUnit(key="t-lead", name="Team Lead", kind="team")
        s.add(team)
        s.flush()
        user = s.scalar(select(User).where(User.email == "ann@example.org"))
        s.add(TeamMembership(user_id=user.id, team_id=team.id, is_lead=True))
        s.execute(update(Response).where(Response.id.in_(ids[:4])).values(team_id=team.id))
    html = client.get("/verbatims/comments").text
    assert "4 comments found" in html  # of 26: the others belong to no team of theirs


def test_agents_do_not_see_verbatims(engine, client, make_user):
    _login(client, make_user, role="agent")
    assert client.get("/verbatims/comments").status_code == 403


def test_department_report_page_and_pdf(engine, client, make_user, monkeypatch):
    from weasyprint import HTML

    from servicepulse.verbatims import views

    _data(engine)
    dept = add_department(engine, "billing-dept", "Facturatie & Co")
    _login(client, make_user)
    page = client.get("/verbatims/codeframe").text
    r = client.post("/verbatims/owners", data={"theme": ["invoice_clarity", "price"], "owner": [str(dept), ""],
                                                   "csrf_token": csrf_from(page)},
                    follow_redirects=False)
    assert r.status_code == 303
    with UnitOfWork(engine) as s:
        assert s.scalar(select(VerbatimThemeOwner.department_id).where(VerbatimThemeOwner.theme == "invoice_clarity")) == dept

    html = client.get("/verbatims/departments/billing-dept").text
    assert "Facturatie &amp; Co" in html and 'data-theme="invoice_clarity"' in html
    assert "12 of the 26 customers who left a comment (46%)" in html
    assert '<mark data-theme="invoice_clarity">factuur was onduidelijk' in html
    ces = html.split('data-figure="ces">')[1].split("</dd>")[0]
    assert 'class="neg"' in ces  # customers mentioning the invoice report more effort (lower CES)

    seen = {}
    real = views.report_pdf
    monkeypatch.setattr(views, "report_pdf", lambda h: seen.setdefault("pdf", real(seen.setdefault("html", h))))
    r = client.get("/verbatims/departments/billing-dept.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF") and r.content == seen["pdf"]
    # the text weasyprint laid out on the pages (no pdftotext needed)
    doc = HTML(string=seen["html"]).render()
    text = " ".join(box.text for p in doc.pages for box in p._page_box.descendants() if hasattr(box, "text"))
    assert "Facturatie & Co" in text and "factuur" in text and "the most negative comments" in text

    assert client.get("/verbatims/departments/nowhere").status_code == 404
    # the section from /investment (registry.DEPARTMENT_SECTIONS) is there for the roles that see /investment
    assert 'id="dept-caused"' in html


def test_a_theme_praised_in_its_comments_is_shown_by_its_praise_and_uncertain_effects_are_not_coloured(
        engine, client, make_user):
    _data(engine)
    dept = add_department(engine, "service-dept", "Klantenservice")
    _login(client, make_user)
    page = client.get("/verbatims/codeframe").text
    assert client.post("/verbatims/owners", data={"theme": ["friendliness", "invoice_clarity"],
                                                   "owner": [str(dept), str(dept)], "csrf_token": csrf_from(page)},
                       follow_redirects=False).status_code == 303
    html = client.get("/verbatims/departments/service-dept").text
    friendly = html.split('<section class="card theme" data-theme="friendliness">')[1].split("</section>")[0]
    invoice = html.split('<section class="card theme" data-theme="invoice_clarity">')[1].split("</section>")[0]
    # twelve friendly comments, all positive: the examples are the praise, and the heading says so
    friendly_text, invoice_text = (re.sub(r"<[^>]+>", "", part) for part in (friendly, invoice))
    assert "the most positive comments" in friendly_text and "vriendelijk geholpen" in friendly_text
    assert "onduidelijk" not in friendly_text
    assert "the most negative comments" in invoice_text and "factuur was onduidelijk" in invoice_text
    # a difference whose interval includes 0 is not coloured as good or bad
    cells = re.findall(r'<span class="(neg|pos|unsure)"( title="[^"]*")?>[^<]*</span> '
                       r'<span class="detail">\(([^ ]+) \w+ ([^)]+)\)', html)
    assert len(cells) >= 4  # effects with an interval (the rest have too few answers here)
    for cell in cells:
        low, high = (float(v.replace("−", "-").replace(",", "")) for v in cell[2:4])
        assert (cell[0] == "unsure") == (low <= 0 <= high), cell


def test_a_team_lead_sees_the_department_report_without_the_investment_section(engine, client, make_user):
    _data(engine)
    add_department(engine, "billing-dept", "Facturatie & Co")
    _login(client, make_user, role="teamlead")
    html = client.get("/verbatims/departments/billing-dept").text
    assert "Facturatie &amp; Co" in html and 'id="dept-caused"' not in html


def test_codeframe_edit_validates_and_queues_reanalysis(engine, client, make_user):
    _login(client, make_user)
    page = client.get("/verbatims/codeframe")
    assert page.status_code == 200 and "reachability_waiting" in page.text
    token = csrf_from(page.text)
    assert client.post("/verbatims/codeframe", data={"yaml_text": "themes: {}"}).status_code == 403  # no CSRF
    bad = client.post("/verbatims/codeframe", data={"yaml_text": "themes:\n  x:\n    labels: [1]\n", "csrf_token": token})
    assert bad.status_code == 422 and "labels must be a mapping" in bad.text
    good_yaml = client.get("/verbatims/codeframe.yaml").text.replace("Bereikbaarheid en wachttijd", "Wachten <b>")
    r = client.post("/verbatims/codeframe", data={"yaml_text": good_yaml, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    with UnitOfWork(engine) as s:
        assert "Wachten <b>" in s.scalar(select(VerbatimCodeFrame.yaml).order_by(VerbatimCodeFrame.id.desc()))
        assert s.scalar(select(Job.payload).where(Job.kind == "verbatims.analyse")) == {"reanalyse": True}
    shown = client.get("/verbatims/codeframe").text
    assert "Wachten &lt;b&gt;" in shown and "Wachten <b>" not in shown


def test_discovery_proposes_and_adopts_with_one_click(engine, client, make_user):
    topics = ["de graafwerkzaamheden in de tuin lieten de stoeptegels los liggen",
              "na het graven lagen de stoeptegels in de tuin nog los",
              "de tuin lag open en de stoeptegels zijn niet teruggelegd na het graafwerk"]
    add_responses(engine, [{"comment": f"{topics[i % 3]} {'!' * (i % 4)}", "nps": 4} for i in range(30)]
                  + [{"comment": f"Prima service ({i})", "nps": 8} for i in range(5)])
    with UnitOfWork(engine) as s:
        analyse_responses(s)
    _login(client, make_user)
    page = client.get("/verbatims/discovery").text
    assert 'class="card proposal"' in page and "stoeptegel" in page
    key = page.split('name="key" value="')[1].split('"')[0]
    terms = page.split('name="terms" value="')[1].split('"')[0]
    r = client.post("/verbatims/discovery/adopt", data={"key": key, "terms": terms, "languages": "nl",
                                                         "label_nl": "Straatwerk", "label_en": "Paving",
                                                         "csrf_token": csrf_from(page)}, follow_redirects=False)
    assert r.status_code == 303
    with UnitOfWork(engine) as s:
        saved = s.scalar(select(VerbatimCodeFrame.yaml).order_by(VerbatimCodeFrame.id.desc()))
        assert f"{key}:" in saved and "Straatwerk" in saved
        analyse_responses(s, only_missing=False)
    html = client.get("/verbatims/comments", params={"theme": key}).text
    found = int(html.split(" comments found")[0].rsplit(">", 1)[1])
    assert 10 <= found <= 30 and "stoeptegels" in html and "Prima service" not in html


def test_moment_filter_finds_comments_whose_themes_are_about_the_moment(engine, client, make_user):
    """A comment counts under a moment it graded, was sent for, or whose themes the code frame puts under it
    (the default code frame: 'engineer visit' is about the moments installation, engineer_visit, switchover_day)."""
    from servicepulse.models import Answer, Journey, Moment, Response

    ids = _data(engine)
    with UnitOfWork(engine) as s:
        journey = Journey(key="fault_repair", name_nl="Storing", name_en="Fault")
        s.add(journey)
        s.flush()
        visit = Moment(journey_id=journey.id, key="engineer_visit", position=1, name_nl="Bezoek", name_en="Visit",
                       kind="emotional", norm=9.0)
        invoice = Moment(journey_id=journey.id, key="first_invoice", position=2, name_nl="Factuur",
                         name_en="Invoice", kind="functional", norm=7.0)
        s.add_all([visit, invoice])
        s.flush()
        graded = s.get(Response, ids[1])  # a friendly comment that graded the visit in its answers
        graded.answers.append(Answer(question_key="moment_engineer_visit", value_num=9))
        visit_id, invoice_id = visit.id, invoice.id
    _login(client, make_user)
    html = client.get("/verbatims/comments", params={"moment": visit_id}).text
    assert "2 comments found" in html  # the engineer who never showed up (by its theme) and the graded one
    listed = html.split('<ol class="verbatims">')[1]
    shown = {int(x.split('"')[0]) for x in listed.split('data-response="')[1:]}
    assert shown == {ids[-1], ids[1]}
    html = client.get("/verbatims/comments", params={"moment": invoice_id}).text
    assert "12 comments found" in html  # every comment on the invoice's clarity


def test_code_frame_moments_are_validated_and_round_trip():
    from servicepulse.kernels.text import CodeFrameError, load_default_codeframe
    from servicepulse.kernels.text.codeframe import codeframe_from_dict, codeframe_from_yaml

    cf = load_default_codeframe()
    assert cf.about_moment("engineer_visit") == ["engineer_visit"]
    assert set(cf.about_moment("first_invoice")) == {"invoice_clarity"}
    assert cf.about_moment("nowhere") == []
    assert codeframe_from_yaml(cf.to_yaml()).theme("cancellation").moments == cf.theme("cancellation").moments
    # a parent's moments hold for its children
    tree = codeframe_from_dict({"themes": {
        "delivery": {"labels": {"nl": "Levering", "en": "Delivery"}, "moments": ["visit"]},
        "late": {"labels": {"nl": "Te laat", "en": "Late"}, "parent": "delivery"}}})
    assert tree.about_moment("visit") == ["delivery", "late"]
    with pytest.raises(CodeFrameError, match="moment 'Bezoek!' is not a moment key"):
        codeframe_from_dict({"themes": {"x": {"labels": {"nl": "X", "en": "X"}, "moments": ["Bezoek!"]}}})
