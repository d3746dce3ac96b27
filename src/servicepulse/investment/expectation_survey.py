"""The expectation survey: the shipped template (price, product, service) with a block per moment of a journey.

The surveys domain ships the template ``expectation`` (``servicepulse survey template expectation``): for each
of price, product and service the importance (1-5), the mark the organisation must at least earn to meet the
customer's expectation and the mark it earns now (1-10, the scale of the moment grades). ``install`` creates
(or updates) one expectation survey per journey, ``expectation-<journey key>``, linked to the journey's last moment,
with two questions per moment added: its importance (``imp_m_<moment>``) and the expected mark
(``exp_m_<moment>``). The perceived mark of a moment is its grade in the journey surveys (``moment_<moment>``).

The answers are choices ``s1`` .. ``s10`` (importance ``s1`` .. ``s5``), not grade questions, so that an
expected mark never counts as a grade in the experience metrics. A survey is an expectation survey when it
asks ``exp_service`` (whatever its key).
"""

from __future__ import annotations

import re
from importlib import resources

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from servicepulse.models import Journey
from servicepulse.surveys import SurveyChange, upsert_survey

TEMPLATE = "expectation"
DIMENSIONS = ("price", "product", "service")
# The value discipline in which a dimension is the one to excel at (Treacy & Wiersema).
DISCIPLINE_OF = {"price": "operational_excellence", "product": "product_leadership", "service": "customer_intimacy"}
DIMENSION_OF = {v: k for k, v in DISCIPLINE_OF.items()}
MARKER = "exp_service"
IMPORTANCE, EXPECTED, PERCEIVED = "imp_", "exp_", "per_"
MOMENT_IMPORTANCE, MOMENT_EXPECTED = "imp_m_", "exp_m_"
IMPORTANCE_TOP = 5
MAX_MOMENTS = 15  # 10 dimension questions + 2 per moment stay within a survey's 40 questions
_OPTION = re.compile(r"^s(\d{1,2})$")
_QUESTION_KEY = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


def template_definition() -> dict:
    """The shipped template as a definition (read from the surveys domain's templates folder)."""
    text = resources.files("servicepulse.surveys").joinpath("templates", f"{TEMPLATE}.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def option_value(option: str | None) -> int | None:
    """``s7`` -> 7; anything else None."""
    match = _OPTION.match(option or "")
    return int(match[1]) if match else None


def moment_question_keys(moment_key: str) -> tuple[str, str] | None:
    """(importance key, expected key) of a moment, or None when its key cannot be a question key."""
    base = moment_key.lower().replace("-", "_")
    keys = (MOMENT_IMPORTANCE + base, MOMENT_EXPECTED + base)
    return keys if all(_QUESTION_KEY.match(k) for k in keys) else None


def survey_key(journey: Journey) -> str:
    return key_of(journey.key)


def key_of(journey_key: str) -> str:
    """The expectation survey's key of a journey: ``expectation-<journey key>`` (``_`` written as ``-``, as the
    demo's journey surveys do)."""
    return "expectation-" + re.sub(r"[^a-z0-9\-]", "-", journey_key.lower())[:60]


def journey_definition(journey: Journey) -> dict:
    """The template with the journey's moments (the first ``MAX_MOMENTS``) asked after price, product, service."""
    definition = template_definition()
    base = definition["questions"]
    importance = next(q for q in base if q["key"] == IMPORTANCE + "price")["options"]
    marks = next(q for q in base if q["key"] == EXPECTED + "price")["options"]
    extra = []
    for moment in list(journey.moments)[:MAX_MOMENTS]:
        keys = moment_question_keys(moment.key)
        if keys is None:
            continue
        nl, en = moment.name_nl.lower(), moment.name_en.lower()
        extra.append({"key": keys[0], "type": "single", "options": importance, "text": {
            "nl": f"Hoe belangrijk is voor u: {nl}?", "en": f"How important is this to you: {en}?"}})
        extra.append({"key": keys[1], "type": "single", "options": marks, "text": {
            "nl": f"Welk cijfer moet {{organisation}} minstens halen voor: {nl}, om aan uw verwachting te voldoen?",
            "en": f"What mark must {{organisation}} at least earn for: {en}, to meet your expectation?"}})
    definition["questions"] = base[:-1] + extra + base[-1:]  # the open question stays last
    definition["key"] = survey_key(journey)
    definition["name"] = f"Verwachtingen: {journey.name_nl}"  # a stored name, in the organisation's language
    definition["moment"] = f"{journey.key}/{journey.moments[-1].key}"
    return definition


def install(session: Session) -> list[SurveyChange]:
    """Create or update the expectation survey of every journey with moments (a new version when it changed)."""
    journeys = session.scalars(select(Journey).options(selectinload(Journey.moments)).order_by(Journey.id)).all()
    return [upsert_survey(session, journey_definition(j)) for j in journeys if j.moments]
