"""Overdue follow-ups are marked with how long (the escalation rule: not closed, due time passed), lead the
work list, and a follow-up's page opens with the next step (#17, H3 item 1)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from servicepulse.db.session import UnitOfWork
from servicepulse.followups.due import overdue_by, overdue_span
from servicepulse.models import FollowUp, utcnow

from ..web.conftest import app, client, fast_password_hashing, login, make_user, settings  # noqa: F401

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("late", "expected"), [
    (timedelta(minutes=59), ("under_hour", 0)), (timedelta(hours=1), ("hour", 1)),
    (timedelta(hours=23, minutes=59), ("hours", 23)), (timedelta(days=1), ("day", 1)),
    (timedelta(days=2, hours=23), ("days", 2)),
])
def test_overdue_span_names_the_largest_whole_unit(late, expected):
    assert overdue_span(late) == expected


def test_overdue_follows_the_escalation_rule():
    assert overdue_by("open", NOW - timedelta(hours=5), NOW) == timedelta(hours=5)
    assert overdue_by("claimed", NOW - timedelta(seconds=1), NOW) == timedelta(seconds=1)
    assert overdue_by("open", NOW, NOW) is None  # due now is not late yet
    assert overdue_by("closed", NOW - timedelta(days=9), NOW) is None  # a closed follow-up is never late


def _row_ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'<th scope="row"><a href="/followups/(\d+)">', html)]


def test_overdue_first_marked_with_how_long(engine, client, make_user):
    now = utcnow()
    with UnitOfWork(engine) as s:
        def add(ref, priority, due, status="open"):
            fu = FollowUp(cause="detractor", cause_ref=ref, priority=priority, status=status,
                          created_at=now - timedelta(days=5), due_at=due)
            s.add(fu)
            s.flush()
            return fu.id
        future = add("future", 1, now + timedelta(days=2))
        late_days = add("late-days", 3, now - timedelta(days=3, hours=2))
        late_hours = add("late-hours", 2, now - timedelta(hours=2, minutes=30))
        closed = add("closed", 1, now - timedelta(days=8), status="closed")
    make_user("ana@example.org", role="analyst", language="nl")
    login(client, "ana@example.org")

    urgent = client.get("/followups").text
    # overdue first, then priority: the urgent priority-1 follow-up that is not late yet waits behind both
    assert _row_ids(urgent) == [late_hours, late_days, future, closed]
    by_date = client.get("/followups?sort=due_date").text
    assert _row_ids(by_date) == [late_days, late_hours, future, closed]

    rows = {int(fid): row for fid, row in re.findall(r'<a href="/followups/(\d+)">#\d+</a></th>(.*?)</tr>',
                                                        urgent, re.S)}
    assert "3 dagen te laat" in rows[late_days] and "2 uur te laat" in rows[late_hours]
    assert "te laat" not in rows[future] and "te laat" not in rows[closed]
    # the due-date column header sorts by due date, keeping the other choices
    assert 'href="/followups?team=' not in urgent and 'href="/followups?sort=due_date"' in urgent

    page = client.get(f"/followups/{late_days}").text
    first_section = re.search(r"<section[^>]*id=\"([^\"]+)\"", page).group(1)
    assert first_section == "next-step" and "3 dagen te laat" in page.split('id="facts-h"')[0]
    assert 'id="next-step"' not in client.get(f"/followups/{closed}").text

    client.post("/language", data={"lang": "en", "next": "/followups",
                                   "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', urgent).group(1)})
    english = client.get("/followups").text
    assert "3 days overdue" in english and "2 hours overdue" in english
