"""The follow-up work list is paged (50 a page, with the total) and sortable (#17 item 5)."""

from __future__ import annotations

from ..web.conftest import app, client, fast_password_hashing, login, make_user, settings  # noqa: F401


def test_the_work_list_pages_and_sorts(engine, client, make_user):
    """#17 item 5: 50 follow-ups a page with the total, newest or oldest first on request."""
    import re
    from datetime import UTC, datetime, timedelta

    from servicepulse.db.session import UnitOfWork
    from servicepulse.models import FollowUp


    start = datetime(2026, 3, 1, tzinfo=UTC)
    with UnitOfWork(engine) as s:
        for i in range(61):
            s.add(FollowUp(cause="detractor", cause_ref=f"test:{i}", priority=2, status="open",
                           created_at=start + timedelta(hours=i), due_at=start + timedelta(days=2, hours=i)))
    make_user("ana@example.org", role="analyst", language="en")
    login(client, "ana@example.org")

    def ids(html):
        return [int(x) for x in re.findall(r'<th scope="row"><a href="/followups/(\d+)">', html)]
    first = client.get("/followups").text
    assert len(ids(first)) == 50 and "Page 1 of 2 (61 in all)" in first
    second = ids(client.get("/followups?sort=due&page=2").text)
    assert len(second) == 11 and not set(second) & set(ids(first))
    newest = ids(client.get("/followups?sort=newest").text)
    oldest = ids(client.get("/followups?sort=oldest").text)
    assert newest[0] == max(newest + second + ids(first)) and oldest[0] == min(oldest)
