"""Survey definitions: the condition language, validation messages, versioning, templates, wordings."""

from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import func, select

from servicepulse.db.session import UnitOfWork
from servicepulse.errors import NotFound, ValidationFailed
from servicepulse.models import Journey, Moment, Question, SurveyVersion
from servicepulse.surveys import conditions, list_surveys, load_template, question_text, template_names, upsert_survey
from servicepulse.surveys.definition import normalise
from servicepulse.surveys.loader import read_definition_file
from servicepulse.surveys.service import template_definition

DEFINITION = {
    "key": "after_call",
    "name": "After a call",
    "moment": "service/contact",
    "questions": [
        {"key": "nps", "type": "nps", "required": True},
        {"key": "topic", "type": "single", "text": {"nl": "Onderwerp", "en": "Topic"},
         "options": [{"key": "bill", "nl": "Factuur", "en": "Bill"}, {"key": "fault", "nl": "Storing", "en": "Fault"}]},
        {"key": "why", "type": "text", "prompt_by_score": [
            {"when": "nps <= 6", "nl": "Wat moet beter?", "en": "What should improve?"},
            {"when": "nps >= 9", "nl": "Wat ging goed?", "en": "What went well?"},
            {"nl": "Waarom deze score?", "en": "Why this score?"},
        ]},
    ],
}


@pytest.fixture
def moments(engine):
    with UnitOfWork(engine) as s:
        for key, moment_keys in {"service": ["contact", "case_resolved"], "installation": ["engineer_visit"],
                                 "relationship": ["journey_end"]}.items():
            journey = Journey(key=key, name_nl=key, name_en=key)
            for i, m in enumerate(moment_keys):
                journey.moments.append(Moment(key=m, position=i, name_nl=m, name_en=m, kind="functional", norm=7.0))
            s.add(journey)


@pytest.mark.parametrize("text, answers, expected", [
    ("nps <= 6", {"nps": 6}, True),
    ("nps <= 6", {"nps": 7}, False),
    ("nps <= 6", {}, False),  # not answered: false, never an error
    ("nps >= 7 and nps <= 8", {"nps": 8}, True),
    ("nps >= 7 and nps <= 8", {"nps": 9}, False),
    ("ces <= 3 or grade < 6", {"ces": 5, "grade": 5}, True),
    ("ces <= 3 or grade < 6", {"ces": 5, "grade": 6}, False),
    ("grade == 10", {"grade": 10}, True),
    ("grade != 10", {"grade": True}, False),  # booleans are not scores
])
def test_conditions(text, answers, expected):
    assert conditions.parse(text).holds(answers) is expected


@pytest.mark.parametrize("text", ["__import__('os')", "nps <= ", "nps < 6 and", "nps = 6", "", "x" * 201, "nps <= six"])
def test_conditions_refuse_anything_else(text):
    with pytest.raises(conditions.ConditionError):
        conditions.parse(text)


def problems_of(definition) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as info:
        normalise(definition)
    return dict(info.value.problems)


def test_validation_names_each_problem():
    bad = copy.deepcopy(DEFINITION)
    bad["questions"][1]["options"] = [{"key": "bill", "nl": "Factuur"}, {"key": "bill", "nl": "F", "en": "B"}]
    bad["questions"][2]["prompt_by_score"][0]["when"] = "csat <= 2"
    bad["questions"][2]["prompt_by_score"][1]["when"] = "nps => 9"
    bad["questions"].append({"key": "nps", "type": "grade", "options": [{"key": "a", "nl": "a", "en": "a"}]})
    bad["questions"].append({"key": "pick", "type": "multi", "text": {"nl": "Kies", "en": "Pick"},
                             "options": [{"key": "a", "nl": "a", "en": "a"}]})
    problems = problems_of(bad)
    assert "'bill' is used twice" in problems["questions/1/options"]
    assert "at least two options" in problems["questions/4/options"]
    assert "'csat' is not a score question" in problems["questions/2/prompt_by_score/0/when"]
    assert "cannot read" in problems["questions/2/prompt_by_score/1/when"]
    assert "used twice" in problems["questions/3/key"]
    assert "only single and multi" in problems["questions/3/options"]
    assert "questions/1/options/0/en" in problems


