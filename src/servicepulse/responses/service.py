"""Response ingestion: validate, deduplicate by external id, store in bulk. Never commits.

One call handles one response or a batch, all or nothing: any bad item rejects
the whole call (422, naming every bad item), and a reused external id with
different content rejects it too (409). A replay of identical content returns
the stored resource and writes nothing.

Unknown customers are created on the fly (external id and language only):
answers from an IVR or a helpdesk often arrive before the customer master data
has been synchronised, and refusing them would lose feedback that cannot be
asked again. A named case, on the other hand, must exist and belong to that
customer: it decides the team the answer is credited to, and a wrong case
would credit the wrong team.

The batch path costs a fixed number of statements, whatever the batch size:
one query each for surveys, customers, cases and existing external ids, then
multi-row inserts for new customers, responses, answers (and webhook jobs).

Every channel writes through this module: the API and the CSV import call
:func:`ingest`, the survey page (``form.py``) calls :func:`write_responses` and
:func:`rewrite_response`. So responses and answers are inserted, the daily
score aggregate gets its deltas and the follow-up work is queued in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from servicepulse.customers import customer_ids, resolve_customers
from servicepulse.errors import ServicepulseError, ValidationFailed
from servicepulse.jobs.queue import enqueue_rows, job_row
from servicepulse.kernels.text import redact
from servicepulse.models import Answer, Customer, Response, utcnow
from servicepulse.responses import aggregate, repository, webhooks_out
from servicepulse.responses.items import Item, Problem, parse_item
from servicepulse.surveys import SurveySpec, current_specs
from servicepulse.verbatims import current_verbatim_settings

MAX_BATCH = 1000
# Jobs of other domains, queued by kind name: followups comes later in the domain order, and importing the
# verbatim analysis would load the text kernel into every process that takes responses.
EVALUATE_RESPONSES_JOB = "followups.evaluate_responses"  # the alert rules; payload {"response_ids": [...]}
ANALYSE_VERBATIMS_JOB = "verbatims.analyse"  # payload {"reanalyse": false, "response_ids": [...]}


class IngestRejected(ValidationFailed):
    """422: items are malformed or do not fit their survey. `item_problems` says where."""

    status = 422

    def __init__(self, problems: list[Problem]):
        self.item_problems = problems
        super().__init__(_summary(problems), [(p.pointer, p.message) for p in problems])


class IngestConflict(ServicepulseError):
    """409: an external id is already used for a response with different content."""

    status = 409

    def __init__(self, problems: list[Problem]):
        self.item_problems = problems
        self.problems = [(p.pointer, p.message) for p in problems]
        super().__init__(_summary(problems))


def _summary(problems: list[Problem]) -> str:
    shown = "; ".join(f"{p.pointer}: {p.message}" for p in problems[:5])
    more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
    return shown + more


@dataclass
class IngestResult:
    resources: list[dict] = field(default_factory=list)
    created: list[bool] = field(default_factory=list)
    new_response_ids: list[int] = field(default_factory=list)

    @property
    def created_count(self) -> int:
        return sum(self.created)


def ingest(session: Session, payload, *, now: datetime | None = None, default_channel: str = "api",
           notify: bool = True, alerts: bool = True) -> IngestResult:
    """Store one response (a dict) or a batch (a list); see the module docstring for the rules.
    ``alerts=False`` (historic answers being imported): the closed loop's alert rules are not run on them."""
    now = now or utcnow()
    single = isinstance(payload, dict)
    raw_items = [payload] if single else payload
    if not isinstance(raw_items, list):
        raise IngestRejected([Problem(None, "", "the body must be one response object or a list of them")])
    if not raw_items:
        raise IngestRejected([Problem(None, "", "the list is empty: send at least one response")])
    if len(raw_items) > MAX_BATCH:
        raise IngestRejected([Problem(None, "", f"at most {MAX_BATCH} responses per request, not {len(raw_items)}")])

    problems: list[Problem] = []
    items: list[Item] = []
    for i, raw in enumerate(raw_items):
        item = parse_item(raw, None if single else i, now, problems, default_channel)
        if item is not None:
            items.append(item)
    # The same external id twice in one batch: identical copies collapse, different ones are an error.
    first_by_id: dict[str, Item] = {}
    unique: list[Item] = []
    duplicate_of: dict[int, Item] = {}
    for item in items:
        seen = first_by_id.get(item.external_id)
        if seen is None:
            first_by_id[item.external_id] = item
            unique.append(item)
        elif seen.content_hash == item.content_hash:
            duplicate_of[item.index] = seen
        else:
            problems.append(Problem(item.index, "external_id",
                                    f"external_id {item.external_id!r} is also used by item {seen.index} with different content"))

    existing = repository.existing_by_external_id(session, [i.external_id for i in unique])
    conflicts: list[Problem] = []
    fresh: list[Item] = []
    replayed: dict[str, repository.StoredRef] = {}
    for item in unique:
        stored = existing.get(item.external_id)
        if stored is None:
            fresh.append(item)
        elif stored.content_hash == item.content_hash:
            replayed[item.external_id] = stored
        else:
            conflicts.append(_conflict(item))

    specs = current_specs(session, {i.survey for i in fresh})
    customers = customer_ids(session, {i.customer for i in fresh})
    cases = repository.cases_by_external_id(session, {i.case for i in fresh if i.case})
    checked: list[tuple[Item, SurveySpec, dict]] = []
    for item in fresh:
        spec = specs.get(item.survey)
        if spec is None:
            problems.append(Problem(item.index, "survey", f"there is no active survey with key {item.survey!r}"))
            continue
        if item.language not in spec.languages:
            problems.append(Problem(item.index, "language", f"survey {item.survey!r} is not offered in {item.language}"))
        clean, answer_problems = spec.check_answers(item.answers)
        problems += [Problem(item.index, f"answers/{key.replace('~', '~0').replace('/', '~1')}", message)
                     for key, message in answer_problems]
        if not clean and not answer_problems:
            problems.append(Problem(item.index, "answers", "no question was answered"))
        if item.case:
            case = cases.get(item.case)
            if case is None:
                problems.append(Problem(item.index, "case", f"there is no case with external id {item.case!r}"))
            elif case.customer_id is not None and customers.get(item.customer) != case.customer_id:
                problems.append(Problem(item.index, "case", f"case {item.case!r} belongs to another customer"))
        checked.append((item, spec, clean))

    if problems:
        raise IngestRejected(sorted(problems, key=lambda p: (p.index or 0, p.field)))
    if conflicts:
        raise IngestConflict(conflicts)

    new_ids = _insert(session, checked, customers, cases, now, notify, alerts)
    # Lost a race with a concurrent request for the same external id: it is a replay or a conflict.
    lost = [item for item, _, _ in checked if item.external_id not in new_ids]
    if lost:
        again = repository.existing_by_external_id(session, [i.external_id for i in lost])
        late_conflicts = [_conflict(i) for i in lost if again[i.external_id].content_hash != i.content_hash]
        if late_conflicts:
            raise IngestConflict(late_conflicts)
        replayed.update({i.external_id: again[i.external_id] for i in lost})

    result = IngestResult()
    fresh_clean = {item.external_id: clean for item, _, clean in checked}
    versions = {spec.version_id: spec.version for _, spec, _ in checked}
    stored_resources = repository.load_resources(session, [r.id for r in replayed.values()])
    for item in items:
        source = duplicate_of.get(item.index, item)
        if source.external_id in new_ids:
            response_id, version_id = new_ids[source.external_id]
            result.resources.append(resource(response_id, source, versions[version_id], fresh_clean[source.external_id]))
            result.created.append(item is source)
        else:
            result.resources.append(stored_resources[replayed[source.external_id].id])
            result.created.append(False)
    result.new_response_ids = [rid for rid, _ in new_ids.values()]
    return result


