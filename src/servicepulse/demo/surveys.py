"""The demo's journey-end surveys: one per journey, linked to its last moment.

Each asks NPS (0-10), the overall grade (rapportcijfer, 1-10), CES 2.0
(1-7 agreement), a grade for every moment of the journey (keys
``moment_<moment key>``) and an open "why" (key ``why``).

`create_journey_surveys` is the one entry point: it builds a definition
(plain data, in both languages) per journey and writes it. When the survey
domain (`servicepulse.surveys`) offers a create-from-definition service, this
function should hand the definitions to it instead of writing the rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy.orm import Session

from servicepulse.demo.catalogue import JOURNEYS, ORGANISATION_NAME, JourneySpec
from servicepulse.models import Question, Survey, SurveyVersion


@dataclass(frozen=True)
class SurveyIds:
    survey_id: int
    version_id: int
    moment_id: int  # the journey's last moment
    question_keys: tuple[str, ...]


def survey_definition(journey: JourneySpec) -> dict:
    """The survey for one journey as plain data (texts in Dutch and English)."""
    org = ORGANISATION_NAME
    questions = [
        {"key": "nps", "type": "nps", "min": 0, "max": 10, "required": True, "text": {
            "nl": f"Hoe waarschijnlijk is het dat u {org} aanbeveelt bij vrienden of familie?",
            "en": f"How likely are you to recommend {org} to a friend or relative?"},
         "labels": {"nl": ["zeer onwaarschijnlijk", "zeer waarschijnlijk"],
                    "en": ["not at all likely", "extremely likely"]}},
        {"key": "grade", "type": "grade", "min": 1, "max": 10, "required": True, "text": {
            "nl": "Welk rapportcijfer geeft u ons voor de hele afhandeling?",
            "en": "What overall grade (1-10) would you give us?"}},
        {"key": "ces", "type": "ces", "min": 1, "max": 7, "required": True, "text": {
            "nl": f"{org} maakte het mij makkelijk om mijn zaak te regelen.",
            "en": f"{org} made it easy for me to handle my issue."},
         "labels": {"nl": ["helemaal mee oneens", "helemaal mee eens"],
                    "en": ["strongly disagree", "strongly agree"]}},
    ]
    for m in journey.moments:
        questions.append({"key": f"moment_{m.key}", "type": "grade", "min": 1, "max": 10, "required": False,
                          "moment": m.key, "text": {
                              "nl": f"Welk cijfer geeft u voor: {m.name_nl.lower()}?",
                              "en": f"What grade would you give for: {m.name_en.lower()}?"}})
    questions.append({"key": "why", "type": "text", "required": False, "text": {
        "nl": "Wat is de belangrijkste reden voor uw cijfer?",
        "en": "What is the main reason for your score?"}})
    return {
        "key": f"journey-end-{journey.key.replace('_', '-')}",
        "name": {"nl": f"Na afloop: {journey.name_nl}", "en": f"Journey end: {journey.name_en}"},
        "journey": journey.key,
        "moment": journey.moments[-1].key,
        "languages": ["nl", "en"],
        "questions": questions,
    }


def create_journey_surveys(session: Session, moment_ids: dict[tuple[str, str], int],
                           created_at: datetime | None = None) -> dict[str, SurveyIds]:
    """Write one survey (version 1) per journey; returns their ids by journey key."""
    created_at = created_at or datetime.now(timezone.utc)
    out = {}
    for journey in JOURNEYS:
        definition = survey_definition(journey)
        moment_id = moment_ids[(journey.key, definition["moment"])]
        survey = Survey(key=definition["key"], name=definition["name"]["nl"], moment_id=moment_id,
                        active=True, created_at=created_at)
        version = SurveyVersion(version=1, definition=definition, created_at=created_at)
        for position, q in enumerate(definition["questions"], start=1):
            config = {k: v for k, v in q.items() if k not in ("key", "type")}
            if "moment" in q:
                config["moment_id"] = moment_ids[(journey.key, q["moment"])]
            version.questions.append(Question(key=q["key"], type=q["type"], position=position, config=config))
        survey.versions.append(version)
        session.add(survey)
        session.flush()
        out[journey.key] = SurveyIds(survey.id, version.id, moment_id,
                                     tuple(q["key"] for q in definition["questions"]))
    return out
