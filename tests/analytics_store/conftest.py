"""An analytics store in chDB under the test's tmp_path, switched on through SERVICEPULSE_ANALYTICS_URL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from servicepulse.analytics_store import TABLES, open_store
from servicepulse.analytics_store.replication import to_arrow
from servicepulse.db.session import UnitOfWork
from servicepulse.settings import get_settings


@pytest.fixture
def analytics_url(tmp_path, monkeypatch) -> str:
    url = f"chdb://{(tmp_path / 'chdb').as_posix()}"
    monkeypatch.setenv("SERVICEPULSE_ANALYTICS_URL", url)
    get_settings.cache_clear()
    yield url
    monkeypatch.delenv("SERVICEPULSE_ANALYTICS_URL")
    get_settings.cache_clear()


@pytest.fixture
def store(analytics_url, tmp_path):
    s = open_store(analytics_url, tmp_path)
    yield s
    s.close()


def main_rows(engine, name: str) -> list[dict]:
    """The main database's rows of a replicated table as the store holds them (types and JSON text)."""
    r = TABLES[name]
    with UnitOfWork(engine, readonly=True) as session:
        rows = session.connection().execute(
            select(*(r.table.c[c] for c in r.columns)).order_by(r.table.c[r.key])).all()
    return [{k: v for k, v in row.items() if not k.startswith("_")} for row in to_arrow(r, rows, 0).to_pylist()]


def store_rows(store, name: str) -> list[dict]:
    r = TABLES[name]
    cols = ", ".join(f"`{c}`" for c in r.columns)
    return store.query_arrow(f"SELECT {cols} FROM `{name}` FINAL ORDER BY `{r.key}`").to_pylist()


def differences(engine, store) -> dict[str, str]:
    """Per replicated table that differs: what differs (row counts or the first unequal row)."""
    out = {}
    for name in TABLES:
        mine, theirs = main_rows(engine, name), store_rows(store, name)
        if mine != theirs:
            if len(mine) != len(theirs):
                out[name] = f"{len(mine)} rows in the main database, {len(theirs)} in the store"
            else:
                first = next(i for i, (a, b) in enumerate(zip(mine, theirs)) if a != b)
                out[name] = f"row {first}: {mine[first]} != {theirs[first]}"
    return out
