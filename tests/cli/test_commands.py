"""CLI: db upgrade/current, user create, apikey create (the key works against the API), and the errors people see."""

from __future__ import annotations

import subprocess
import sys

from fastapi.testclient import TestClient
from sqlalchemy import select

from servicepulse.app import create_app
from servicepulse.db import migrate
from servicepulse.db.engine import make_engine
from servicepulse.db.session import UnitOfWork
from servicepulse.models import User
from servicepulse.org.passwords import verify_password
from servicepulse.settings import Settings

from ..conftest import fresh_database_url
from .conftest import url_of


def test_db_upgrade_then_current(cli, backend, tmp_path):
    url = fresh_database_url(backend, tmp_path)
    before = cli(url, "db", "current")
    assert before.code == 0 and "not initialised" in before.out
    up = cli(url, "db", "upgrade")
    assert up.code == 0, up.err
    assert migrate.head_revision() in up.out
    after = cli(url, "db", "current")
    assert after.code == 0 and "up to date" in after.out
    assert migrate.current_revision(make_engine(url)) == migrate.head_revision()


def test_user_create_and_refusals(cli, engine):
    url = url_of(engine)
    made = cli(url, "user", "create", "Lead@Example.org", "--name", "Lia", "--role", "teamlead",
               "--password", "a long enough password", "--language", "en")
    assert made.code == 0, made.err
    with UnitOfWork(engine, readonly=True) as s:
        user = s.scalar(select(User).where(User.email == "lead@example.org"))
        assert (user.role, user.language) == ("teamlead", "en")
        assert verify_password(user.password_hash, "a long enough password")

    again = cli(url, "user", "create", "lead@example.org", "--name", "Lia", "--role", "boss", "--password", "short")
    assert again.code != 0
    lines = again.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:")
    assert "role 'boss' is unknown" in lines[0] and "already exists" in lines[0] and "at least 8" in lines[0]


def _make_user(cli, engine, email="ops@example.org", role="admin"):
    made = cli(url_of(engine), "user", "create", email, "--name", "Ops", "--role", role,
               "--password", "a long enough password")
    assert made.code == 0, made.err


def test_apikey_create_prints_a_key_that_works(cli, engine):
    _make_user(cli, engine)
    made = cli(url_of(engine), "apikey", "create", "crm-sync", "--user", "ops@example.org")
    assert made.code == 0, made.err
    key = made.out.strip().splitlines()[-1]
    assert key.startswith("sp_")
    app = create_app(engine, Settings(secret_key="k" * 40))
    with TestClient(app) as client:
        assert client.get("/api/v1/health", headers={"Authorization": f"Bearer {key}"}).json()["api_key"] == "crm-sync"
        assert client.get("/api/v1/health", headers={"Authorization": f"Bearer {key}x"}).status_code == 401
    duplicate = cli(url_of(engine), "apikey", "create", "crm-sync", "--user", "ops@example.org")
    assert duplicate.code != 0 and "already exists" in duplicate.err


def test_commands_refuse_an_unmigrated_database(cli, tmp_path):
    url = f"sqlite:///{tmp_path / 'new.sqlite'}"
    for args in (("user", "create", "a@example.org", "--name", "A", "--password", "long enough!"),
                 ("serve", "--port", "1")):
        run = cli(url, *args)
        assert run.code != 0
        assert run.err.strip().splitlines() == [
            "error: the database is not initialised (it is empty): run `servicepulse db upgrade`"]


def test_a_database_at_a_newer_schema_is_refused(cli, backend, tmp_path):
    url = fresh_database_url(backend, tmp_path)
    engine = make_engine(url)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'ffff_future'")
    engine.dispose()
    for args in (("serve",), ("db", "upgrade"), ("apikey", "create", "x", "--user", "a@example.org")):
        run = cli(url, *args)
        assert run.code != 0
        lines = run.err.strip().splitlines()
        assert len(lines) == 1 and "ffff_future" in lines[0] and "newer version" in lines[0], run.err


