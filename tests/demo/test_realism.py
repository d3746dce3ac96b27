"""A demo that reads true (issue 17, item 9): every activity, channel and department it shows has a Dutch and an
English name; its follow-ups are due as their rule sets it from when their reason arrived (working days: a
Friday's complaint is due on Tuesday), so due dates and ages vary; its signals are dated when the worker would
have raised them, over the recent weeks, not all at load time."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.demo.after_load import SIGNAL_SLOT, prepare_closed_loop, prepare_expectations
from servicepulse.followups import add_working_days
from servicepulse.followups.due import is_working_day
from servicepulse.http.i18n import load_catalogue
from servicepulse.models import CaseEvent, FollowUp, OrgUnit, Response
from servicepulse.models.expectations import Signal, SignalRule

DEMO_NOW = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)  # the small demo's last day (tests/followups/test_demo.py)
AMSTERDAM = "Europe/Amsterdam"


def utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite hands some back naive


@pytest.mark.demo("small", 2026)
def test_every_activity_channel_and_department_has_dutch_and_english_names(engine):
    catalogue = load_catalogue()
    with UnitOfWork(engine, readonly=True) as s:
        activities = set(s.scalars(select(CaseEvent.activity).distinct()))
        channels = set(s.scalars(select(CaseEvent.channel).distinct())) | set(s.scalars(select(Response.channel).distinct()))
        departments = set(s.scalars(select(OrgUnit.key).where(OrgUnit.kind == "department")))
    channels.discard(None)
    assert len(activities) > 30 and channels and len(departments) >= 3
    missing = [f"labels.activity.{a}" for a in sorted(activities)] + [f"labels.channel.{c}" for c in sorted(channels)] \
        + [f"labels.department.{d}" for d in sorted(departments)]
    missing = [key for key in missing if key not in catalogue.messages]
    assert not missing, f"the demo shows these without a Dutch and English name: {missing}"
    for key in (f"labels.department.{d}" for d in departments):  # and the two differ where a word is Dutch
        assert catalogue.translate(key, "nl") != catalogue.translate(key, "en")


@pytest.mark.demo("small", 2026)
def test_follow_ups_are_due_in_working_days_from_their_first_reason(engine):
    prepare_closed_loop(engine, DEMO_NOW)
    with UnitOfWork(engine, readonly=True) as s:
        followups = [(i, utc(created), utc(due)) for i, created, due in
                     s.execute(select(FollowUp.id, FollowUp.created_at, FollowUp.due_at))]
    assert len(followups) > 10
    days = []
    for fu, created, due in followups:
        counted = [k for k in range(0, 11) if add_working_days(created, k) == due]
        assert counted, f"follow-up {fu}: due {due} is not a whole number of working days after {created}"
        days.append(counted[0])
        assert is_working_day(due.astimezone(ZoneInfo(AMSTERDAM)).date())
    assert set(days) == {2}  # the alert rules' default: two working days
    spans = Counter(round((due - created).total_seconds() / 3600) for _, created, due in followups)
    assert len(spans) >= 2, f"every follow-up has the same time to its due moment: {spans}"  # weekends in between
    ages = sorted({(DEMO_NOW - created).days for _, created, _ in followups})
    assert len(ages) >= 5 and ages[-1] >= 7  # opened over the last two weeks, not at load time


@pytest.mark.demo("small", 2026)
def test_signals_are_dated_when_the_worker_would_have_raised_them(engine, tmp_path):
    prepared = prepare_expectations(engine, tmp_path, DEMO_NOW)
    assert prepared["signals"] > 20
    with UnitOfWork(engine, readonly=True) as s:
        rules = {i: (kind, params or {}) for i, kind, params in s.execute(select(SignalRule.id, SignalRule.kind,
                                                                                 SignalRule.params))}
        signals = list(s.execute(select(Signal.rule_id, Signal.details, Signal.fired_at)))
    fired = [utc(at) for _, _, at in signals]
    assert all(DEMO_NOW - timedelta(days=400) <= f <= DEMO_NOW for f in fired)
    assert all(f == DEMO_NOW or f.timestamp() % SIGNAL_SLOT.total_seconds() == 0 for f in fired)  # the worker's slots
    assert max(fired) - min(fired) >= timedelta(days=7), "the signals fired within a week of each other"
    assert Counter(fired).most_common(1)[0][1] <= len(signals) // 4, "most signals share one moment"
    for (rule_id, details, _), at in zip(signals, fired, strict=True):
        kind, params = rules[rule_id]
        if kind == "dark_too_long":  # 48 hours into the silence, at the next slot
            since = datetime.fromisoformat(details["since"])
            expected = since + timedelta(hours=float(params.get("hours", 48)))
            assert expected <= at < expected + SIGNAL_SLOT
        elif kind in ("reopened", "repeat_contact"):
            happened = datetime.fromisoformat(details["at"])
            assert happened <= at < happened + SIGNAL_SLOT
        elif kind == "promise_due_soon":
            due = datetime.fromisoformat(details["due_at"])
            assert due - timedelta(hours=4) <= at <= DEMO_NOW < due