def write_responses(session: Session, rows: list[dict], answers: dict[str, tuple[SurveySpec, dict]],
                    now: datetime, *, notify: bool = True, alerts: bool = True) -> dict[str, int]:
    """Insert new responses (``responses`` column dicts) and their answers (by external id: the survey version's
    spec and the checked answers), add them to the daily score aggregate, and queue what follows the completed
    ones (:func:`after_new_responses`). External ids a concurrent writer has taken meanwhile are skipped;
    returns external_id -> id of the responses this call wrote.

    Open answers are redacted here, before anything is stored (unless SERVICEPULSE_VERBATIMS_RETENTION is
    "original"): the comment column and the text answers, in ``rows`` and in the ``answers`` dicts (in
    place, so what a caller answers with is what was stored)."""
    _redact_rows(session, rows, answers)
    inserted = repository.insert_responses(session, rows)
    answer_rows = []
    for external_id, response_id in inserted.items():
        spec, clean = answers[external_id]
        answer_rows += [answer_row(response_id, key, spec.questions[key].type, value) for key, value in clean.items()]
    repository.insert_answers(session, answer_rows)
    # a few small statements per batch, not per response
    aggregate.add_to_daily_counts(session, list(inserted.values()))
    if notify:
        completed = {r["external_id"] for r in rows if r["completed"]}
        after_new_responses(session, [rid for ext, rid in inserted.items() if ext in completed], now, alerts=alerts)
    return inserted


