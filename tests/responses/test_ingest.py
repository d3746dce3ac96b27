"""Response ingestion through the service: headline columns, idempotency, all-or-nothing batches."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from servicepulse.db.session import UnitOfWork
from servicepulse.models import Answer, Customer, Response
from servicepulse.responses import service
from servicepulse.surveys import create_or_update_survey
from servicepulse.surveys.service import template_definition

from .conftest import response

NOW = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)


def ingest(engine, payload):
    with UnitOfWork(engine) as s:
        return service.ingest(s, payload, now=NOW)


def rejected(engine, payload, kind=service.IngestRejected) -> dict[str, str]:
    with pytest.raises(kind) as info:
        ingest(engine, payload)
    return dict(info.value.problems)


def count(engine, model=Response) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(model))


def test_headline_columns_come_from_the_answers(engine, world):
    ingest(engine, [
        response("R-1", case="K-1", answers={"ces": 2, "grade": 5, "resolved": "no", "why": "Drie keer gebeld"}),
        response("R-2", survey="relationship", answers={"nps": 9, "csat": 4, "grade": 8}),
    ])
    with engine.connect() as conn:
        rows = {r.external_id: r for r in conn.execute(select(Response))}
        answers = conn.execute(select(Answer.question_key, Answer.value_num, Answer.value_text)
                               .join(Response).where(Response.external_id == "R-1").order_by(Answer.question_key)).all()
    r1, r2 = rows["R-1"], rows["R-2"]
    assert (r1.ces, r1.grade, r1.nps, r1.csat, r1.comment) == (2, 5, None, None, "Drie keer gebeld")
    assert (r2.nps, r2.csat, r2.grade, r2.ces, r2.comment) == (9, 4, 8, None, None)
    assert r1.moment_id == world.moment_id and r1.team_id == world.team_id and r1.case_id == world.case_id
    assert r2.team_id is None and r2.moment_id != world.moment_id
    assert r1.submitted_at == datetime(2026, 3, 2, 9, 15, tzinfo=UTC)  # +01:00 stored as UTC
    assert r1.content_hash and r1.content_hash != r2.content_hash
    assert answers == [("ces", 2.0, None), ("grade", 5.0, None), ("resolved", None, "no"), ("why", None, "Drie keer gebeld")]


def test_replay_returns_the_same_resource_and_writes_nothing(engine, world):
    first = ingest(engine, response("R-1", case="K-1"))
    again = ingest(engine, response("R-1", case="K-1"))
    assert first.created == [True] and again.created == [False]
    assert again.resources == first.resources
    # 7 and 7.0 are the same score; replayed inside a larger batch it is still the same resource
    batch = ingest(engine, [response("R-2"), response("R-1", case="K-1")])
    assert batch.created == [True, False] and batch.resources[1] == first.resources[0]
    assert count(engine) == 2 and count(engine, Answer) == 6


def test_same_external_id_with_other_content_is_a_conflict(engine, world):
    ingest(engine, response("R-1"))
    problems = rejected(engine, [response("R-9"), response("R-1", answers={"ces": 1})], service.IngestConflict)
    assert list(problems) == ["/1/external_id"] and "different content" in problems["/1/external_id"]
    assert count(engine) == 1  # R-9 was not stored either


def test_one_bad_item_rejects_the_whole_batch_and_is_named(engine, world):
    batch = [response(f"R-{i}") for i in range(5)]
    batch[3]["answers"]["ces"] = 8
    problems = rejected(engine, batch)
    assert problems == {"/3/answers/ces": "8 is out of range: a ces score runs from 1 to 7"}
    assert count(engine) == 0 and count(engine, Customer) == 2


@pytest.mark.parametrize("change, pointer, words", [
    ({"answers": {"ces": 0}}, "/answers/ces", "out of range"),
    ({"answers": {"ces": "6"}}, "/answers/ces", "whole number"),
    ({"answers": {"ces": 5.5}}, "/answers/ces", "whole number"),
    ({"answers": {"ces": True}}, "/answers/ces", "whole number"),
    ({"answers": {"ces": 5, "nps": 9}}, "/answers/nps", "no question 'nps'"),
    ({"answers": {"ces": 5, "resolved": "maybe"}}, "/answers/resolved", "not an option"),
    ({"answers": {"ces": 5, "why": "x" * 5001}}, "/answers/why", "limit is 5,000"),
    ({"answers": {"ces": 5, "why": 12}}, "/answers/why", "must be text"),
    ({"answers": {"grade": 7}}, "/answers/ces", "required"),
    ({"answers": {}}, "/answers/ces", "required"),
    ({"answers": "ces=5"}, "/answers", "must be an object"),
    ({"survey": "nope"}, "/survey", "no active survey"),
    ({"submitted_at": "2026-03-02T10:15:00"}, "/submitted_at", "no time zone"),
    ({"submitted_at": "gisteren"}, "/submitted_at", "not an ISO 8601"),
    ({"submitted_at": "2027-01-01T00:00:00Z"}, "/submitted_at", "in the future"),
    ({"submitted_at": "9999-12-31T23:59:59-12:00"}, "/submitted_at", "in the future"),
    ({"submitted_at": "0001-01-01T00:00:00+01:00"}, "/submitted_at", "before 2000"),
    ({"language": "de"}, "/language", "nl or en"),
    ({"external_id": ""}, "/external_id", "must not be empty"),
    ({"external_id": 17}, "/external_id", "must be a text"),
    ({"customer": "C\x00"}, "/customer", "NUL"),
    ({"customer": "C-\ud800"}, "/customer", "lone surrogate"),
    ({"colour": "red"}, "/colour", "unknown field"),
    ({"case": "K-404"}, "/case", "no case"),
    ({"case": "K-1", "customer": "C-2"}, "/case", "another customer"),
])
def test_bad_input_names_the_field(engine, world, change, pointer, words):
    problems = rejected(engine, {**response("R-1"), **change})
    assert pointer in problems, problems
    assert words in problems[pointer]
    assert count(engine) == 0


def test_unknown_customer_is_created_with_its_language(engine, world):
    ingest(engine, response("R-1", customer="NEW-7", language="en"))
    with engine.connect() as conn:
        customer = conn.execute(select(Customer).where(Customer.external_id == "NEW-7")).one()
        linked = conn.scalar(select(Response.customer_id).where(Response.external_id == "R-1"))
    assert customer.language == "en" and linked == customer.id


def test_duplicates_inside_one_batch(engine, world):
    result = ingest(engine, [response("R-1"), response("R-2"), response("R-1")])
    assert result.created == [True, True, False] and result.resources[0] == result.resources[2]
    assert count(engine) == 2
    problems = rejected(engine, [response("R-5"), response("R-5", answers={"ces": 3})])
    assert "/1/external_id" in problems and "item 0" in problems["/1/external_id"]


def test_batch_size_limits(engine, world):
    assert rejected(engine, []) == {"/": "the list is empty: send at least one response"}
    assert "at most 1000" in rejected(engine, [response(f"R-{i}") for i in range(1001)])["/"]
    assert "must be a JSON object" in rejected(engine, [response("R-1"), 7])["/1/"]


def test_new_survey_version_keeps_old_answers_on_theirs(engine, world):
    ingest(engine, response("R-1"))
    definition = template_definition("after_contact")
    definition["questions"][1]["required"] = True  # grade becomes required: a new version
    with UnitOfWork(engine) as s:
        v2 = create_or_update_survey(s, definition)
    assert v2.version == 2
    assert "/answers/grade" in rejected(engine, response("R-2", answers={"ces": 5}))
    ingest(engine, response("R-2", answers={"ces": 5, "grade": 7}))
    with UnitOfWork(engine, readonly=True) as s:
        assert service.get_response(s, "R-1")["survey_version"] == 1
        assert service.get_response(s, "R-2")["survey_version"] == 2
    # A replay of the old response still returns it unchanged, although it would not validate today.
    assert ingest(engine, response("R-1")).resources[0]["survey_version"] == 1


def test_concurrent_writers_never_duplicate(engine, world):
    """Two requests racing with the same external ids: each id stored once, both succeed."""
    batch = [response(f"R-{i}", customer=f"RACE-{i % 7}") for i in range(60)]
    results, errors = [], []
    barrier = threading.Barrier(3)

    def submit():
        barrier.wait()
        try:
            results.append(ingest(engine, batch))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [r["id"] for r in results[0].resources] == [r["id"] for r in results[2].resources]
    assert sum(sum(r.created) for r in results) == 60
    assert count(engine) == 60 and count(engine, Answer) == 180
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Customer).where(Customer.external_id.like("RACE-%"))) == 7
