"""The demo's bulk writer puts every value in its own column, whatever order the columns are given in,
and keeps empty strings apart from missing values (COPY's CSV format would not)."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest
from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.demo import bulk
from servicepulse.models import Customer


def test_columns_land_where_they_belong(engine):
    at = pd.Timestamp(datetime(2026, 3, 1, 12, 30, tzinfo=UTC))
    columns = {  # deliberately not in the table's column order
        "created_at": [at, at], "segment": ["", None], "attributes": [{"a": 1}, {}], "language": ["en", "nl"],
        "phone": [None, "+31 6 1"], "email": ["a@example.org", ""], "name": ["Ann", "Bo"],
        "external_id": ["K1", "K2"], "id": [11, 12], "opted_out_at": [pd.NaT, at],
    }
    with engine.begin() as conn:
        assert bulk.write(conn, Customer.__table__, columns) == 2
    with UnitOfWork(engine, readonly=True) as s:
        a, b = s.scalars(select(Customer).order_by(Customer.id)).all()
        check(a, b, at)


def check(a, b, at):
    assert (a.id, a.external_id, a.name, a.email, a.phone, a.language, a.segment) == \
        (11, "K1", "Ann", "a@example.org", None, "en", "")
    assert (b.email, b.segment, b.phone, b.attributes, a.attributes) == ("", None, "+31 6 1", {}, {"a": 1})
    assert a.opted_out_at is None and b.opted_out_at == at.to_pydatetime() == a.created_at


def test_a_column_left_out_that_has_a_python_default_is_refused(engine):
    with engine.begin() as conn:
        if conn.dialect.name != "sqlite":
            pytest.skip("COPY leaves left-out columns to the database's defaults")
        with pytest.raises(ValueError, match="attributes"):
            bulk.write(conn, Customer.__table__, {"external_id": ["K3"], "id": [13]})