def rewrite_response(session: Session, response_id: int, values: dict, spec: SurveySpec, answers: dict,
                     now: datetime, *, newly_completed: bool) -> None:
    """Change a stored response (the survey page: a respondent saves part of the answers and comes back):
    its ``responses`` columns in ``values``, its answers replaced by ``answers``, the aggregate moved along;
    ``newly_completed`` queues what follows a completed response, as for a new one. Open answers are
    redacted as in :func:`write_responses`."""
    customer_id = session.scalar(select(Response.customer_id).where(Response.id == response_id))
    clean = _redactor(session, [customer_id])
    if clean is not None:
        answers = clean.answers(spec, answers, customer_id)
        if values.get("comment"):
            values = {**values, "comment": clean(values["comment"], customer_id)}
    aggregate.add_to_daily_counts(session, [response_id], -1)  # the old answers out; the new ones back in below
    # ORM-enabled UPDATE: a Response the caller holds in the session is brought up to date
    session.execute(update(Response).where(Response.id == response_id).values(**values))
    session.execute(delete(Answer).where(Answer.response_id == response_id))
    repository.insert_answers(session, [answer_row(response_id, key, spec.questions[key].type, value)
                                        for key, value in answers.items()])
    aggregate.add_to_daily_counts(session, [response_id])
    if newly_completed:
        after_new_responses(session, [response_id], now)


class _Redactor:
    """Redacts open answers with the customers' own names as known names; the same text once per call."""

    def __init__(self, names: dict[int, str], patterns: list[str] | None):
        self.names, self.patterns, self._done = names, patterns, {}

    def __call__(self, text: str | None, customer_id: int | None) -> str | None:
        if not text or not isinstance(text, str):
            return text
        key = (text, customer_id)
        if key not in self._done:
            name = self.names.get(customer_id) if customer_id is not None else None
            self._done[key] = redact(text, self.patterns, known_names=[name] if name else None).text
        return self._done[key]

    def answers(self, spec: SurveySpec, answers: dict, customer_id: int | None) -> dict:
        """The text answers redacted, in place (``answers`` is returned)."""
        for key, value in answers.items():
            question = spec.questions.get(key)
            if question is not None and question.type == "text" and isinstance(value, str):
                answers[key] = self(value, customer_id)
        return answers


def _redactor(session: Session, customer_ids) -> _Redactor | None:
    """None when the retention policy keeps original texts; else a redactor knowing these customers' names."""
    settings = current_verbatim_settings()
    if settings.keep_original:
        return None
    ids = sorted({int(i) for i in customer_ids if i is not None})
    names: dict[int, str] = {}
    for start in range(0, len(ids), 1000):
        names.update(session.execute(select(Customer.id, Customer.name).where(
            Customer.id.in_(ids[start:start + 1000]), Customer.name.is_not(None))).all())
    return _Redactor(names, settings.customer_patterns)


