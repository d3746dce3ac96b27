"""Home page: journeys with their moments in order, kind, norm and response counts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import event

from servicepulse.db.session import UnitOfWork
from servicepulse.models import Answer, Journey, Moment, Response, Survey, SurveyVersion
from servicepulse.web.home import journey_overview

from .conftest import login

# (journey key, nl, en, [(moment key, position, nl, en, kind, norm, number of responses)])
JOURNEYS = [
    ("move", "Verhuizen", "Moving house", [
        ("confirm", 2, "Bevestiging", "Confirmation", "functional", 7.0, 3),
        ("request", 1, "Aanvraag", "Request", "functional", 7.5, 0),
        ("outage", 3, "Storing tijdens verhuizing", "Outage while moving", "emotional", 9.0, 5),
    ]),
    ("empty", "Opzeggen", "Cancelling", []),
]


def _load(engine):
    with UnitOfWork(engine) as s:
        survey = Survey(key="s", name="s")
        version = SurveyVersion(survey=survey, version=1, definition={})
        s.add_all([survey, version])
        t0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
        for jkey, jnl, jen, moments in JOURNEYS:
            journey = Journey(key=jkey, name_nl=jnl, name_en=jen, description_nl=f"Over {jnl.lower()}.",
                              description_en=f"About {jen.lower()}.")
            s.add(journey)
            for mkey, pos, mnl, men, kind, norm, n in moments:
                moment = Moment(journey=journey, key=mkey, position=pos, name_nl=mnl, name_en=men, kind=kind, norm=norm)
                s.add(moment)
                s.flush()
                for i in range(n):
                    # An answer grades the moment by its key (a journey-end survey grades several moments).
                    s.add(Response(survey_version_id=version.id, moment_id=moment.id, grade=8,
                                   submitted_at=t0 + timedelta(hours=i),
                                   answers=[Answer(question_key=f"moment_{mkey}", value_num=8.0)]))
        s.add(Response(survey_version_id=version.id, moment_id=None, grade=6, submitted_at=t0))  # no moment


def _rows(html: str) -> list[tuple[str, ...]]:
    """(moment name, kind label, norm, count) per table row, in page order (managers see score and status after
    them: tests/web/test_home_workspaces.py)."""
    out = []
    for row in re.findall(r"<tr data-moment=.*?</tr>", html, flags=re.S):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)]
        out.append(tuple(cells[1:5]))
    return out


def test_home_lists_journeys_and_moments_in_order_with_counts(client, make_user, engine):
    _load(engine)
    make_user("ann@example.org", language="nl")
    login(client, "ann@example.org")
    html = client.get("/").text
    assert html.index("Verhuizen") < html.index("Opzeggen")
    assert _rows(html) == [
        ("Aanvraag", "functioneel", "7,5", "0"),
        ("Bevestiging", "functioneel", "7,0", "3"),
        ("Storing tijdens verhuizing", "emotioneel", "9,0", "5"),
    ]
    assert "Deze klantreis heeft nog geen momenten." in html
    assert "Over verhuizen." in html and "About moving house." not in html

    client.post("/language", data={"lang": "en", "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', html)[1]})
    english = client.get("/").text
    assert _rows(english)[2] == ("Outage while moving", "emotional", "9.0", "5")
    assert "Moving house" in english and "About moving house." in english and "Over verhuizen." not in english


def test_overview_takes_a_fixed_number_of_queries_whatever_the_number_of_journeys(engine):
    _load(engine)
    statements = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        with UnitOfWork(engine, readonly=True) as s:
            journeys = journey_overview(s, "en")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # the aggregate freshness check, the per-moment counts and the journeys with their moments: no query per journey
    assert len(statements) <= 3, statements
    assert [j.key for j in journeys] == ["move", "empty"]
    assert [(m.key, m.responses) for m in journeys[0].moments] == [("request", 0), ("confirm", 3), ("outage", 5)]
    assert journeys[1].moments == []


def test_home_without_journeys(client, make_user):
    make_user("ann@example.org", language="en")
    login(client, "ann@example.org")
    assert "There are no customer journeys yet." in client.get("/").text
