"""The question types: score ranges, the standard wordings, and end-point labels in nl/en.

Texts may contain ``{organisation}``; it is filled in from
``settings.organisation_name`` when shown, so renaming the organisation needs no
new survey version.
"""

from __future__ import annotations

from dataclasses import dataclass

LANGUAGES = ("nl", "en")
SCORE_TYPES = ("nps", "grade", "ces", "csat")
CHOICE_TYPES = ("single", "multi")
QUESTION_TYPES = SCORE_TYPES + CHOICE_TYPES + ("text",)
DEFAULT_TEXT_LIMIT = 5000


@dataclass(frozen=True)
class Scale:
    low: int
    high: int
    # Standard wording, used when a question gives no text of its own.
    text: dict[str, str]
    # Labels for the two ends of the scale.
    low_label: dict[str, str]
    high_label: dict[str, str]


SCALES: dict[str, Scale] = {
    "nps": Scale(
        0, 10,
        {"nl": "Hoe waarschijnlijk is het dat u {organisation} zou aanbevelen aan vrienden, familie of collega's?",
         "en": "How likely is it that you would recommend {organisation} to a friend or colleague?"},
        {"nl": "Zeer onwaarschijnlijk", "en": "Not at all likely"},
        {"nl": "Zeer waarschijnlijk", "en": "Extremely likely"},
    ),
    "grade": Scale(
        1, 10,
        {"nl": "Welk rapportcijfer geeft u {organisation} voor dit contact?",
         "en": "What mark out of 10 would you give {organisation} for this contact?"},
        {"nl": "Zeer slecht", "en": "Very poor"},
        {"nl": "Uitstekend", "en": "Excellent"},
    ),
    # CES 2.0 (CEB/Gartner): agreement on a 1-7 scale with this exact statement.
    "ces": Scale(
        1, 7,
        {"nl": "{organisation} maakte het mij makkelijk om mijn zaak te regelen.",
         "en": "{organisation} made it easy for me to handle my issue."},
        {"nl": "Helemaal mee oneens", "en": "Strongly disagree"},
        {"nl": "Helemaal mee eens", "en": "Strongly agree"},
    ),
    "csat": Scale(
        1, 5,
        {"nl": "Hoe tevreden bent u over {organisation}?",
         "en": "How satisfied are you with {organisation}?"},
        {"nl": "Zeer ontevreden", "en": "Very dissatisfied"},
        {"nl": "Zeer tevreden", "en": "Very satisfied"},
    ),
}

# The seven CES 2.0 agreement points, for pages that label every point.
CES_POINT_LABELS = {
    "nl": ["Helemaal mee oneens", "Mee oneens", "Enigszins mee oneens", "Neutraal",
           "Enigszins mee eens", "Mee eens", "Helemaal mee eens"],
    "en": ["Strongly disagree", "Disagree", "Somewhat disagree", "Neither agree nor disagree",
           "Somewhat agree", "Agree", "Strongly agree"],
}


def fill(text: str, organisation: str) -> str:
    """Put the organisation's name in a text (only the one placeholder; no format-string tricks)."""
    return text.replace("{organisation}", organisation)