def _has_text(row: dict, answers: dict[str, tuple[SurveySpec, dict]]) -> bool:
    _spec, values = answers.get(row["external_id"], (None, {}))
    return bool(row.get("comment")) or any(isinstance(v, str) and v for v in values.values())


def _redact_rows(session: Session, rows: list[dict], answers: dict[str, tuple[SurveySpec, dict]]) -> None:
    with_text = [r for r in rows if _has_text(r, answers)]
    if not with_text:  # most answers are scores only: no name look-up, no redaction
        return
    clean = _redactor(session, [r.get("customer_id") for r in with_text])
    if clean is None:
        return
    for row in with_text:
        customer_id = row.get("customer_id")
        if row.get("comment"):
            row["comment"] = clean(row["comment"], customer_id)
        entry = answers.get(row["external_id"])
        if entry is not None:
            clean.answers(entry[0], entry[1], customer_id)


def after_new_responses(session: Session, response_ids: list[int], now: datetime, *, alerts: bool = True) -> None:
    """What follows every new response, whichever way it came in (API, CSV, survey page):
    the outgoing webhook, the closed-loop alert rules (not for historic answers: ``alerts=False``)
    and the verbatim analysis, each a job in the caller's unit of work, so a slow or failing
    step never holds up the answer."""
    if response_ids:  # one multi-row insert for all three kinds of job
        ids = [int(i) for i in response_ids]
        rules = [job_row(EVALUATE_RESPONSES_JOB, {"response_ids": ids}, now)] if alerts else []
        enqueue_rows(session, webhooks_out.delivery_rows(session, ids, now) + rules
                     + [job_row(ANALYSE_VERBATIMS_JOB, {"reanalyse": False, "response_ids": ids}, utcnow())])


def _conflict(item: Item) -> Problem:
    return Problem(item.index, "external_id",
                   f"a response with external_id {item.external_id!r} already exists with different content")


def _insert(session: Session, checked, customers: dict[str, int], cases: dict, now: datetime,
            notify: bool, alerts: bool = True) -> dict[str, tuple[int, int]]:
    """Insert new customers, responses and answers; returns external_id -> (response id, version id) for rows written."""
    missing = {}
    for item, _, _ in checked:
        if item.customer not in customers:
            missing.setdefault(item.customer, item.language)
    if missing:
        customers.update(resolve_customers(session, missing, now).ids)
    rows = []
    for item, spec, clean in checked:
        case = cases.get(item.case) if item.case else None
        headline = spec.headline_scores(clean)
        rows.append({
            "external_id": item.external_id, "survey_version_id": spec.version_id,
            "customer_id": customers[item.customer], "case_id": case.id if case else None,
            "moment_id": spec.moment_id, "team_id": case.last_team_id if case else None,
            "channel": item.channel, "language": item.language, "submitted_at": item.submitted_at,
            "created_at": now, "completed": True, "content_hash": item.content_hash, **headline,
        })
    inserted = write_responses(session, rows, {item.external_id: (spec, clean) for item, spec, clean in checked},
                               now, notify=notify, alerts=alerts)
    versions = {item.external_id: spec.version_id for item, spec, _ in checked}
    return {ext: (rid, versions[ext]) for ext, rid in inserted.items()}


def answer_row(response_id: int, key: str, kind: str, value) -> dict:
    row = {"response_id": response_id, "question_key": key, "value_num": None, "value_text": None, "value_json": None}
    if kind == "multi":
        row["value_json"] = value
    elif kind in ("single", "text"):
        row["value_text"] = value
    else:
        row["value_num"] = float(value)
    return row


def resource(response_id: int, item: Item, version: int, answers: dict) -> dict:
    """The API representation of a stored response (the same shape GET reads back from the database)."""
    return {
        "id": response_id,
        "external_id": item.external_id,
        "survey": item.survey,
        "survey_version": version,
        "customer": item.customer,
        "case": item.case,
        "submitted_at": item.submitted_at.isoformat().replace("+00:00", "Z"),
        "language": item.language,
        "channel": item.channel,
        "answers": answers,
    }


def get_response(session: Session, external_id: str) -> dict:
    """One stored response read back from the database, in the same shape the POST returned."""
    return repository.load_resource(session, external_id)
