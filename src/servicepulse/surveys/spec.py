"""A survey version's questions in a form that is quick to check answers against.

Built from a stored (normal-form) definition; shared by the response API, the
CSV import and the public survey page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from servicepulse.surveys import conditions
from servicepulse.surveys.scales import DEFAULT_TEXT_LIMIT, SCALES, SCORE_TYPES, fill


@dataclass(frozen=True)
class QuestionSpec:
    key: str
    type: str
    required: bool
    options: tuple[str, ...] = ()
    max_length: int = DEFAULT_TEXT_LIMIT
    config: dict = field(default_factory=dict, compare=False, hash=False)

    def check(self, value) -> tuple[object, str | None]:
        """Return (normalised value, None) or (None, message a person understands)."""
        if self.type in SCORE_TYPES:
            scale = SCALES[self.type]
            if isinstance(value, float) and math.isfinite(value) and value.is_integer():
                value = int(value)
            if isinstance(value, bool) or not isinstance(value, int):
                return None, f"must be a whole number from {scale.low} to {scale.high}, not {_shown(value)}"
            if not scale.low <= value <= scale.high:
                return None, f"{value} is out of range: a {self.type} score runs from {scale.low} to {scale.high}"
            return value, None
        if self.type == "single":
            if not isinstance(value, str):
                return None, f"must be one of the option keys {', '.join(self.options)}, not {_shown(value)}"
            if value not in self.options:
                return None, f"{_shown(value)} is not an option; choose one of {', '.join(self.options)}"
            return value, None
        if self.type == "multi":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                return None, f"must be a list of option keys from {', '.join(self.options)}, not {_shown(value)}"
            unknown = [v for v in value if v not in self.options]
            if unknown:
                return None, f"{_shown(unknown[0])} is not an option; choose from {', '.join(self.options)}"
            if len(set(value)) != len(value):
                return None, "an option is chosen twice"
            if self.required and not value:
                return None, "choose at least one option"
            return sorted(value, key=self.options.index), None
        # text
        if not isinstance(value, str):
            return None, f"must be text, not {_shown(value)}"
        if len(value) > self.max_length:
            return None, f"the text is {len(value):,} characters long; the limit is {self.max_length:,}"
        return value, None


def _shown(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    return f"a {'list' if isinstance(value, list) else 'object' if isinstance(value, dict) else type(value).__name__}"


@dataclass(frozen=True)
class SurveySpec:
    key: str
    version: int
    version_id: int
    moment_id: int | None
    languages: tuple[str, ...]
    questions: dict[str, QuestionSpec]
    headline: dict[str, str]  # score type -> the question key whose answer is the headline score
    why_key: str | None
    definition: dict = field(compare=False, hash=False)

    @classmethod
    def from_definition(cls, definition: dict, version: int, version_id: int, moment_id: int | None) -> SurveySpec:
        questions = {}
        headline: dict[str, str] = {}
        for q in definition["questions"]:
            options = tuple(o["key"] for o in q.get("options", ()))
            questions[q["key"]] = QuestionSpec(q["key"], q["type"], bool(q.get("required")), options,
                                               q.get("max_length", DEFAULT_TEXT_LIMIT), q)
            if q["type"] in SCORE_TYPES:
                headline.setdefault(q["type"], q["key"])
        return cls(definition["key"], version, version_id, moment_id, tuple(definition.get("languages", ("nl", "en"))),
                   questions, headline, why_question_key(definition), definition)

    def check_answers(self, answers: dict) -> tuple[dict, list[tuple[str, str]]]:
        """Validate a whole answer set: (normalised answers without nulls, [(question key, message)])."""
        clean: dict = {}
        problems: list[tuple[str, str]] = []
        for key, value in answers.items():
            question = self.questions.get(key)
            if question is None:
                problems.append((key, f"survey {self.key!r} has no question {key!r}; "
                                      f"its questions are {', '.join(self.questions)}"))
                continue
            if value is None or (question.type == "text" and isinstance(value, str) and not value.strip()):
                continue
            normalised, message = question.check(value)
            if message:
                problems.append((key, message))
            else:
                clean[key] = normalised
        for key, question in self.questions.items():
            if question.required and key not in clean and key not in {k for k, _ in problems}:
                problems.append((key, f"question {key!r} is required"))
        return clean, problems

    def headline_scores(self, answers: dict) -> dict:
        scores = {score: answers.get(key) for score, key in self.headline.items()}
        return {score: scores.get(score) for score in SCORE_TYPES} | {
            "comment": answers.get(self.why_key) if self.why_key else None
        }


def why_question_key(definition: dict) -> str | None:
    """The open 'why' question: marked `why: true`, else the first text question with score prompts, else the first text question."""
    texts = [q for q in definition["questions"] if q["type"] == "text"]
    for pick in (lambda q: q.get("why"), lambda q: q.get("prompt_by_score"), lambda q: True):
        for q in texts:
            if pick(q):
                return q["key"]
    return None


def question_text(question: dict, language: str, organisation: str, answers: dict | None = None) -> str:
    """The wording to show for a question; for the 'why' question, the prompt that fits the scores given so far."""
    for prompt in question.get("prompt_by_score") or ():
        when = prompt.get("when")
        if when is None or conditions.parse(when).holds(answers or {}):
            return fill(prompt.get(language) or prompt.get("nl") or prompt.get("en") or "", organisation)
    text = question.get("text") or {}
    wording = text.get(language) or (SCALES[question["type"]].text[language] if question["type"] in SCALES else None)
    return fill(wording or text.get("nl") or text.get("en") or "", organisation)
