"""Alert rules: which responses and cases deserve a person's attention.

Pure functions on plain values, so that the rules are easy to test and reuse.
Risk words are found with the text kernel's theme matcher on a small code frame
of its own (word form or simplemma lemma, Dutch and English), so "opzeggen",
"zeg op" and "opgezegd" all count, and "cancelled" as well as "cancel".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from servicepulse.kernels.text.codeframe import CodeFrame, codeframe_from_dict
from servicepulse.kernels.text.themes import find_themes


@dataclass(frozen=True)
class RuleDefault:
    threshold: float | None
    priority: int  # 1 high .. 3 low
    label_nl: str
    label_en: str
    enabled: bool = True


# Rule key -> default. Scores at or below the threshold alert (effort: at or above).
DEFAULTS: dict[str, RuleDefault] = {
    "detractor": RuleDefault(6, 2, "Criticaster (NPS 0-6)", "Detractor (NPS 0-6)"),
    "low_grade": RuleDefault(5, 2, "Onvoldoende rapportcijfer", "Failing grade"),
    "high_effort_answer": RuleDefault(3, 2, "Veel moeite (CES)", "High effort (CES)"),
    "risk_word": RuleDefault(None, 1, "Risicowoord in de toelichting", "Risk word in the comment"),
    "high_effort_index": RuleDefault(70, 2, "Hoge inspanningsindex", "High effort index"),
    "broken_promise": RuleDefault(None, 1, "Gebroken belofte", "Broken promise"),
    # Off by default: it writes an event into the customer's case and tells the source system to reopen it.
    "not_solved": RuleDefault(None, 1, "Niet opgelost: zaak heropenen", "Not solved: reopen the case",
                              enabled=False),
}
RESPONSE_RULES = ("detractor", "low_grade", "high_effort_answer", "risk_word", "not_solved")
# The question "Is your problem solved?" (the after_contact template's `resolved`) and the answers that say no.
SOLVED_QUESTIONS = ("resolved", "solved", "problem_solved", "opgelost")
NOT_SOLVED_ANSWERS = ("no", "nee", "not_solved", "niet_opgelost")
CASE_RULES = ("high_effort_index", "broken_promise")

# The risk vocabulary. Multi-word entries are phrases; lemmas catch inflections.
RISK_FRAME = {
    "name": "servicepulse risk words",
    "themes": {
        "cancel": {
            "labels": {"nl": "Opzeggen", "en": "Cancelling"},
            "nl": {"keywords": ["opzeggen", "opzegging", "opgezegd", "zeg op", "zeg ik op", "overstappen",
                                "stap over", "ik stap over", "vertrek", "weglopen", "andere provider"],
                   "lemmas": ["opzeggen", "overstappen"]},
            "en": {"keywords": ["cancel", "cancelling", "canceling", "cancellation", "switch provider",
                                "switching provider", "leave you", "leaving you", "terminate", "terminate my contract"],
                   "lemmas": ["cancel", "terminate"]},
        },
        "complaint": {
            "labels": {"nl": "Klacht", "en": "Complaint"},
            "nl": {"keywords": ["klacht", "klachten", "klacht indienen", "klaag"], "lemmas": ["klacht", "klagen"]},
            "en": {"keywords": ["complaint", "complain", "formal complaint"], "lemmas": ["complaint", "complain"]},
        },
        "ombudsman": {
            "labels": {"nl": "Ombudsman", "en": "Ombudsman"},
            "nl": {"keywords": ["ombudsman", "ombudsvrouw", "kifid"]},
            "en": {"keywords": ["ombudsman"]},
        },
        "legal": {
            "labels": {"nl": "Juridisch", "en": "Legal"},
            "nl": {"keywords": ["advocaat", "jurist", "rechter", "rechtszaak", "juridische stappen", "aansprakelijk",
                                "rechtsbijstand", "dagvaarding", "incassobureau"],
                   "lemmas": ["advocaat", "rechtszaak"]},
            "en": {"keywords": ["lawyer", "attorney", "solicitor", "legal action", "sue", "court", "lawsuit"],
                   "lemmas": ["lawyer", "sue"]},
        },
        "disputes": {
            "labels": {"nl": "Geschillencommissie", "en": "Disputes committee"},
            "nl": {"keywords": ["geschillencommissie", "geschil"]},
            "en": {"keywords": ["disputes committee", "dispute"]},
        },
        "regulator": {
            "labels": {"nl": "Toezichthouder", "en": "Regulator"},
            "nl": {"keywords": ["acm", "consuwijzer", "toezichthouder", "autoriteit consument en markt", "afm"]},
            "en": {"keywords": ["acm", "regulator", "watchdog", "consumer authority"]},
        },
    },
}


@lru_cache(maxsize=1)
def risk_codeframe() -> CodeFrame:
    return codeframe_from_dict(RISK_FRAME, "risk words")


# A cheap gate before the full matcher (a few ms per comment): a comment without any of these
# stems cannot hold a risk word. Every keyword and lemma above contains one (tested), and the stems
# are short enough to catch inflected and separated forms ("zegde ... op", "overgestapt", "sued").
_GATE = re.compile(
    r"zeg|zei|stap|vertr|weglo|provider|cancel|switch|leav|termin|klacht|klag|klaag|complain|ombuds|kifid|"
    r"advoca|jurist|recht|aansprak|dagvaard|incasso|lawyer|attorney|solicitor|legal|sue|suing|court|lawsuit|"
    r"geschil|dispute|acm|consuwijzer|toezicht|autoriteit|afm|regulator|watchdog|consumer",
    re.IGNORECASE,
)


def risk_words(text: str | None, language: str | None = None) -> list[str]:
    """The risk categories mentioned in `text` (e.g. ['cancel', 'legal']), in order of appearance."""
    if not text or not text.strip() or not _GATE.search(text):
        return []
    mentions = find_themes(text, language if language in ("nl", "en") else "unknown", risk_codeframe())
    seen: list[str] = []
    for m in sorted(mentions, key=lambda m: m.start):
        if m.theme not in seen:
            seen.append(m.theme)
    return seen


@dataclass(frozen=True)
class RuleSetting:
    key: str
    enabled: bool
    threshold: float | None
    priority: int
    due_working_days: int


@dataclass(frozen=True)
class Alert:
    rule: str
    priority: int
    reason: str  # short English explanation shown on the follow-up


def says_not_solved(answers: dict[str, object] | None) -> bool:
    """Did the customer answer "Is your problem solved?" with no?"""
    for key in SOLVED_QUESTIONS:
        value = (answers or {}).get(key)
        if isinstance(value, str) and value.strip().lower() in NOT_SOLVED_ANSWERS:
            return True
    return False


def response_alerts(nps: int | None, grade: int | None, ces: int | None, comment: str | None,
                    language: str | None, settings: dict[str, RuleSetting],
                    answers: dict[str, object] | None = None) -> list[Alert]:
    """The alerts one response raises (one per rule at most); ``answers``: its answers by question key
    (only the "is your problem solved?" questions are read)."""
    out: list[Alert] = []

    def on(key: str) -> RuleSetting | None:
        s = settings.get(key)
        return s if s is not None and s.enabled else None

    if (s := on("detractor")) and nps is not None and nps <= s.threshold:
        out.append(Alert("detractor", s.priority, f"NPS {nps}"))
    if (s := on("low_grade")) and grade is not None and grade <= s.threshold:
        out.append(Alert("low_grade", s.priority, f"grade {grade}"))
    # CES 2.0: 1 = strongly disagree that it was easy, so low is high effort.
    if (s := on("high_effort_answer")) and ces is not None and ces <= s.threshold:
        out.append(Alert("high_effort_answer", s.priority, f"CES {ces}"))
    found = risk_words(comment, language) if comment and (on("risk_word") or on("not_solved")) else []
    if (s := on("risk_word")) and found:
        out.append(Alert("risk_word", s.priority, "risk words: " + ", ".join(found)))
    if s := on("not_solved"):
        if says_not_solved(answers):
            out.append(Alert("not_solved", s.priority, "problem not solved"))
        elif found:
            out.append(Alert("not_solved", s.priority, "not solved: risk words " + ", ".join(found)))
    return out


@dataclass
class Reason:
    """One tripped rule on one source (a response, a case, a promise), before it is placed."""

    rule: str
    ref: str
    at: datetime
    summary: str
    priority: int
    due_at: datetime
    customer_id: int | None
    case_id: int | None
    response_id: int | None = None
    team_id: int | None = None
