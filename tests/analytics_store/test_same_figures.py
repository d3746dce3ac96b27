"""Issue 20's "done when": with the analytics store switched on, every dashboard page an analyst sees shows the
same figures as without it.

On a copy of the small demo (SQLite and PostgreSQL), the store (chDB) is rebuilt from the main database; then
every page of the analyst's menu and the drill-downs behind it (a journey's and a moment's page, the drivers,
a survey's page, the process view of a journey, the comment search, and filters the daily aggregate cannot
answer: language, survey, segment) is rendered twice by the real app: once reading the main database only, once
with the unit of work's raw-row reader on the store (what `http/deps.py` does when the app carries a store).
The numbers in each page's main content must be identical, in order. Times of day are left out (a page may
say when it was drawn) and so are attributes (ids in links, CSRF tokens).

Each page's store statements are counted through the store object, so the test also says which pages read
from the store at all (`STORE_PAGES` must read from it; a page that stops doing so fails the test).
"""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path

import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from sqlalchemy import select

from servicepulse.analytics_store import rebuild
from servicepulse.analytics_store.reader import use_store
from servicepulse.app import create_app
from servicepulse.db.session import UnitOfWork
from servicepulse.http import deps
from servicepulse.models import Customer, Journey, Moment, Response, Survey, SurveyVersion
from servicepulse.settings import Settings

from ..web.conftest import csrf_from

ANALYST = ("analyst@demo.servicepulse", "demo-analyst-2026")
MAIN = re.compile(r"<main\b[^>]*>(.*)</main>", re.S)
HIDDEN = re.compile(r"<(script|style)\b.*?</\1>", re.S)
TAG = re.compile(r"<[^>]+>")
CLOCK = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b")  # a time of day: when the page was drawn, not a figure
NUMBER = re.compile(r"[-−]?\d+(?:[.,\u2009\u202f]\d+)*%?")
# Pages whose figures come from raw rows (drill-downs, segments, comment search, process statistics), so with
# the store on they must read it; found by counting store statements (see the report of the last run).
STORE_PAGES = ("/metrics?language=", "/metrics/moments/", "/metrics/drivers", "/journeys/", "/verbatims/comments?q=")


class CountingStore:
    """The store as the app sees it, counting the statements each page sends."""

    def __init__(self, store):
        self.store = store
        self.statements = 0

    def query_arrow(self, sql, params=None):
        self.statements += 1
        return self.store.query_arrow(sql, params)


def numbers(html: str) -> list[str]:
    """The numbers a reader sees in the page's main content, in order."""
    match = MAIN.search(html)
    assert match, "no <main> in the page"
    text = html_lib.unescape(TAG.sub(" ", HIDDEN.sub(" ", match.group(1))))
    return NUMBER.findall(CLOCK.sub(" ", text))


def _wire(app, counting: CountingStore) -> None:
    """Raw-row queries on the store, as http/deps.py does when the app carries one (app.state.analytics_store);
    done here by a dependency override while that wiring is not in deps.py."""
    app.state.analytics_store = counting
    if "use_store" in Path(deps.__file__).read_text():
        return

    def session_on_the_store(request: Request):
        with UnitOfWork(deps.get_engine(request), readonly=request.method in deps.SAFE_METHODS) as session:
            use_store(session, counting.query_arrow)
            yield session

    app.dependency_overrides[deps.db_session] = session_on_the_store


def _client(app) -> TestClient:
    client = TestClient(app, base_url="http://testserver", raise_server_exceptions=False)
    client.__enter__()
    email, password = ANALYST
    reply = client.post("/login", data={"email": email, "password": password, "next": "/",
                                        "csrf_token": csrf_from(client.get("/login").text)}, follow_redirects=False)
    assert reply.status_code == 303
    client.post("/language", data={"lang": "en", "csrf_token": csrf_from(client.get("/").text)})
    return client