def _real_cli(env_url: str, *args: str, tmp_path):
    """The installed entry point in a fresh interpreter, exactly as a person runs it."""
    import os

    env = {**os.environ, "SERVICEPULSE_DATABASE_URL": env_url, "SERVICEPULSE_DATA_DIR": str(tmp_path),
           "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "servicepulse", *args], env=env, capture_output=True,
                          text=True, timeout=120)


def test_wrong_database_urls_give_one_line_and_a_non_zero_exit(cli):
    cases = {
        "mysql://u@localhost/x": "database 'mysql' is not supported",
        "not a url": "is not valid",
        "postgresql+psycopg://nobody@127.0.0.1:9/nothing": "cannot connect to the database",
    }
    for url, message in cases.items():
        run = cli(url, "db", "current")
        assert run.code != 0
        lines = run.err.strip().splitlines()
        assert len(lines) == 1, run.err
        assert lines[0].startswith("error:") and message in lines[0]


def test_the_real_entry_point_prints_one_line_not_a_traceback(tmp_path):
    # One run through a fresh interpreter (`python -m servicepulse`), exactly as a person runs it.
    run = _real_cli("postgresql+psycopg://nobody@127.0.0.1:9/nothing", "serve", tmp_path=tmp_path)
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot connect to the database"), run.stderr


def test_help_texts(cli):
    for args, words in ((("serve", "--help"), ["--host", "--port", "db upgrade"]),
                        (("demo", "--help"), ["--no-serve", "--seed", "--size", "--reset", "tiny", "large"])):
        run = cli(None, *args)
        assert run.code == 0
        for word in words:
            assert word in run.out


def test_apikey_revoke_refuses_the_key(cli, engine):
    _make_user(cli, engine)
    key = cli(url_of(engine), "apikey", "create", "old-ivr", "--user", "ops@example.org").out.strip().splitlines()[-1]
    revoked = cli(url_of(engine), "apikey", "revoke", "old-ivr")
    assert revoked.code == 0, revoked.err
    assert "within 5 seconds" in revoked.out
    with TestClient(create_app(engine, Settings(secret_key="k" * 40))) as client:
        assert client.get("/api/v1/health", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    unknown = cli(url_of(engine), "apikey", "revoke", "no-such-key")
    assert unknown.code != 0 and unknown.err.strip().splitlines() == ["error: there is no API key named 'no-such-key'"]


def test_apikey_for_a_user_acts_as_that_user_on_follow_ups(cli, engine):
    url = url_of(engine)
    made_user = cli(url, "user", "create", "agent@example.org", "--name", "Ada", "--role", "agent",
                    "--password", "a long enough password")
    assert made_user.code == 0, made_user.err
    made = cli(url, "apikey", "create", "crm-agent", "--user", "Agent@Example.org", "--scope", "read:followups")
    assert made.code == 0, made.err
    assert "acting for agent@example.org" in made.out and "scopes read:followups" in made.out
    plain = cli(url, "apikey", "create", "crm-plain", "--user", "agent@example.org")  # the default scopes
    assert plain.code == 0 and "scopes read:surveys" in plain.out  # read:metrics is beyond an agent
    key, plain_key = made.out.strip().splitlines()[-1], plain.out.strip().splitlines()[-1]
    with TestClient(create_app(engine, Settings(secret_key="k" * 40))) as client:
        assert client.get("/api/v1/followups", headers={"Authorization": f"Bearer {key}"}).status_code == 200
        assert client.get("/api/v1/followups", headers={"Authorization": f"Bearer {plain_key}"}).status_code == 403
    beyond = cli(url, "apikey", "create", "crm-y", "--user", "agent@example.org", "--scope", "read:responses")
    assert beyond.code != 0 and "cannot hold the scope(s) read:responses" in beyond.err
    unbound = cli(url, "apikey", "create", "crm-none")
    assert unbound.code != 0 and "--user" in unbound.err
    missing = cli(url, "apikey", "create", "crm-x", "--user", "nobody@example.org")
    assert missing.code != 0 and missing.err.strip().splitlines() == [
        "error: there is no user with e-mail 'nobody@example.org'"]
