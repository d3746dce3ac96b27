"""Survey definitions: validation, versioning, templates, and checking answers against a version."""

from servicepulse.surveys.scales import SCALES, SCORE_TYPES, fill
from servicepulse.surveys.service import (
    SurveyChange,
    create_or_update_survey,
    current_specs,
    current_version,
    list_surveys,
    load_template,
    template_names,
    upsert_survey,
)
from servicepulse.surveys.spec import QuestionSpec, SurveySpec, question_text, why_question_key

__all__ = [
    "SurveyChange", "create_or_update_survey", "current_specs", "current_version", "list_surveys",
    "load_template", "template_names", "upsert_survey", "QuestionSpec", "SurveySpec", "question_text",
    "why_question_key", "fill", "SCALES", "SCORE_TYPES",
]