def _pages(engine, menu: list[str]) -> list[str]:
    with UnitOfWork(engine, readonly=True) as s:
        journey_id, journey_key = s.execute(select(Journey.id, Journey.key).order_by(Journey.id).limit(1)).one()
        moment = s.scalar(select(Moment.id).where(Moment.journey_id == journey_id).order_by(Moment.id).limit(1))
        survey = s.scalar(select(Survey.key).join(SurveyVersion).join(Response).order_by(Survey.id).limit(1))
        segment = s.scalar(select(Customer.segment).where(Customer.segment.is_not(None)).order_by(Customer.segment)
                           .limit(1))
        language = s.scalar(select(Response.language).where(Response.language.is_not(None)).limit(1))
        comment = s.scalar(select(Response.comment).where(Response.comment.is_not(None)).order_by(Response.id)
                           .limit(1))
        word = max(re.findall(r"\w+", comment), key=len)
    drill = [
        f"/metrics?language={language}", f"/metrics?segment={segment}", f"/metrics?period=week&language={language}",
        f"/metrics/journeys/{journey_id}", f"/metrics/journeys/{journey_id}?language={language}",
        f"/metrics/moments/{moment}", f"/metrics/moments/{moment}?segment={segment}",
        "/metrics/drivers", f"/metrics/drivers?language={language}", "/metrics/drivers?outcome=grade",
        f"/surveys/{survey}", f"/journeys/{journey_key}", f"/journeys/{journey_key}?segment={segment}",
        f"/verbatims/comments?q={word}", f"/verbatims/comments?q={word}&segment={segment}",
    ]
    return list(dict.fromkeys([*menu, *drill]))


def _menu(client) -> list[str]:
    home = client.get("/").text
    nav = re.search(r'<nav class="container main-nav".*?</nav>', home, re.S).group(0)
    return [href for href in re.findall(r'href="(/[^"]*)"', nav) if href not in ("/", "/logout")]


@pytest.mark.demo("small", 2026)
def test_every_dashboard_page_shows_the_same_figures_with_the_store(engine, store, tmp_path):
    counts = rebuild(engine, store)
    assert counts["responses"] > 1000 and counts["case_events"] > 10_000
    # analytics_url="" explicitly: the store fixture sets SERVICEPULSE_ANALYTICS_URL, which Settings would read
    settings = Settings(secret_key="test-secret-" + "x" * 32, data_dir=tmp_path, analytics_url="")
    plain_client = _client(create_app(engine, settings))
    counting = CountingStore(store)
    on_app = create_app(engine, settings.model_copy(update={"analytics_url": f"chdb://{(tmp_path / 'chdb').as_posix()}"}))
    _wire(on_app, counting)
    store_client = _client(on_app)
    read_store, differing, seen, figures = {}, [], 0, {}
    try:
        pages = _pages(engine, _menu(plain_client))
        assert {"/metrics", "/verbatims", "/journeys", "/investment", "/improvement"} <= set(pages)
        for url in pages:
            plain = plain_client.get(url)
            before = counting.statements
            on = store_client.get(url)
            read_store[url] = counting.statements - before
            assert plain.status_code == on.status_code, f"{url}: {plain.status_code} without the store, " \
                                                        f"{on.status_code} with it"
            assert on.status_code < 500, f"{url}: {on.status_code}"
            if on.status_code != 200 or "html" not in on.headers.get("content-type", ""):
                continue
            seen += 1
            mine, theirs = numbers(plain.text), numbers(on.text)
            figures[url] = len(mine)
            if mine != theirs:
                first = next((i for i, (a, b) in enumerate(zip(mine, theirs)) if a != b), min(len(mine), len(theirs)))
                differing.append(f"{url}: {len(mine)} numbers without the store, {len(theirs)} with it; first "
                                 f"difference at #{first}: {mine[first:first + 5]} != {theirs[first:first + 5]}")
        # The comparison can fail: with a tenth of the responses gone from the store, a drill-down differs.
        store.command("INSERT INTO responses SELECT * REPLACE (_version + 1 AS _version, 1 AS _deleted) "
                      "FROM responses FINAL WHERE id % 10 = 0")
        url = next(u for u in pages if u.startswith("/metrics?language="))
        assert numbers(plain_client.get(url).text) != numbers(store_client.get(url).text)
    finally:
        plain_client.__exit__(None, None, None)
        store_client.__exit__(None, None, None)
    assert all(figures[url] > 0 for url in read_store if url in figures and read_store[url]), figures
    print("\nstore statements per page:\n" + "\n".join(f"  {n:3d}  {url}" for url, n in read_store.items()))
    assert seen >= 20, f"only {seen} pages compared"
    assert not differing, "pages show other figures with the analytics store:\n" + "\n".join(differing)
    silent = [url for url, n in read_store.items() if n == 0 and url.startswith(STORE_PAGES)]
    assert not silent, f"these pages read raw rows but not from the store: {silent}"
    assert sum(read_store.values()) > 0
