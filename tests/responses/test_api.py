"""The /api/v1 routes for responses and surveys, over HTTP (FastAPI TestClient on the real app)."""

from __future__ import annotations

from .conftest import response

PROBLEM = "application/problem+json"


def test_post_single_then_replay_then_read_back(api):
    first = api.post("/api/v1/responses", json=response("R-1", case="K-1"))
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["external_id"] == "R-1" and body["survey_version"] == 1 and body["case"] == "K-1"
    assert body["submitted_at"] == "2026-03-02T09:15:00Z"
    replay = api.post("/api/v1/responses", json=response("R-1", case="K-1"))
    assert replay.status_code == 200 and replay.json() == body
    read = api.get("/api/v1/responses/R-1")
    assert read.status_code == 200 and read.json() == body


def test_batch_created_and_replayed_counts(api):
    assert api.post("/api/v1/responses", json=[response("R-1")]).status_code == 201
    reply = api.post("/api/v1/responses", json=[response("R-1"), response("R-2"), response("R-3")])
    assert reply.status_code == 201
    data = reply.json()
    assert (data["created"], data["replayed"]) == (2, 1)
    assert [i["external_id"] for i in data["items"]] == ["R-1", "R-2", "R-3"]
    again = api.post("/api/v1/responses", json=[response("R-2"), response("R-3")])
    assert again.status_code == 200 and again.json()["created"] == 0


def test_bad_item_is_problem_json_naming_item_and_field(api):
    batch = [response("R-1"), response("R-2"), response("R-3", answers={"ces": 12})]
    reply = api.post("/api/v1/responses", json=batch)
    assert reply.status_code == 422 and reply.headers["content-type"].startswith(PROBLEM)
    problem = reply.json()
    assert problem["status"] == 422 and "/2/answers/ces" in problem["detail"]
    assert problem["errors"] == [{"location": "body", "field": "/2/answers/ces",
                                  "message": "12 is out of range: a ces score runs from 1 to 7"}]
    assert api.get("/api/v1/responses/R-1").status_code == 404  # nothing half-written


def test_conflict_is_409(api):
    api.post("/api/v1/responses", json=response("R-1"))
    reply = api.post("/api/v1/responses", json=response("R-1", answers={"ces": 1}))
    assert reply.status_code == 409 and reply.headers["content-type"].startswith(PROBLEM)
    assert reply.json()["errors"][0]["field"] == "/external_id"


def test_malformed_bodies_are_4xx_not_5xx(api):
    for body in (b"{not json", b"", b"null", b"42", b'"text"', b"[[]]", b'{"answers": []}', b"[" * 5000 + b"]" * 5000):
        reply = api.post("/api/v1/responses", content=body, headers={"Content-Type": "application/json"})
        assert 400 <= reply.status_code < 500, (body[:20], reply.status_code, reply.text)
        assert reply.headers["content-type"].startswith(PROBLEM)


def test_api_key_is_required(api):
    reply = api.post("/api/v1/responses", json=response("R-1"), headers={"Authorization": "Bearer sp_wrong"})
    assert reply.status_code == 401 and reply.headers["content-type"].startswith(PROBLEM)
    assert api.get("/api/v1/surveys", headers={"Authorization": ""}).status_code == 401


def test_surveys_list_post_and_versions(api):
    listed = {s["key"]: s for s in api.get("/api/v1/surveys").json()}
    assert set(listed) == {"after_contact", "case_resolved", "relationship"}
    contact = listed["after_contact"]
    assert contact["moment"] == "service/contact" and contact["versions"] == [1]
    assert [q["key"] for q in contact["questions"]] == ["ces", "grade", "resolved", "why"]

    definition = api.get("/api/v1/surveys/after_contact").json()["definition"]
    same = api.post("/api/v1/surveys", json=definition)
    assert same.status_code == 200 and same.json() == {"key": "after_contact", "version": 1, "status": "unchanged"}
    definition["questions"].append({"key": "nps", "type": "nps"})
    changed = api.post("/api/v1/surveys", json=definition)
    assert changed.status_code == 201 and changed.json()["version"] == 2
    assert api.get("/api/v1/surveys").json()[0]["versions"] == [1, 2]

    definition["questions"][0]["type"] = "stars"
    bad = api.post("/api/v1/surveys", json=definition)
    assert bad.status_code == 422 and any("questions" in e["field"] for e in bad.json()["errors"])
    definition["questions"][0]["type"] = "ces"
    definition["moment"] = "service/nowhere"
    unknown = api.post("/api/v1/surveys", json=definition)
    assert unknown.status_code == 422 and "service/contact" in unknown.json()["detail"]  # lists known moments


def test_openapi_describes_the_routes(api):
    schema = api.get("/api/v1/openapi.json").json()
    assert {"/responses", "/responses/{external_id}", "/surveys", "/surveys/{key}"} <= set(schema["paths"])
    body = schema["paths"]["/responses"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["oneOf"][1]["type"] == "array"
