"""The analytics store's status page (/admin/analytics-store) and its "ship now" button, on SQLite and
PostgreSQL with a real chDB store: what it shows is checked against the outbox and the tables counted
independently, shipping empties the outbox and makes the store equal the main database, and the action is
audited, refused without CSRF, for other roles and without a store."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from servicepulse.analytics_store import TABLES
from servicepulse.app import create_app
from servicepulse.db.session import UnitOfWork
from servicepulse.models import AnalyticsOutbox, AuditEntry
from servicepulse.settings import Settings

from ..web.conftest import csrf_from, fast_password_hashing, login, make_user  # noqa: F401
from ..web.test_dutch_complete import untranslated
from .conftest import differences
from .test_replication import _scenario

PAGE = "/admin/analytics-store"
ROW = re.compile(r'<tr data-table="(\w+)" data-main="(\d+)" data-store="(\d*)">')


def _settings(tmp_path, url: str = "") -> Settings:
    return Settings(secret_key="test-secret-" + "x" * 32, data_dir=tmp_path, analytics_url=url)


def _client(engine, settings, make_user, email="admin@example.org", role="admin", language="en"):  # noqa: F811
    user_id = make_user(email, role=role, language=language)
    client = TestClient(create_app(engine, settings), base_url="http://testserver")
    client.__enter__()
    assert login(client, email).status_code == 303
    client.user_id = user_id
    return client


def _shown(html: str) -> dict:
    rows = {name: (int(main), int(store) if store else None) for name, main, store in ROW.findall(html)}
    pending = int(re.search(r'id="store-pending" data-value="(\d+)"', html).group(1))
    return {"rows": rows, "pending": pending}


def _main_counts(engine) -> dict[str, int]:
    with UnitOfWork(engine, readonly=True) as s:
        return {name: s.scalar(select(func.count()).select_from(r.table)) for name, r in TABLES.items()}


def _outbox(engine) -> int:
    with UnitOfWork(engine, readonly=True) as s:
        return s.scalar(select(func.count()).select_from(AnalyticsOutbox))


def _audits(engine) -> list[tuple[str, dict]]:
    with UnitOfWork(engine, readonly=True) as s:
        return [tuple(r) for r in s.execute(select(AuditEntry.actor, AuditEntry.details)
                                            .where(AuditEntry.action == "analytics_store.ship"))]


def test_ship_now_brings_the_store_level_with_the_main_database(engine, store, analytics_url, tmp_path,
                                                                make_user):  # noqa: F811
    _scenario(engine)  # every write path, with the store switched on: the outbox fills
    waiting = _outbox(engine)
    assert waiting > 0
    client = _client(engine, _settings(tmp_path, analytics_url), make_user)
    try:
        page = client.get(PAGE)
        assert page.status_code == 200
        shown = _shown(page.text)
        assert shown["pending"] == waiting
        assert {name: main for name, (main, _) in shown["rows"].items()} == _main_counts(engine)
        assert all(theirs is None for _, theirs in shown["rows"].values())  # no table in the store yet
        assert "servicepulse analytics rebuild" in page.text and 'data-state="ok"' in page.text  # just written
        assert "never" in re.search(r'id="store-last">([^<]*)<', page.text).group(1)

        refused = client.post(PAGE + "/ship", data={})  # no CSRF token: nothing ships
        assert refused.status_code == 403 and _outbox(engine) == waiting and _audits(engine) == []

        shipped = client.post(PAGE + "/ship", data={"csrf_token": csrf_from(page.text)}, follow_redirects=False)
        assert shipped.status_code == 303 and shipped.headers["location"].startswith(PAGE + "?shipped=")
        assert _outbox(engine) == 0
        assert differences(engine, store) == {}
        [(actor, details)] = _audits(engine)
        assert details["entries"] == waiting and details["rows"] > 0 and actor == f"user:{client.user_id}"

        after = client.get(shipped.headers["location"])
        assert f"{waiting:,} changes sent" in after.text
        shown = _shown(after.text)
        counts = _main_counts(engine)
        assert shown["pending"] == 0
        assert shown["rows"] == {name: (n, n) for name, n in counts.items()}  # the store agrees, table by table
        assert store.scalar("SELECT count() FROM case_events FINAL") == counts["case_events"] > 0  # independently
        assert "never" not in re.search(r'id="store-last">([^<]*)<', after.text).group(1)
        assert 'id="counts-differ"' not in after.text

        again = client.post(PAGE + "/ship", data={"csrf_token": csrf_from(after.text)})  # nothing waits now
        assert again.status_code == 200 and "Nothing was waiting" in again.text
        assert differences(engine, store) == {} and len(_audits(engine)) == 2
    finally:
        client.__exit__(None, None, None)


def test_a_difference_with_nothing_waiting_is_pointed_out(engine, store, analytics_url, tmp_path,
                                                          make_user):  # noqa: F811
    _scenario(engine)
    client = _client(engine, _settings(tmp_path, analytics_url), make_user)
    try:
        page = client.get(PAGE)
        client.post(PAGE + "/ship", data={"csrf_token": csrf_from(page.text)})
        store.command("INSERT INTO responses (id, survey_version_id, submitted_at, _version, _deleted) "
                      "VALUES (999999, 1, now64(6), 1, 0)")  # a row the main database does not have
        page = client.get(PAGE)
        assert _shown(page.text)["rows"]["responses"][1] == _main_counts(engine)["responses"] + 1
        assert 'id="counts-differ"' in page.text and "1 table differs while nothing is waiting" in page.text
    finally:
        client.__exit__(None, None, None)


def test_without_a_store_the_page_says_how_to_switch_it_on(engine, tmp_path, make_user):  # noqa: F811
    client = _client(engine, _settings(tmp_path), make_user)
    try:
        page = client.get(PAGE)
        assert page.status_code == 200 and 'id="store-off"' in page.text and "SERVICEPULSE_ANALYTICS_URL" in page.text
        assert 'id="ship-now"' not in page.text
        refused = client.post(PAGE + "/ship", data={"csrf_token": csrf_from(page.text)})
        assert refused.status_code == 409 and "No analytics store is configured" in refused.text
        assert _audits(engine) == []
        admin = client.get("/admin")
        assert f'href="{PAGE}"' in admin.text
    finally:
        client.__exit__(None, None, None)


@pytest.mark.parametrize("role", ["analyst", "teamlead", "agent"])
def test_only_administrators_see_it(engine, tmp_path, make_user, role):  # noqa: F811
    client = _client(engine, _settings(tmp_path), make_user, email=f"{role}@example.org", role=role)
    try:
        assert client.get(PAGE).status_code == 403
        assert client.post(PAGE + "/ship", data={"csrf_token": csrf_from(client.get("/").text)}).status_code == 403
        if role == "analyst":  # analysts see /admin, but not the link to this page
            assert f'href="{PAGE}"' not in client.get("/admin").text
    finally:
        client.__exit__(None, None, None)


def test_in_dutch(engine, store, analytics_url, tmp_path, make_user):  # noqa: F811
    _scenario(engine)
    client = _client(engine, _settings(tmp_path, analytics_url), make_user, language="nl")
    try:
        waiting = client.get(PAGE)
        assert re.search(r'<html[^>]* lang="nl"', waiting.text) and "Wachtende wijzigingen" in waiting.text
        assert untranslated(waiting.text) == []
        shipped = client.post(PAGE + "/ship", data={"csrf_token": csrf_from(waiting.text)})
        assert "wijzigingen verstuurd" in shipped.text and untranslated(shipped.text) == []
    finally:
        client.__exit__(None, None, None)
    off = _client(engine, _settings(tmp_path), make_user, email="beheer@example.org", language="nl")
    try:
        page = off.get(PAGE)
        assert "Uit: elke pagina leest de hoofddatabase." in page.text and untranslated(page.text) == []
    finally:
        off.__exit__(None, None, None)
