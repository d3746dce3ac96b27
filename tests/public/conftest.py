"""Page fixtures from the web shell's test helpers, plus a seeded survey and invitation, and a journey-end
survey (a grade per moment) with invitations for cases that did and did not include each moment."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.models import Case, CaseEvent, Journey, Moment, Survey, utcnow
from servicepulse.surveys import create_or_update_survey

from ..invitations.support import add_customer, seed_world, sent_invitation
from ..web.conftest import app, client, fast_password_hashing, settings  # noqa: F401  (fixtures)


@pytest.fixture
def invited(engine):
    """An e-mailed invitation to the after_contact survey for a Dutch customer: (invitation id, token)."""
    with UnitOfWork(engine) as s:
        world = seed_world(s)
        customer = add_customer(s, "C-page", email="page@example.nl", language="nl")
        invitation, token = sent_invitation(s, world["survey"], customer, utcnow())
        return invitation.id, token


# A journey-end survey like the demo's: NPS, grade, CES, a grade per moment, an open 'why'.
FAULT_MOMENTS = [("report_fault", "Storing melden", "Reporting the fault"),
                 ("engineer_visit", "Bezoek van de monteur", "The engineer's visit"),
                 ("resolution_confirmed", "Oplossing bevestigd", "Resolution confirmed")]


def journey_survey_definition(required_moment: str | None = None) -> dict:
    questions = [{"key": "nps", "type": "nps", "required": True},
                 {"key": "grade", "type": "grade", "required": True,
                  "text": {"nl": "Welk rapportcijfer geeft u voor de hele afhandeling?",
                           "en": "What mark out of 10 would you give for the whole process?"}},
                 {"key": "ces", "type": "ces", "required": True}]
    for key, nl, en in FAULT_MOMENTS:
        questions.append({"key": f"moment_{key}", "type": "grade", "required": key == required_moment,
                          "text": {"nl": f"Welk cijfer geeft u voor: {nl.lower()}?",
                                   "en": f"What mark would you give for: {en.lower()}?"}})
    questions.append({"key": "why", "type": "text", "why": True,
                      "text": {"nl": "Wat is de belangrijkste reden voor uw cijfer?",
                               "en": "What is the main reason for your score?"}})
    return {"key": "journey-end-fault-repair", "name": "Storing / Fault: na afloop",
            "moment": "fault_repair/resolution_confirmed", "languages": ["nl", "en"],
            "title": {"nl": "Storing verhelpen: hoe ging het?", "en": "Fault repair: how did it go?"},
            "questions": questions}


def seed_fault_journey(session, required_moment: str | None = None) -> dict:
    """The fault journey (three moments) and its journey-end survey; moment ids by key."""
    journey = session.scalar(select(Journey).where(Journey.key == "fault_repair"))
    if journey is None:
        journey = Journey(key="fault_repair", name_nl="Storing verhelpen", name_en="Fault repair")
        for position, (key, nl, en) in enumerate(FAULT_MOMENTS):
            journey.moments.append(Moment(key=key, position=position, name_nl=nl, name_en=en, kind="functional",
                                          norm=7.0))
        session.add(journey)
        session.flush()
    version = create_or_update_survey(session, journey_survey_definition(required_moment))
    return {"journey": journey, "survey": session.get(Survey, version.survey_id),
            "moments": {m.key: m.id for m in journey.moments}}


def fault_case(session, world: dict, customer, external_id: str, moments: list[str | None],
               activities: list[str] | None = None):
    """A fault case whose events were stored mapped to ``moments`` (None: no moment)."""
    start = utcnow() - timedelta(days=3)
    case = Case(external_id=external_id, customer_id=customer.id, journey_id=world["journey"].id, opened_at=start,
                attributes={})
    session.add(case)
    session.flush()
    for seq, moment in enumerate(moments):
        activity = (activities or [])[seq] if activities else f"step {seq}"
        session.add(CaseEvent(case_id=case.id, occurred_at=start + timedelta(hours=seq), seq=seq, activity=activity,
                              moment_id=world["moments"][moment] if moment else None, attributes={},
                              ingested_at=start))
    session.flush()
    return case


@pytest.fixture
def fault_invitations(engine):
    """Invitations to the journey survey: a case with the engineer's visit, one fixed remotely, one without a
    case; (tokens by name, invitation ids by name)."""
    with UnitOfWork(engine) as s:
        world = seed_fault_journey(s)
        customer = add_customer(s, "C-fault", email="storing@example.nl", language="nl")
        visited = fault_case(s, world, customer, "F-visit", ["report_fault", "engineer_visit", "resolution_confirmed"])
        remote = fault_case(s, world, customer, "F-remote", ["report_fault", None, "resolution_confirmed"])
        tokens, ids = {}, {}
        for name, case in (("visit", visited), ("remote", remote), ("nocase", None)):
            invitation, tokens[name] = sent_invitation(s, world["survey"], customer, utcnow(), case=case)
            ids[name] = invitation.id
        return tokens, ids
