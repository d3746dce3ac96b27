"""Changing the closed loop's money and rules leaves an audit entry naming who did it (issue: an audit log of
admin actions: users, keys, rules, budgets, erasures)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.errors import ValidationFailed
from servicepulse.followups import budget, config
from servicepulse.models import AuditEntry

from .conftest import PERIOD, actor


def _entries(engine) -> list[tuple[str, str, dict]]:
    with UnitOfWork(engine, readonly=True) as s:
        return [(e.actor, e.action, e.details) for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_budget_and_alert_rule_changes_are_audited(engine, org):
    admin = actor(engine, org.users["admin"])
    with UnitOfWork(engine) as s:
        budget.set_budget(s, admin, team_id=org.team_a, period_start=PERIOD[0], period_end=PERIOD[1],
                          amount_cents=250_00)
        config.set_rule(s, admin, next(iter(config.DEFAULTS)), enabled=False)
    entries = _entries(engine)
    assert [a for _, a, _ in entries] == ["budget.set", "alert_rule.set"]
    assert all(who == f"user:{org.users['admin']}" for who, _, _ in entries)
    assert entries[0][2]["amount_cents"] == 250_00 and entries[0][2]["team_id"] == org.team_a
    assert entries[1][2]["enabled"] is False


def test_a_refused_change_leaves_no_entry(engine, org):
    admin = actor(engine, org.users["admin"])
    with pytest.raises(ValidationFailed), UnitOfWork(engine) as s:
        budget.set_budget(s, admin, team_id=org.team_a, period_start=PERIOD[1], period_end=PERIOD[0],
                          amount_cents=1)
    assert _entries(engine) == []
