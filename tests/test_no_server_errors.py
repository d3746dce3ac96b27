"""No 500 from any query parameter or form value, on both databases.

Property tests (Hypothesis, derandomized, few examples so the suite stays quick): every GET page and every
GET API route the app serves, as an administrator on a copy of the tiny demo, gets values -- text with NUL
and other control characters, huge, negative and non-finite numbers, dates far in the past and future,
empty values -- for every query parameter it reads, and must answer below 500. The parameters a route
reads are its declared ones plus those it reads itself from ``request.query_params`` (recorded on a first
visit), so a new route or parameter is covered without a hand list. Besides the generated values, every
parameter meets each of ``KEY_VALUES`` (the kinds of value that gave 500s) as an explicit example. The main
dashboard forms get the same treatment for their fields.

Each 500 these found has an explicit regression test below (``test_found_*``) with the value that caused it.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from html import unescape

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from starlette.datastructures import QueryParams
from starlette.routing import Mount

from servicepulse.db.session import UnitOfWork
from servicepulse.errors import ServicepulseError
from servicepulse.metrics import views as metrics_views
from servicepulse.models import Case, FollowUp, Journey, Moment, OrgUnit, Survey, User
from servicepulse.models.expectations import Signal
from servicepulse.models.followups import Gesture, RecoveryBudget
from servicepulse.models.improvement import ImprovementProject
from servicepulse.org import service as org_service
from servicepulse.org.access import ROLE_SCOPES

from .cases.conftest import cli  # noqa: F401
from .expectations.helpers import event, ingest
from .test_routes_registry import PUBLIC_API, PUBLIC_PAGE_PREFIXES, PUBLIC_PAGES
from .web.conftest import PASSWORD, app, csrf_from, fast_password_hashing, login, settings  # noqa: F401

EXAMPLES = 2  # generated examples per route and form, after the explicit ones; derandomized: the same every run
SKIPPED_PAGES = {"/logout", "/language"}  # end or change the test's own session
# Tried on every parameter of every route and every form field (see `rotations` and `singles`).
KEY_VALUES = ["9999-12-31", "0001-01-01", "\x00", "99999999999999999999", "-1", "9999-12", "1e400", "²",
              "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]
# Deeper than the JSON and YAML parsers go (600 levels already overflow, and cost far less time than 5000).
TOO_DEEP = "[" * 600
FORM_KEY_VALUES = ["\x00", "1e400", "²", "99999999999999999999", "0001-01-01", TOO_DEEP]  # one field at a time
NASTY = KEY_VALUES + [
    "", " ", "0", "1", "2147483648", "9" * 5000, "-1e400", "nan", "inf", "-0", "1.5", "12,50", "١٢", "1900-01-01",
    "2100-12-31", "1969-12-31", "0001-01", "2026-13", "0001-01-01T00:00", "2026-10-31T12:00:00Z", "a\x00b", "\x7f",
    "\x1b[31m", "%", "'", '"', "<b>x</b>", "x" * 5000, TOO_DEEP, "{a: " * 600,
]
VALUES = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=12),
    st.text(max_size=6).map(lambda text: text + "\x00"),  # PostgreSQL refuses NUL where SQLite stores it
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
    st.floats().map(str),
)
FUZZ = hypothesis_settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                           suppress_health_check=list(HealthCheck), print_blob=False)


def rotations(names: list[str], values: list[str] = KEY_VALUES) -> list[dict[str, str]]:
    """Explicit examples for pages (which report every bad parameter and carry on with the rest): in example i
    parameter j gets value i + j, so every parameter meets every value, each time beside other values."""
    return [{name: values[(i + j) % len(values)] for j, name in enumerate(names)} for i in range(len(values))]


def singles(names: list[str], values: list[str] = KEY_VALUES) -> list[dict[str, str]]:
    """Explicit examples of one parameter at a time, for the API: it refuses a request at its first bad
    parameter, so a value must come alone to reach the code behind the validation."""
    return [{name: value} for name in names for value in values]


# --- the world: the tiny demo, an administrator, a key with every scope, a follow-up to work on -----------

def _client(app, email: str) -> TestClient:  # noqa: F811
    client = TestClient(app, base_url="http://testserver", raise_server_exceptions=False)
    client.__enter__()
    assert login(client, email).status_code == 303
    return client


@pytest.fixture
def admin(engine, app):  # noqa: F811
    with UnitOfWork(engine) as s:
        user = org_service.create_user(s, "fuzz-admin@example.org", "Fuzz", PASSWORD, "admin", language="en")
        key = org_service.create_api_key(s, "fuzz", created_by=user, scopes=sorted(ROLE_SCOPES["admin"])).key
    client = _client(app, "fuzz-admin@example.org")
    client.api_headers = {"Authorization": f"Bearer {key}"}
    yield client
    client.__exit__(None, None, None)


@pytest.fixture
def lead(engine, app):  # noqa: F811
    """A team lead with an open follow-up of their team, a requested gesture on it and a budget."""
    now = datetime.now(UTC)
    with UnitOfWork(engine) as s:
        team = s.scalar(select(OrgUnit).where(OrgUnit.kind == "team").order_by(OrgUnit.id).limit(1))
        user = org_service.create_user(s, "fuzz-lead@example.org", "Lead", PASSWORD, "teamlead", language="en",
                                       lead_of=[team.key])
        fu = FollowUp(cause="detractor", cause_ref="fuzz:1", team_id=team.id, priority=2, status="open",
                      due_at=now + timedelta(days=2))
        s.add(fu)
        s.flush()
        s.add(Gesture(followup_id=fu.id, team_id=team.id, user_id=user.id, kind="credit", amount_cents=10_00,
                      status="pending", at=now))
        s.add(RecoveryBudget(team_id=team.id, period_start=now.date() - timedelta(days=1),
                             period_end=now.date() + timedelta(days=30), amount_cents=100_00))
    client = _client(app, "fuzz-lead@example.org")
    yield client
    client.__exit__(None, None, None)


@pytest.fixture
def ids(engine) -> dict[str, str]:
    """A real value for each path parameter, so that routes get past their look-up and read their parameters."""
    with UnitOfWork(engine) as s:
        def first(column):
            return s.scalar(select(column).order_by(column).limit(1))
        found = {
            "journey_id": first(Journey.id), "moment_id": first(Moment.id), "external_id": first(Case.external_id),
            "followup_id": first(FollowUp.id), "gesture_id": first(Gesture.id),
            "project_id": first(ImprovementProject.id), "signal_id": first(Signal.id), "user_id": first(User.id),
            "journey_key": first(Journey.key), "survey_key": first(Survey.key),
            "department": s.scalar(select(OrgUnit.key).where(OrgUnit.kind == "department").limit(1)),
        }
    return {k: str(v if v is not None else 999999) for k, v in found.items()}


def fill(path: str, ids: dict[str, str]) -> str:
    if path.startswith(("/surveys/", "/a/")):
        ids = {**ids, "key": ids["survey_key"]}
    elif path.startswith("/journeys/"):
        ids = {**ids, "key": ids["journey_key"]}
    elif path.startswith("/verbatims/departments/"):
        ids = {**ids, "key": ids["department"]}
    else:
        ids = {**ids, "key": ids["survey_key"], "ident": "999999"}  # API: /surveys/{key}, /customers/{ident}
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: ids.get(m.group(1), "999999"), path)


# --- the routes, read from the app ------------------------------------------------------------------------

def _declared(dependant) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _declared(sub)
    return names


def _get_routes(app, *, api: bool):  # noqa: F811
    target = next(r.app for r in app.routes if isinstance(r, Mount) and r.path == "/api/v1") if api else app
    for route in iter_route_contexts(target.routes):
        dependant = getattr(route.original_route, "dependant", None)
        if isinstance(route.original_route, Mount) or dependant is None or "GET" not in (route.methods or ()):
            continue
        path = route.path
        if api and path in PUBLIC_API:
            continue
        if not api and (path in PUBLIC_PAGES or path.startswith(PUBLIC_PAGE_PREFIXES) or path in SKIPPED_PAGES
                        or route.endpoint is metrics_views.old_insights_url):
            continue
        yield path, _declared(dependant)


@pytest.fixture
def read_names(monkeypatch):
    """Record the query parameters a request reads (``request.query_params.get(...)`` and the like)."""
    seen: set[str] = set()
    for name in ("get", "getlist", "__getitem__", "__contains__"):
        original = getattr(QueryParams, name)

        def spy(self, key, *args, _original=original, **kwargs):
            seen.add(key)
            return _original(self, key, *args, **kwargs)
        monkeypatch.setattr(QueryParams, name, spy)
    return seen


def _check_route(client, url: str, names: list[str], headers: dict) -> None:
    @FUZZ
    @given(st.dictionaries(st.sampled_from(names), VALUES, max_size=len(names)))
    def run(query):
        reply = client.get(url, params=query, headers=headers, follow_redirects=False)
        assert reply.status_code < 500, f"GET {url} {query!r} -> {reply.status_code}"
    for query in (singles(names) if url.startswith("/api/") else rotations(names)):
        run = example(query)(run)
    run()


def _sweep(client, routes, ids, read_names, *, headers=None, prefix: str = "", at_least: int) -> list[str]:
    failures, checked = [], 0
    for path, declared in routes:
        url = prefix + fill(path, ids)
        read_names.clear()
        first = client.get(url, headers=headers or {}, follow_redirects=False)
        if first.status_code >= 500:
            failures.append(f"GET {url} -> {first.status_code} without parameters")
            continue
        names = sorted(declared | set(read_names))
        if not names:
            continue
        checked += 1
        try:
            _check_route(client, url, names, headers or {})
        except AssertionError as exc:
            failures.append(str(exc).splitlines()[0])
    assert checked >= at_least, f"only {checked} routes read parameters: the discovery is broken"
    return failures


@pytest.mark.demo("tiny", 11)
def test_no_page_answers_500_to_any_query_value(engine, app, admin, ids, read_names):  # noqa: F811
    failures = _sweep(admin, list(_get_routes(app, api=False)), ids, read_names, at_least=15)
    assert not failures, "\n".join(failures)


@pytest.mark.demo("tiny", 11)
def test_no_api_route_answers_500_to_any_query_value(engine, app, admin, ids, read_names):  # noqa: F811
    failures = _sweep(admin, list(_get_routes(app, api=True)), ids, read_names, headers=admin.api_headers,
                      prefix="/api/v1", at_least=8)
    assert not failures, "\n".join(failures)


# --- the main forms ---------------------------------------------------------------------------------------

PROJECT = ["title", "description", "owner", "cost", "expected_improvement", "status", "moment_ids", "drivers"]
FORMS = {  # path -> (who posts, the fields it reads)
    "/improvement/new": ("admin", PROJECT),
    "/improvement/{project_id}/edit": ("admin", PROJECT),
    "/followups/{followup_id}/contact": ("lead", ["note", "outcome"]),
    "/followups/{followup_id}/gesture": ("lead", ["kind", "amount", "note", "ask_approval"]),
    "/followups/gestures/{gesture_id}/decide": ("lead", ["approve"]),
    "/followups/{followup_id}/close": ("lead", ["outcome", "root_cause", "resurvey"]),
    "/followups/settings/budget": ("admin", ["owner", "period_start", "period_end", "amount"]),
    "/followups/settings/rule": ("admin", ["key", "enabled", "threshold", "priority", "due_working_days"]),
    "/followups/settings/loop": ("admin", ["merge_window_days", "alert_max_age_days"]),
    "/verbatims/discovery/adopt": ("admin", ["key", "terms", "languages", "label_nl", "label_en", "department"]),
    "/verbatims/owners": ("admin", ["theme", "owner"]),
    "/verbatims/codeframe": ("admin", ["yaml_text"]),
    "/journeys/rules": ("admin", ["rules"]),
    "/privacy/erase": ("admin", ["id", "confirm"]),
}
# What the forms expect beside the bad values, so that one bad field meets otherwise good ones.
GOOD_FORM = {"title": "Project", "expected_improvement": "0,5", "status": "proposed", "drivers": "repeat_contacts",
             "note": "Called", "outcome": "resolved", "kind": "credit", "amount": "12,50", "approve": "1",
             "owner": "team:1", "period_start": "2026-01-01", "period_end": "2026-12-31", "key": "detractor",
             "threshold": "6", "priority": "2", "due_working_days": "2", "merge_window_days": "14",
             "alert_max_age_days": "14", "terms": "a|b", "theme": "billing",
             "id": "nobody", "confirm": "nobody"}


@pytest.mark.demo("tiny", 11)
def test_no_form_answers_500_to_any_value(engine, admin, lead, ids):
    ids = {**ids, **_lead_ids(engine)}
    failures = []
    for path, (who, fields) in FORMS.items():
        client = admin if who == "admin" else lead
        try:
            _check_form(client, csrf_from(client.get("/followups").text), fill(path, ids), fields)
        except AssertionError as exc:
            failures.append(str(exc).splitlines()[0])
    assert not failures, "\n".join(failures)


def _check_form(client, token: str, url: str, fields: list[str]) -> None:
    @FUZZ
    @given(st.dictionaries(st.sampled_from(fields), VALUES, min_size=1, max_size=len(fields)))
    def run(form):
        data = {**{f: GOOD_FORM[f] for f in fields if f in GOOD_FORM}, **form, "csrf_token": token}
        reply = client.post(url, data=data, follow_redirects=False)
        assert reply.status_code < 500, f"POST {url} {form!r} -> {reply.status_code}"
    for form in singles(fields, FORM_KEY_VALUES):
        run = example(form)(run)
    run()


def _lead_ids(engine) -> dict[str, str]:
    with UnitOfWork(engine) as s:
        fu = s.scalar(select(FollowUp).where(FollowUp.cause_ref == "fuzz:1"))
        return {"followup_id": str(fu.id), "gesture_id": str(s.scalar(select(func.max(Gesture.id))))}


# --- the 500s found, each with the value that caused it --------------------------------------------------

FOUND_PAGES = [  # (url, status, what the answer must say)
    ("/metrics?to=9999-12-31", 200, "'9999-12-31' in 'to' lies outside 1970-01-01 to 2100-12-31"),
    ("/insights?from=0001-01-01", 200, "'0001-01-01' in 'from' lies outside"),  # the old address redirects
    ("/metrics?from=0001-01-01&to=9999-12-31", 200, "lies outside"),
    ("/metrics?month=9999-12", 200, "'9999-12' in 'month' lies outside"),
    ("/metrics?month=0001-01", 200, "'0001-01' in 'month' lies outside"),
    ("/metrics?from=2000-01-01&to=2030-01-01", 200, "longer than 5 years"),
    ("/metrics?journey=99999999999999999999", 200, "is not between 1 and 2147483647"),
    ("/metrics?team=99999999999999999999", 200, "is not between 1 and 2147483647"),
    ("/metrics?channel=%00", 200, "'channel' contains control characters"),
    ("/metrics?segment=%00", 200, "'segment' contains control characters"),
    ("/metrics/journeys/{journey_id}?to=9999-12-31", 200, "lies outside"),
    ("/metrics/drivers?channel=%00", 200, "contains control characters"),
    ("/metrics/report.pdf?month=9999-12", 400, "'9999-12' in 'month' lies outside"),
    ("/metrics/report.pdf?month=0001-01", 400, "lies outside"),
    ("/expectations?at=0001-01-01T00:00%2B00:00", 400, "lies outside"),
    ("/expectations?at=9999-12-31T23:59:59-01:00", 400, "lies outside"),
    ("/expectations?at=0001-01-01T00:00", 400, "is not a date and time with a time-zone offset"),
    ("/expectations/cases/{external_id}?at=9999-12-31T23:59:59-01:00", 400, "lies outside"),
    ("/expectations/signals?team=²", 400, "'²' in 'team' is not a number"),
    ("/expectations/signals?team=99999999999999999999", 400, "is not between 1 and 2147483647"),
    ("/verbatims?moment=²", 200, "is not a number"),
    ("/verbatims/comments?from=0001-01-01&to=9999-12-31", 200, "lies outside"),
    ("/verbatims/comments?page=99999999999999999999", 400, "page"),
    ("/verbatims/departments/{key}?to=9999-12-31", 200, "lies outside"),
    ("/cases?page=99999999999999999999", 400, "is not between 1 and 100000"),
    ("/cases?journey=99999999999999999999", 400, "is not between 1 and 2147483647"),
    ("/cases?q=%00", 400, "'q' contains control characters"),
    ("/followups?team=99999999999999999999", 400, "team"),
    ("/admin/users?user=99999999999999999999&done=activated", 400, "user"),
    ("/privacy/export?id=%00", 422, "'id' contains control characters"),
    ("/privacy/export?id=²", 404, "²"),
    ("/privacy/export?id=%23²", 404, "²"),
]


@pytest.mark.demo("tiny", 11)
def test_found_page_values_get_a_message_not_a_500(admin, ids):
    problems = []
    for url, status, needle in FOUND_PAGES:
        reply = admin.get(fill(url, {**ids, "key": ids["department"]}))
        text = unescape(reply.text)
        if reply.status_code != status or needle not in text:
            problems.append(f"{url}: {reply.status_code}, {needle!r} {'found' if needle in text else 'missing'}")
    assert not problems, "\n".join(problems)


@pytest.mark.demo("tiny", 11)
def test_a_refused_date_is_explained_in_dutch(engine, app):  # noqa: F811
    with UnitOfWork(engine) as s:
        org_service.create_user(s, "nl-analyst@example.org", "Ana", PASSWORD, "analyst", language="nl")
    client = _client(app, "nl-analyst@example.org")
    try:
        page = unescape(client.get("/metrics?to=9999-12-31").text)
        assert "'9999-12-31' in 'to' ligt buiten 1970-01-01 tot en met 2100-12-31." in page
        report = client.get("/metrics/report.pdf?month=0001-01")
        assert report.status_code == 400 and "'0001-01' in 'month' ligt buiten" in unescape(report.text)
    finally:
        client.__exit__(None, None, None)


FOUND_API = [  # (url, the parameter the problem names)
    ("/metrics?min_n=99999999999999999999", "min_n"),
    ("/journeys/{journey_id}/moments?min_n=99999999999999999999", "min_n"),
    ("/promises/kept-rate?until=9999-12-31T23:59:59-01:00", "until"),
    ("/promises/kept-rate?since=0001-01-01T00:00:00Z", "since"),
    ("/promises/kept-rate?since=2026-01-01T00:00:00", "since"),  # no offset: no guess
    ("/metrics?date_from=0001-01-01", "date_from"),
    ("/metrics?date_to=9999-12-31", "date_to"),
    ("/metrics?channel=%00", "channel"),
    ("/metrics?by=period&period=day&date_from=1900-01-01&date_to=2100-01-01", "date_from"),
    ("/metrics?by=period&period=day&date_from=2000-01-01&date_to=2100-01-01", "date_to"),  # over 5 years
    ("/drivers?date_from=2000-01-01&date_to=2030-01-01", "date_to"),
    ("/journeys/{journey_id}/moments?date_from=2030-01-01&date_to=2020-01-01", "date_to"),
    ("/cases/{external_id}/forecast?now=9999-12-31T23:59:59-01:00", "now"),
    ("/followups?team_id=99999999999999999999", "team_id"),
    ("/customers/%00/export", "ident"),
]


@pytest.mark.demo("tiny", 11)
def test_found_api_values_get_a_problem_naming_the_parameter(admin, ids):
    problems = []
    for url, name in FOUND_API:
        reply = admin.get("/api/v1" + fill(url, ids), headers=admin.api_headers)
        fields = [e.get("field") for e in reply.json().get("errors") or []]
        if reply.status_code != 422 or not reply.headers["content-type"].startswith("application/problem+json") \
                or name not in fields:
            problems.append(f"{url}: {reply.status_code} {fields} {reply.text[:200]}")
    assert not problems, "\n".join(problems)


def test_a_span_of_five_years_is_served(admin):  # the cap is a span, not a refusal of long ranges as such
    reply = admin.get("/api/v1/metrics?by=period&date_from=2021-01-01&date_to=2026-01-01",
                      headers=admin.api_headers)
    assert reply.status_code == 200 and len(reply.json()["groups"]) == 60


@pytest.mark.demo("tiny", 11)
def test_found_form_values_get_a_message_not_a_500(engine, admin, lead, ids):
    ids = {**ids, **_lead_ids(engine)}
    fu = ids["followup_id"]
    with UnitOfWork(engine) as s:
        gestures = s.scalar(select(func.count()).select_from(Gesture))
    admin_token, lead_token = csrf_from(admin.get("/followups").text), csrf_from(lead.get("/followups").text)
    cases = [  # (client, token, path, form, status, what the answer must say)
        (lead, lead_token, f"/followups/{fu}/gesture", {"kind": "credit", "amount": "1e400"}, 400,
         "'1e400' in 'amount': the amount must be between € 0.01 and € 1000000"),
        (lead, lead_token, f"/followups/{fu}/gesture", {"kind": "credit", "amount": "inf"}, 400,
         "'inf' in 'amount' is not an amount in euros"),
        (lead, lead_token, f"/followups/{fu}/gesture", {"kind": "credit", "amount": "nan"}, 400,
         "'nan' in 'amount' is not an amount in euros"),
        (lead, lead_token, f"/followups/{fu}/gesture", {"kind": "credit", "amount": "-5"}, 400,
         "'-5' in 'amount': the amount must be between"),
        (lead, lead_token, f"/followups/{fu}/gesture", {"kind": "credit", "amount": "99999999999999999999"}, 400,
         "the amount must be between"),
        (lead, lead_token, f"/followups/{fu}/contact", {"note": "a\x00b"}, 400, "'note' contains control characters"),
        (lead, lead_token, f"/followups/{fu}/close", {"outcome": "resolved", "root_cause": "x\x00"}, 400,
         "'root_cause' contains control characters"),
        (admin, admin_token, "/followups/settings/budget",
         {"owner": "team:1", "period_start": "2026-01-01", "period_end": "2026-12-31", "amount": "1e400"}, 400,
         "'1e400' in 'amount': the amount must be between € 0 and € 1000000"),
        (admin, admin_token, "/followups/settings/budget",
         {"owner": "team:1", "period_start": "0001-01-01", "period_end": "2026-12-31", "amount": "10"}, 400,
         "'0001-01-01' in 'period_start' lies outside"),
        (admin, admin_token, "/followups/settings/rule", {"key": "detractor", "threshold": "nan"}, 400,
         "'nan' in 'threshold' is not between"),
        (admin, admin_token, "/verbatims/owners", {"theme": "billing", "owner": "²"}, 400,
         "'²' in 'owner' is not a number"),
        (admin, admin_token, "/verbatims/discovery/adopt", {"key": "new_theme", "terms": "a|b", "department": "²"},
         400, "'²' in 'department' is not a number"),
        (admin, admin_token, "/verbatims/discovery/adopt", {"key": "new_theme", "terms": "a|b", "label_nl": "\x00"},
         400, "'label_nl' contains control characters"),
        (admin, admin_token, "/verbatims/codeframe", {"yaml_text": TOO_DEEP}, 422, "nested too deeply"),
        (admin, admin_token, "/journeys/rules", {"rules": TOO_DEEP}, 422, "nested too deeply"),
        (admin, admin_token, "/improvement/new", {"title": "P", "expected_improvement": "1e400", "drivers":
                                                  "repeat_contacts"}, 400, "'1e400' in 'expected_improvement'"),
        (admin, admin_token, "/improvement/new", {"title": "P\x00", "expected_improvement": "0.5",
                                                  "moment_ids": "99999999999999999999"}, 400,
         "'title' contains control characters"),
        (admin, admin_token, "/privacy/erase", {"id": "\x00", "confirm": "\x00"}, 422, "'id' contains control"),
    ]
    problems = []
    for client, token, path, form, status, needle in cases:
        reply = client.post(path, data={**form, "csrf_token": token}, follow_redirects=False)
        text = unescape(reply.text)
        if reply.status_code != status or needle not in text:
            problems.append(f"POST {path} {form!r}: {reply.status_code}, {needle!r} "
                            f"{'found' if needle in text else 'missing'}")
    assert not problems, "\n".join(problems)
    with UnitOfWork(engine) as s:  # nothing of it was stored
        assert s.scalar(select(func.count()).select_from(Gesture)) == gestures


# --- the command line: one line and a non-zero exit, never a traceback -----------------------------------

@pytest.mark.parametrize("args, needle", [
    (["report", "monthly", "--month", "9999-12", "--out", "{tmp}/r.pdf"], "'9999-12' in '--month' lies outside"),
    (["report", "monthly", "--month", "0001-01", "--out", "{tmp}/r.pdf"], "lies outside"),
    (["survey", "load", "{tmp}/deep.json"], "nested too deeply"),
    (["survey", "load", "{tmp}/deep.yaml"], "nested too deeply"),
    (["verbatims", "codeframe", "import", "{tmp}/deep.yaml"], "nested too deeply"),
])
def test_found_command_line_values_get_one_line(cli, tmp_path, args, needle):
    for name in ("deep.json", "deep.yaml"):
        (tmp_path / name).write_text("[" * 100_000)
    result = cli(*[a.format(tmp=tmp_path) for a in args])
    # an error meant for people: servicepulse.cli.main prints it as one line and exits with 1
    assert result.exit_code != 0 and isinstance(result.exception, ServicepulseError)
    assert needle in str(result.exception) and "\n" not in str(result.exception)
    assert not (tmp_path / "r.pdf").exists()


def test_found_promise_csv_far_moment_is_a_row_error(engine, admin):
    ingest(engine, [event("K-FAR", 0, "Customer calls")])
    body = "case_id,kind,made_at,due_at\nK-FAR,callback,2026-03-02T10:00:00+01:00,9999-12-31T23:59:59-01:00\n"
    reply = admin.post("/api/v1/promises/csv", content=body.encode(),
                       headers={**admin.api_headers, "Content-Type": "text/csv"})
    assert reply.status_code == 422, reply.text
    assert [e["field"] for e in reply.json()["errors"]] == ["row 1"] and "out of range" in reply.text


PATHS = ["/metrics/journeys/99999999999999999999", "/metrics/moments/99999999999999999999", "/cases/%00",
         "/journeys/%00", "/journeys/%00/dfg.svg", "/surveys/%00", "/expectations/cases/%00",
         "/verbatims/departments/%00", "/verbatims/departments/%00.pdf", "/improvement/99999999999999999999/edit",
         "/followups/99999999999999999999"]
API_PATHS = ["/cases/%00", "/cases/%00/timeline", "/cases/%00/promises", "/cases/%00/forecast",
             "/followups/99999999999999999999", "/improvement/projects/99999999999999999999"]


def test_found_path_values_are_refused_not_a_500(admin):
    """Found beside the query sweep: ids past the id columns and NUL in keys (PostgreSQL refuses NUL)."""
    pages = {url: admin.get(url).status_code for url in PATHS}
    api = {url: admin.get("/api/v1" + url, headers=admin.api_headers).status_code for url in API_PATHS}
    assert all(status == 400 for status in pages.values()), pages
    assert all(status == 422 for status in api.values()), api
