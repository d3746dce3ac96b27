"""Surveys: create, version, list, load templates. Framework-free; never commits.

Loading a definition whose key exists compares its normal form with the newest
version: the same is a no-op, a change adds a version (answers keep pointing at
the version they were given to, so their meaning never shifts).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, selectinload

from servicepulse.errors import NotFound, ValidationFailed
from servicepulse.models import Journey, Moment, Question, Survey, SurveyVersion
from servicepulse.surveys.definition import normalise
from servicepulse.surveys.loader import read_definition_file
from servicepulse.surveys.spec import SurveySpec

TEMPLATES_DIR = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class SurveyChange:
    version: SurveyVersion
    status: str  # "created", "new_version" or "unchanged"


def upsert_survey(session: Session, raw: dict) -> SurveyChange:
    definition = normalise(raw)
    moment = _moment(session, definition["moment"])
    survey = session.scalar(select(Survey).where(Survey.key == definition["key"]))
    if survey is None:
        survey = Survey(key=definition["key"], name=definition["name"], moment_id=moment.id, active=True)
        session.add(survey)
        session.flush()
        return SurveyChange(_add_version(session, survey, 1, definition), "created")
    latest = _latest_version(session, survey.id)
    if latest is not None and latest.definition == definition:
        return SurveyChange(latest, "unchanged")
    survey.name = definition["name"]
    survey.moment_id = moment.id
    survey.active = True
    return SurveyChange(_add_version(session, survey, (latest.version if latest else 0) + 1, definition), "new_version")


def create_or_update_survey(session: Session, definition: dict) -> SurveyVersion:
    """Create a survey or add a version when its definition changed; returns the current version."""
    return upsert_survey(session, definition).version


def _add_version(session: Session, survey: Survey, number: int, definition: dict) -> SurveyVersion:
    version = SurveyVersion(survey_id=survey.id, version=number, definition=definition)
    for position, q in enumerate(definition["questions"]):
        config = {k: v for k, v in q.items() if k not in ("key", "type")}
        version.questions.append(Question(key=q["key"], type=q["type"], position=position, config=config))
    session.add(version)
    session.flush()
    return version


def _moment(session: Session, reference: str) -> Moment:
    journey_key, moment_key = reference.split("/", 1)
    moment = session.scalar(
        select(Moment).join(Journey, Moment.journey_id == Journey.id)
        .where(Journey.key == journey_key, Moment.key == moment_key)
    )
    if moment is None:
        known = session.execute(
            select(Journey.key, Moment.key).join(Moment, Moment.journey_id == Journey.id).order_by(Journey.key, Moment.position)
        ).all()
        hint = ("; known moments: " + ", ".join(f"{j}/{m}" for j, m in known[:20])) if known else "; no journeys exist yet"
        raise ValidationFailed(f"moment {reference!r} does not exist{hint}", [("moment", f"unknown moment {reference!r}")])
    return moment


def _latest_version(session: Session, survey_id: int) -> SurveyVersion | None:
    return session.scalar(
        select(SurveyVersion).where(SurveyVersion.survey_id == survey_id).order_by(SurveyVersion.version.desc()).limit(1)
    )


def current_version(session: Session, key: str) -> SurveyVersion:
    survey = session.scalar(select(Survey).where(Survey.key == key))
    version = _latest_version(session, survey.id) if survey else None
    if version is None:
        raise NotFound(f"survey {key!r} does not exist")
    return version


# A version never changes once written, so its parsed form is kept per process, keyed by
# database, id and creation time (ids alone can be reused after a delete on SQLite).
_SPEC_CACHE: dict[tuple, SurveySpec] = {}
_NEWEST = (
    select(Survey.key, Survey.moment_id, SurveyVersion.id, SurveyVersion.version, SurveyVersion.created_at)
    .join(SurveyVersion, SurveyVersion.survey_id == Survey.id)
    .where(Survey.key.in_(bindparam("keys", expanding=True)), Survey.active.is_(True),
           SurveyVersion.version == select(func.max(SurveyVersion.version)).where(SurveyVersion.survey_id == Survey.id)
           .correlate(Survey).scalar_subquery())
)


def current_specs(session: Session, keys) -> dict[str, SurveySpec]:
    """The newest version of each named survey (one small query; definitions parsed once per process)."""
    keys = sorted(set(keys))
    if not keys:
        return {}
    connection = session.connection()
    rows = connection.execute(_NEWEST, {"keys": keys}).all()
    database = connection.engine.url.render_as_string(hide_password=True)
    cache_keys = {r.id: (database, r.id, r.created_at) for r in rows}
    missing = [r.id for r in rows if cache_keys[r.id] not in _SPEC_CACHE]
    if missing:
        definitions = dict(connection.execute(
            select(SurveyVersion.id, SurveyVersion.definition).where(SurveyVersion.id.in_(missing))).all())
        for r in rows:
            if r.id in definitions:
                _SPEC_CACHE[cache_keys[r.id]] = SurveySpec.from_definition(definitions[r.id], r.version, r.id, None)
    # The survey's moment may change with a later version, so it is read fresh each time.
    return {r.key: replace(_SPEC_CACHE[cache_keys[r.id]], moment_id=r.moment_id) for r in rows}


def list_surveys(session: Session) -> list[dict]:
    """Every survey with its versions, moment and the newest version's question keys."""
    surveys = session.scalars(select(Survey).options(selectinload(Survey.versions)).order_by(Survey.key)).all()
    moments = {
        m.id: f"{j}/{m.key}"
        for m, j in session.execute(select(Moment, Journey.key).join(Journey, Moment.journey_id == Journey.id))
    }
    out = []
    for survey in surveys:
        latest = survey.versions[-1] if survey.versions else None
        definition = latest.definition if latest else {}
        out.append({
            "key": survey.key,
            "name": survey.name,
            "active": survey.active,
            "moment": moments.get(survey.moment_id),
            "version": latest.version if latest else None,
            "versions": [v.version for v in survey.versions],
            "languages": definition.get("languages", []),
            "questions": [{"key": q["key"], "type": q["type"], "required": bool(q.get("required"))}
                          for q in definition.get("questions", [])],
        })
    return out


def template_names() -> list[str]:
    return sorted(p.stem for p in TEMPLATES_DIR.glob("*.yaml"))


def template_definition(name: str) -> dict:
    path = TEMPLATES_DIR / f"{name}.yaml"
    if not path.is_file():
        raise NotFound(f"there is no survey template {name!r}; templates: {', '.join(template_names())}")
    return read_definition_file(path)


def load_template(session: Session, name: str, moment: str | None = None, key: str | None = None) -> SurveyVersion:
    """Create (or update) a survey from a shipped template, linked to `moment` ("journey_key/moment_key")."""
    definition = template_definition(name)
    if moment is not None:
        definition["moment"] = moment
    if key is not None:
        definition["key"] = key
    return create_or_update_survey(session, definition)
