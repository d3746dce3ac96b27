"""The DDL (single node and cluster) runs through ClickHouse's own parser, the CLI's exit codes and
messages for a bad or missing URL, /health with and without a store, and a real server when one is given."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from servicepulse.analytics_store import (
    TABLES,
    AnalyticsStoreError,
    ddl,
    open_store,
    param_text,
    parse_url,
    rebuild,
)
from servicepulse.analytics_store.schema import cluster_statements
from servicepulse.app import create_app
from servicepulse.db.session import UnitOfWork
from servicepulse.errors import ConfigurationError
from servicepulse.models import AnalyticsOutbox, utcnow
from servicepulse.settings import get_settings

from .conftest import differences
from .test_replication import _scenario

CLICKHOUSE_URL = os.environ.get("SERVICEPULSE_TEST_CLICKHOUSE_URL", "")  # read before the env is cleared


def _cli(*args, env=None):
    full = {k: v for k, v in os.environ.items() if not k.startswith("SERVICEPULSE_ANALYTICS")}
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "servicepulse", *args], capture_output=True, text=True,
                          env=full, timeout=120)


def test_cluster_ddl_parses_and_its_local_tables_equal_the_single_node_ones(store):
    statements = cluster_statements("cx_main")
    assert len(statements) == sum(2 if r.shard_by else 1 for r in TABLES.values())
    for statement in statements:
        store.query_arrow("EXPLAIN AST " + statement)  # ClickHouse's parser: raises on a syntax error
    distributed = [s for s in statements if "ENGINE = Distributed" in s]
    assert all("cityHash64(case_id)" in s for s in distributed if s.split("`")[1] in ("case_events", "case_facts"))
    assert any("cityHash64(ifNull(case_id, id))" in s for s in distributed if s.split("`")[1] == "responses")
    # the replicated tables, made plain (no cluster, no Keeper), are created for real and match the others
    store.command("CREATE DATABASE IF NOT EXISTS cluster_check")
    for statement in statements:
        if "Distributed" in statement:
            continue
        plain = re.sub(r" ON CLUSTER `cx_main`", "", statement)
        plain = re.sub(r"ReplicatedReplacingMergeTree\('[^']*', '\{replica\}', ", "ReplacingMergeTree(", plain)
        plain = plain.replace("CREATE TABLE IF NOT EXISTS `", "CREATE TABLE cluster_check.`")
        store.command(plain)
    store.command(ddl().replace("CREATE TABLE IF NOT EXISTS `", "CREATE TABLE IF NOT EXISTS default.`")
                  .split(";\n\n")[0])
    for name, r in TABLES.items():
        local = name + "_local" if r.shard_by else name
        columns = store.query(f"SELECT name, type FROM system.columns WHERE database = 'cluster_check' "
                              f"AND table = '{local}' ORDER BY position")
        assert [c for c, _ in columns] == [*r.columns, "_version", "_deleted"], name


def test_the_ddl_command_prints_both_layouts():
    single = _cli("analytics", "ddl")
    assert single.returncode == 0 and "ReplacingMergeTree(`_version`, `_deleted`)" in single.stdout
    assert "ON CLUSTER" not in single.stdout and single.stdout.count("CREATE TABLE") == len(TABLES)
    cluster = _cli("analytics", "ddl", "--cluster", "prod")
    assert cluster.returncode == 0 and "ON CLUSTER `prod`" in cluster.stdout
    assert "ENGINE = Distributed(`prod`, currentDatabase(), `case_events_local`, cityHash64(case_id))" in cluster.stdout
    bad = _cli("analytics", "ddl", "--cluster", "a;DROP")
    assert bad.returncode == 1 and "cluster name" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.parametrize(("url", "says"), [
    ("mysql://u:hunter2@db/x", "SERVICEPULSE_ANALYTICS_URL must be empty"),
    ("clickhouse://u:hunter2@", "names no host"),
    ("clickhouse://u:hunter2@h:notaport/db", "bad port"),
    ("chdb", "SERVICEPULSE_ANALYTICS_URL must be empty"),
])
def test_a_bad_url_is_one_line_without_the_password(url, says, tmp_path):
    done = _cli("analytics", "status", env={"SERVICEPULSE_ANALYTICS_URL": url, "SERVICEPULSE_DATA_DIR": str(tmp_path)})
    if done.returncode == 0:  # status needs no store: the URL is only parsed when one is opened
        done = _cli("analytics", "ship", env={"SERVICEPULSE_ANALYTICS_URL": url,
                                              "SERVICEPULSE_DATA_DIR": str(tmp_path)})
    assert done.returncode == 1, done.stdout
    assert says in done.stderr and "hunter2" not in done.stderr + done.stdout and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) <= 2


def test_commands_without_a_store_say_so(tmp_path):
    env = {"SERVICEPULSE_DATA_DIR": str(tmp_path)}
    assert _cli("db", "upgrade", env=env).returncode == 0
    status = _cli("analytics", "status", env=env)
    assert status.returncode == 0 and "off" in status.stdout
    rebuild = _cli("analytics", "rebuild", env=env)
    assert rebuild.returncode == 1 and "SERVICEPULSE_ANALYTICS_URL" in rebuild.stderr


def test_parse_url_forms(tmp_path):
    assert parse_url("chdb:///var/x", tmp_path) == ("chdb", {"path": Path("/var/x")})
    assert parse_url("chdb://store", tmp_path)[1]["path"] == (tmp_path / "store").resolve()
    kind, opts = parse_url("clickhouses://an%40a:p%40ss@ch.example:9443/cx", tmp_path)
    assert kind == "clickhouse" and opts == {"host": "ch.example", "port": 9443, "username": "an@a",
                                             "password": "p@ss", "database": "cx", "secure": True}
    with pytest.raises(ConfigurationError):
        parse_url("chdb:///x?y=1", tmp_path)


def test_parameters_survive_every_special_character(store):
    for text in ["a\\b'c", "x\\ny", "tab\there", "nul\0byte", "{x:String}", "é ü €", "'; DROP TABLE responses; --"]:
        assert store.scalar("SELECT {v:String}", {"v": text}) == text, param_text(text)
    assert store.scalar("SELECT {ids:Array(String)}", {"ids": ["a'b", "c\\d"]}) == ["a'b", "c\\d"]
    with pytest.raises(AnalyticsStoreError):
        store.query("SELECT * FROM no_such_table")


def test_health_reports_the_lag(engine, analytics_url):
    with UnitOfWork(engine) as s:  # a change waiting for two minutes
        s.execute(insert(AnalyticsOutbox), [{"kind": "response", "key": 1, "created_at": utcnow() - timedelta(minutes=2)}])
    with TestClient(create_app(engine, get_settings())) as client:
        response = client.get("/health")
    body = response.json()
    assert response.status_code == 200 and body["status"] == "ok" and body["database"] == "ok"
    assert body["analytics_store"]["status"] == "lagging" and body["analytics_store"]["pending"] == 1
    assert 119 < body["analytics_store"]["lag_seconds"] < 3600


@pytest.mark.skipif(not CLICKHOUSE_URL, reason="set SERVICEPULSE_TEST_CLICKHOUSE_URL to test a real ClickHouse server")
def test_a_real_server(engine, tmp_path):
    os.environ["SERVICEPULSE_ANALYTICS_URL"] = CLICKHOUSE_URL
    try:
        store = open_store(CLICKHOUSE_URL, tmp_path)
        for name in TABLES:
            store.command(f"DROP TABLE IF EXISTS `{name}`")
        _scenario(engine)
        rebuild(engine, store)
        assert differences(engine, store) == {}
        assert store.scalar("SELECT {v:String}", {"v": "a\\b'c"}) == "a\\b'c"
    finally:
        del os.environ["SERVICEPULSE_ANALYTICS_URL"]
