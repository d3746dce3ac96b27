"""The survey dashboard page: figures computed independently from the rows the test wrote."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient

from servicepulse.app import create_app
from servicepulse.db.session import UnitOfWork
from servicepulse.models import Case, Response, utcnow
from servicepulse.models.invitations import TriggerDecision, TriggerRule

from ..web.conftest import fast_password_hashing, login, make_user, settings  # noqa: F401  (fixtures)
from .support import add_customer, seed_world, sent_invitation

NOW = utcnow().replace(microsecond=0)


def _figure(html: str, name: str) -> str:
    return re.search(rf'data-figure="{name}">\s*([^<\s]+)', html)[1]


def test_survey_dashboard_shows_rate_distributions_verbatims_and_decisions(engine, settings, make_user):
    ces_given = [2, 6, 6, 7]
    with UnitOfWork(engine) as s:
        world = seed_world(s)
        survey, journey = world["survey"], world["journey"]
        invitations = []
        for i in range(5):
            customer = add_customer(s, f"C{i}", email=f"c{i}@example.nl")
            invitations.append(sent_invitation(s, survey, customer, NOW - timedelta(days=2))[0])
        comments = ["Duurde veel te lang <script>alert(1)</script>", "Prima geholpen, bel me op 06-12345678", None, ""]
        for invitation, ces, comment in zip(invitations, ces_given, comments):
            s.add(Response(survey_version_id=invitation.survey_version_id, invitation_id=invitation.id,
                           customer_id=invitation.customer_id, submitted_at=NOW - timedelta(hours=len(comment or "")),
                           completed=True, ces=ces, comment=comment, channel="email"))
            invitation.status = "responded"
        # A partial answer does not count; an API response counts as a response but not towards the rate.
        s.add(Response(survey_version_id=invitations[4].survey_version_id, invitation_id=invitations[4].id,
                       submitted_at=NOW, completed=False, ces=1))
        s.add(Response(survey_version_id=invitations[0].survey_version_id, submitted_at=NOW, completed=True,
                       ces=ces_given[3], channel="api", external_id="ivr-1"))
        rule = TriggerRule(key="r1", survey_id=survey.id, activity="Contact closed")
        s.add(rule)
        s.flush()
        reasons = ["invited"] * 3 + ["throttled"] * 2 + ["sampled_out"]
        for i, reason in enumerate(reasons):
            case = Case(external_id=f"K{i}", journey_id=journey.id)
            s.add(case)
            s.flush()
            s.add(TriggerDecision(rule_id=rule.id, survey_id=survey.id, case_id=case.id, reason=reason, decided_at=NOW))
    make_user("lead@example.org", role="analyst", language="en")  # sees every team's comments
    with TestClient(create_app(engine, settings)) as client:
        assert client.get("/surveys/after_contact", follow_redirects=False).status_code == 303  # log in first
        login(client, "lead@example.org")
        listing = client.get("/surveys")
        assert listing.status_code == 200 and 'href="/surveys/after_contact"' in listing.text
        page = client.get("/surveys/after_contact")
    assert page.status_code == 200
    html = page.text
    sent, answered = 5, 4
    assert _figure(html, "sent") == str(sent)
    assert _figure(html, "answered") == str(answered)
    assert _figure(html, "rate") == f"{round(100 * answered / sent)}%"
    assert _figure(html, "responses") == str(answered + 1)
    assert _figure(html, "saved") == "1"  # the partial answer, shown apart
    # CES distribution: completed answers only, the API one included; every scale point listed.
    all_ces = ces_given + [ces_given[3]]
    table = dict(re.findall(r'<tr><th scope="row">(\d+)</th><td class="num">(\d+)</td></tr>',
                            html.split('data-score="ces"')[1].split("</section>")[0]))
    assert table == {str(v): str(all_ces.count(v)) for v in range(1, 8)}
    assert '<svg role="img" aria-label="Distribution of Effort (CES), 5 answers"' in html
    # Verbatims: newest first, escaped.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    # Privacy first: personal data in a comment is shown redacted.
    assert "Prima geholpen, bel me op [PHONE]" in html and "06-12345678" not in html
    assert html.index("Prima geholpen") < html.index("Duurde veel te lang")
    decided = dict(re.findall(r'data-reason="(\w+)"><th scope="row">[^<]+</th><td class="num">(\d+)', html))
    assert re.search(r'data-rule="r1"><th scope="row">r1</th><td>Contact closed</td>', html)
    assert decided == {"invited": "3", "throttled": "2", "sampled_out": "1", "opted_out": "0", "case_open": "0",
                       "no_contact": "0"}
