"""Problems with a form, told per field in the visitor's language (the administrator's forms).

The services and the validators they use (pydantic models, the survey and code-frame checks) report
problems as (location, English message) pairs: the command line and the API show them as they are. The
dashboard's forms show each of them in the visitor's language: `problem_text` recognises the English
message and gives the catalogue's wording (``http/i18n/admin.yaml``, keys ``admin.problem.*``) with the
same values; a message it does not know is shown as written, rather than not at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import Request

from servicepulse.http.i18n import request_language

# (English message, catalogue key): the first that matches the whole message wins; its named groups fill
# the catalogue's text.
_KNOWN: tuple[tuple[re.Pattern, str], ...] = tuple((re.compile(pattern, re.DOTALL), key) for pattern, key in (
    # a trigger rule's delay (servicepulse.invitations.rules.parse_delay, inside pydantic's "Value error")
    (r"(?:Value error, )?cannot read delay .*", "rule.delay"),
    (r"(?:Value error, )?delay must be .*", "rule.delay"),
    # pydantic's messages (the shape of a survey definition, a trigger rule)
    (r"Field required", "required"),
    (r"String should match pattern '.*'", "pattern"),
    (r"String should have at least (?P<n>\d+) characters?", "too_short"),
    (r"String should have at most (?P<n>\d+) characters?", "too_long"),
    (r"List should have at least (?P<n>\d+) items? after validation, not \d+", "list_too_short"),
    (r"List should have at most (?P<n>\d+) items? after validation, not \d+", "list_too_long"),
    (r"Extra inputs are not permitted", "extra"),
    (r"Input should be (?P<choices>'[^']*'(?:, '[^']*')*(?: or '[^']*')?)", "choice"),
    (r"Input should be a valid integer.*", "integer"),
    (r"Input should be a valid number.*", "number"),
    (r"Input should be a valid boolean.*", "boolean"),
    (r"Input should be a valid string", "string"),
    (r"Input should be a valid list", "list"),
    (r"Input should be a valid dictionary.*|Input should be an object", "mapping"),
    (r"Input should be a finite number", "number"),
    (r"Input should be greater than or equal to (?P<n>[-\d.]+)", "at_least"),
    (r"Input should be less than or equal to (?P<n>[-\d.]+)", "at_most"),
    (r"Input should be greater than (?P<n>[-\d.]+)", "above"),
    (r"Value error, (?P<text>.*)", "value"),
    # users (servicepulse.org.service.create_user, the user form)
    (r"'(?P<value>.*)' is not an e-mail address", "user.email"),
    (r"a user with e-mail (?P<email>.*) already exists", "user.exists"),
    (r"role '(?P<value>.*)' is unknown.*", "user.role"),
    (r"language must be nl or en", "user.language"),
    (r"'(?P<value>.*)' is not a team of this organisation", "user.team"),
    # survey definitions (servicepulse.surveys.definition, .service, .loader)
    (r"question key '(?P<name>[^']*)' is used twice", "survey.question_twice"),
    (r"question '(?P<name>[^']*)' (?:needs|has no) a? ?text in (?P<lang>nl|en)", "survey.question_text"),
    (r"choice question '(?P<name>[^']*)' needs at least two options", "survey.two_options"),
    (r"option key '(?P<name>[^']*)' is used twice", "survey.option_twice"),
    (r"option '(?P<name>[^']*)' needs a text in (?P<lang>nl|en)", "survey.option_text"),
    (r"only single and multi questions have options, not (?P<type>\w+)", "survey.options_only_choice"),
    (r"only text questions have (?P<field>\w+)", "survey.only_text"),
    (r"only a text question can be the 'why' question", "survey.why_text"),
    (r"at most one question can be the 'why' question.*", "survey.one_why"),
    (r"prompt needs a text in (?P<lang>nl|en)", "survey.prompt_text"),
    (r"the default prompt \(without 'when'\) must come last", "survey.default_last"),
    (r"add a default prompt .*", "survey.default_prompt"),
    (r"'(?P<name>[^']*)' is not a score question .*", "survey.not_score"),
    (r"unknown moment '(?P<moment>[^']*)'", "survey.unknown_moment"),
    (r"not a mapping", "survey.not_mapping"),
    # trigger rules (servicepulse.invitations.rules)
    (r"survey '(?P<name>[^']*)' does not exist", "rule.unknown_survey"),
    (r"journey '(?P<name>[^']*)' does not exist", "rule.unknown_journey"),
    # moment rules (servicepulse.journeys.repository)
    (r"'(?P<moment>[^']*)' is not a moment \(use journey_key/moment_key\)", "moment_rule.unknown_moment"),
    (r"needs at least one of activity, pattern, channel, team", "moment_rule.condition"),
    (r"longer than (?P<n>\d+) characters", "too_long"),
    (r"'(?P<pattern>.*)' is not a valid regular expression \((?P<why>.*)\)", "pattern_invalid"),
))


@dataclass(frozen=True)
class FieldProblem:
    field: str  # the form field or the place in a file ("questions/2/text/nl")
    text: str  # in the visitor's language


def problem_text(request: Request, message: str) -> str:
    """`message` (a validator's English) in the visitor's language, when it is one the catalogue knows."""
    catalogue, language = request.app.state.catalogue, request_language(request)
    message = str(message).strip()
    for pattern, key in _KNOWN:
        match = pattern.fullmatch(message)
        if match:
            values = match.groupdict()
            if key == "choice":  # pydantic lists the choices as 'a', 'b' or 'c'
                values["choices"] = values["choices"].replace("' or '", "' " + catalogue.translate(
                    "admin.problem.or", language) + " '")
            try:
                return catalogue.translate(f"admin.problem.{key}", language, **values)
            except (KeyError, IndexError, ValueError):  # a text that does not fit its values: the message as written
                return message
    return message


def field_problems(request: Request, problems, strip: str = "") -> list[FieldProblem]:
    """(location, English message) pairs as FieldProblems; `strip` drops a prefix of every location
    ("rule/" of a trigger rule's problems)."""
    out = []
    for where, message in problems:
        field = str(where)
        if strip and field.startswith(strip):
            field = field[len(strip):]
        out.append(FieldProblem(field, problem_text(request, message)))
    return out