def test_shape_problems_use_the_same_locations():
    bad = copy.deepcopy(DEFINITION)
    bad["questions"][0]["type"] = "stars"
    bad["moment"] = "contact"
    bad["colour"] = "red"
    problems = problems_of(bad)
    assert {"questions/0/type", "moment", "colour"} <= set(problems)
    assert problems_of({"key": "x"}).keys() >= {"name", "moment", "questions"}


def test_versioning_creates_a_version_only_on_change(engine, moments):
    with UnitOfWork(engine) as s:
        assert upsert_survey(s, DEFINITION).status == "created"
    with UnitOfWork(engine) as s:
        assert upsert_survey(s, copy.deepcopy(DEFINITION)).status == "unchanged"
    changed = copy.deepcopy(DEFINITION)
    changed["questions"][1]["options"].append({"key": "move", "nl": "Verhuizing", "en": "Moving"})
    with UnitOfWork(engine) as s:
        change = upsert_survey(s, changed)
        assert (change.status, change.version.version) == ("new_version", 2)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(SurveyVersion)) == 2
        assert conn.scalar(select(func.count()).select_from(Question)) == 6  # each version has its own questions
        v1 = conn.scalar(select(SurveyVersion.definition).where(SurveyVersion.version == 1))
    assert len(v1["questions"][1]["options"]) == 2  # the old version is untouched


def test_unknown_moment_is_refused_with_the_known_ones(engine, moments):
    with UnitOfWork(engine) as s, pytest.raises(ValidationFailed, match="service/contact"):
        upsert_survey(s, {**DEFINITION, "moment": "service/nope"})


def test_templates_load_and_list(engine, moments):
    assert template_names() == ["after_contact", "after_visit", "case_resolved", "expectation", "relationship"]
    with UnitOfWork(engine) as s:
        for name in template_names():
            load_template(s, name)
        load_template(s, "after_contact", moment="relationship/journey_end", key="after_contact_b")
    with UnitOfWork(engine, readonly=True) as s:
        surveys = {x["key"]: x for x in list_surveys(s)}
        assert surveys["after_contact_b"]["moment"] == "relationship/journey_end"
        assert surveys["after_visit"]["questions"][0] == {"key": "grade", "type": "grade", "required": True}
        with pytest.raises(NotFound, match="after_contact"):
            load_template(s, "nonexistent")


def test_ces_wording_and_score_dependent_prompts():
    definition = normalise(template_definition("after_contact"))
    ces, why = definition["questions"][0], definition["questions"][3]
    assert question_text(ces, "en", "Glasvezel Noord") == "Glasvezel Noord made it easy for me to handle my issue."
    assert question_text(ces, "nl", "Glasvezel Noord") == "Glasvezel Noord maakte het mij makkelijk om mijn zaak te regelen."
    assert question_text(why, "nl", "X", {"ces": 2}).startswith("Wat maakte het lastig")
    assert question_text(why, "en", "X", {"ces": 7}) == "Glad to hear it! What went well?"
    assert question_text(why, "en", "X", {"ces": 4}) == "What could we do better?"
    assert question_text(why, "en", "X", {}) == "What could we do better?"


def test_files_in_yaml_and_json(tmp_path):
    (tmp_path / "s.json").write_text(json.dumps(DEFINITION))
    assert normalise(read_definition_file(tmp_path / "s.json"))["key"] == "after_call"
    (tmp_path / "bad.yaml").write_text("key: x\nquestions: [\n")
    with pytest.raises(ValidationFailed, match=r"not valid YAML at line \d+"):
        read_definition_file(tmp_path / "bad.yaml")
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    with pytest.raises(ValidationFailed, match="must be a mapping"):
        read_definition_file(tmp_path / "list.yaml")
