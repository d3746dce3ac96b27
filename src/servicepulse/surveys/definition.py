"""What a survey definition looks like, and its validation into a normal form.

A definition (YAML/JSON file or API body) is checked in two steps: its shape by
pydantic models (which also document the API), then the rules that span fields
(unique keys, texts in every language, options for choice questions, conditions
that name score questions). Problems come back as (location, message) pairs such
as ``questions/2/options``. The normal form (a plain dict) is what a
SurveyVersion stores; two definitions with the same normal form are the same
version.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from servicepulse.errors import ValidationFailed
from servicepulse.surveys import conditions
from servicepulse.surveys.scales import CHOICE_TYPES, DEFAULT_TEXT_LIMIT, LANGUAGES, SCORE_TYPES

KEY_PATTERN = r"^[a-z0-9][a-z0-9_\-]{0,79}$"
QUESTION_KEY_PATTERN = r"^[a-z][a-z0-9_]{0,59}$"
MOMENT_PATTERN = r"^[A-Za-z0-9_\-]{1,60}/[A-Za-z0-9_\-]{1,60}$"
MAX_QUESTIONS = 40
MAX_OPTIONS = 30


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Texts(_Strict):
    nl: str | None = Field(None, min_length=1, max_length=1000)
    en: str | None = Field(None, min_length=1, max_length=1000)


class OptionDef(_Strict):
    key: str = Field(pattern=QUESTION_KEY_PATTERN)
    nl: str | None = Field(None, min_length=1, max_length=300)
    en: str | None = Field(None, min_length=1, max_length=300)


class PromptDef(_Strict):
    """One prompt of the 'why' question; `when` is a condition such as 'nps <= 6'; none = the default."""

    when: str | None = Field(None, max_length=conditions.MAX_CONDITION_LENGTH)
    nl: str | None = Field(None, min_length=1, max_length=1000)
    en: str | None = Field(None, min_length=1, max_length=1000)


class QuestionDef(_Strict):
    key: str = Field(pattern=QUESTION_KEY_PATTERN)
    type: Literal["nps", "grade", "ces", "csat", "single", "multi", "text"]
    required: bool = False
    text: Texts | None = None
    options: list[OptionDef] | None = Field(None, max_length=MAX_OPTIONS)
    max_length: int | None = Field(None, ge=1, le=DEFAULT_TEXT_LIMIT)
    why: bool = False
    prompt_by_score: list[PromptDef] | None = Field(None, max_length=10)


class SurveyDefinition(_Strict):
    key: str = Field(pattern=KEY_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    moment: str = Field(pattern=MOMENT_PATTERN, description="journey_key/moment_key")
    languages: list[Literal["nl", "en"]] = Field(default_factory=lambda: list(LANGUAGES), min_length=1)
    title: Texts | None = None
    intro: Texts | None = None
    questions: list[QuestionDef] = Field(min_length=1, max_length=MAX_QUESTIONS)


def _loc(parts) -> str:
    return "/".join(str(p) for p in parts) or "(definition)"


def normalise(raw: dict) -> dict:
    """Validate a definition and return its normal form; raises ValidationFailed listing every problem."""
    if not isinstance(raw, dict):
        raise ValidationFailed("a survey definition must be a mapping (an object) with key, name, moment and questions",
                               [("(definition)", "not a mapping")])
    try:
        model = SurveyDefinition.model_validate(raw)
    except ValidationError as exc:
        problems = [(_loc(e["loc"]), e["msg"]) for e in exc.errors(include_url=False)]
        raise _failed(problems) from None
    problems = _cross_field_problems(model)
    if problems:
        raise _failed(problems)
    definition = model.model_dump(mode="json", exclude_none=True)
    definition["languages"] = sorted(set(definition["languages"]), key=LANGUAGES.index)
    return definition


def _failed(problems: list[tuple[str, str]]) -> ValidationFailed:
    shown = "; ".join(f"{loc}: {msg}" for loc, msg in problems[:10])
    more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
    return ValidationFailed(f"the survey definition is not valid: {shown}{more}", problems)


def _missing_languages(texts, languages) -> list[str]:
    return [lang for lang in languages if texts is None or not getattr(texts, lang, None)]


def _cross_field_problems(model: SurveyDefinition) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    languages = list(dict.fromkeys(model.languages))
    score_keys = {q.key for q in model.questions if q.type in SCORE_TYPES}
    seen: set[str] = set()
    whys = 0
    for i, q in enumerate(model.questions):
        at = f"questions/{i}"
        if q.key in seen:
            problems.append((f"{at}/key", f"question key {q.key!r} is used twice"))
        seen.add(q.key)
        # Score questions have standard wordings; the others need their own text.
        if q.type not in SCORE_TYPES and not q.prompt_by_score:
            for lang in _missing_languages(q.text, languages):
                problems.append((f"{at}/text/{lang}", f"question {q.key!r} needs a text in {lang}"))
        elif q.text is not None:
            for lang in _missing_languages(q.text, languages):
                problems.append((f"{at}/text/{lang}", f"question {q.key!r} has no text in {lang}"))
        if q.type in CHOICE_TYPES:
            if not q.options or len(q.options) < 2:
                problems.append((f"{at}/options", f"choice question {q.key!r} needs at least two options"))
            else:
                option_keys = [o.key for o in q.options]
                for dup in sorted({k for k in option_keys if option_keys.count(k) > 1}):
                    problems.append((f"{at}/options", f"option key {dup!r} is used twice"))
                for j, option in enumerate(q.options):
                    for lang in _missing_languages(option, languages):
                        problems.append((f"{at}/options/{j}/{lang}", f"option {option.key!r} needs a text in {lang}"))
        elif q.options is not None:
            problems.append((f"{at}/options", f"only single and multi questions have options, not {q.type}"))
        if q.type != "text":
            for field in ("max_length", "prompt_by_score"):
                if getattr(q, field) is not None:
                    problems.append((f"{at}/{field}", f"only text questions have {field}"))
            if q.why:
                problems.append((f"{at}/why", "only a text question can be the 'why' question"))
        whys += q.why
        if q.prompt_by_score:
            problems += _prompt_problems(q, at, languages, score_keys)
    if whys > 1:
        problems.append(("questions", "at most one question can be the 'why' question (why: true)"))
    return problems


def _prompt_problems(q: QuestionDef, at: str, languages, score_keys: set[str]) -> list[tuple[str, str]]:
    problems = []
    prompts = q.prompt_by_score or []
    for j, prompt in enumerate(prompts):
        where = f"{at}/prompt_by_score/{j}"
        for lang in _missing_languages(prompt, languages):
            problems.append((f"{where}/{lang}", f"prompt needs a text in {lang}"))
        if prompt.when is None:
            if j != len(prompts) - 1:
                problems.append((where, "the default prompt (without 'when') must come last"))
            continue
        try:
            condition = conditions.parse(prompt.when)
        except conditions.ConditionError as exc:
            problems.append((f"{where}/when", str(exc)))
            continue
        for key in sorted(condition.keys() - score_keys):
            problems.append((f"{where}/when", f"{key!r} is not a score question (nps, grade, ces, csat) in this survey"))
    if prompts[-1].when is not None and q.text is None:
        problems.append((f"{at}/prompt_by_score", "add a default prompt (an entry without 'when') or a text"))
    return problems
