"""The demo's journey-end surveys: one per journey, linked to its last moment.

Each asks NPS (0-10), the overall grade (rapportcijfer, 1-10), CES 2.0
(1-7 agreement with "{organisation} made it easy for me to handle my issue"),
a grade for every moment of the journey (keys ``moment_<moment key>``) and an
open "why" (key ``why``).

`create_journey_surveys` builds a definition per journey in the survey
domain's format and creates it through `servicepulse.surveys.service`
(validation, normal form, version 1), like any survey an administrator loads.
NPS and CES use the domain's standard wordings (``{organisation}`` is filled
in when shown).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from servicepulse.demo.catalogue import JOURNEYS, JourneySpec
from servicepulse.surveys.service import create_or_update_survey


@dataclass(frozen=True)
class SurveyIds:
    survey_id: int
    version_id: int
    moment_id: int  # the journey's last moment
    question_keys: tuple[str, ...]


def survey_definition(journey: JourneySpec) -> dict:
    """The survey for one journey as a survey definition (texts in Dutch and English)."""
    questions = [
        {"key": "nps", "type": "nps", "required": True},
        {"key": "grade", "type": "grade", "required": True, "text": {
            "nl": "Welk rapportcijfer geeft u {organisation} voor de hele afhandeling?",
            "en": "What mark out of 10 would you give {organisation} for the whole process?"}},
        {"key": "ces", "type": "ces", "required": True},
    ]
    for m in journey.moments:
        questions.append({"key": f"moment_{m.key}", "type": "grade", "text": {
            "nl": f"Welk cijfer geeft u voor: {m.name_nl.lower()}?",
            "en": f"What mark would you give for: {m.name_en.lower()}?"}})
    questions.append({"key": "why", "type": "text", "why": True, "prompt_by_score": [
        {"when": "nps <= 6", "nl": "Wat had beter gekund?", "en": "What could we have done better?"},
        {"when": "nps >= 9", "nl": "Wat deden we goed?", "en": "What did we do well?"},
        {"nl": "Wat is de belangrijkste reden voor uw cijfer?", "en": "What is the main reason for your score?"},
    ]})
    return {
        "key": f"journey-end-{journey.key.replace('_', '-')}",
        "name": f"{journey.name_nl} / {journey.name_en}: na afloop",
        "moment": f"{journey.key}/{journey.moments[-1].key}",
        "languages": ["nl", "en"],
        "title": {"nl": f"{journey.name_nl}: hoe ging het?", "en": f"{journey.name_en}: how did it go?"},
        "questions": questions,
    }


def create_journey_surveys(session: Session, created_at: datetime | None = None) -> dict[str, SurveyIds]:
    """Create one survey (version 1) per journey; returns their ids by journey key.
    The journeys and moments must exist (flushed) in ``session``. ``created_at``
    backdates the surveys to the start of the demo's year (they were in use all year)."""
    out = {}
    for journey in JOURNEYS:
        definition = survey_definition(journey)
        version = create_or_update_survey(session, definition)
        survey = version.survey
        if created_at is not None:
            survey.created_at = version.created_at = created_at
            session.flush()
        out[journey.key] = SurveyIds(survey.id, version.id, survey.moment_id,
                                     tuple(q["key"] for q in definition["questions"]))
    return out
