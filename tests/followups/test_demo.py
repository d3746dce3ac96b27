"""On the small demo, `servicepulse alerts run` opens one follow-up per unhappy customer: every alerting
answer of the last two weeks (counted independently in SQL) is a reason of its customer's one open
follow-up, each follow-up lists its reasons, nothing older alerts, and a second run opens nothing."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, or_, select
from typer.testing import CliRunner

from servicepulse.cli import app
from servicepulse.db.session import UnitOfWork
from servicepulse.models import FollowUp, FollowUpReason, Promise, Response
from servicepulse.settings import get_settings
from tests.conftest import demo_copy

NOW = "2026-11-02T09:00:00+01:00"
SINCE = "2026-10-19T00:00:00+01:00"  # the demo's last two weeks


@pytest.fixture
def demo(templates, monkeypatch):
    """A fresh copy of the small demo (seed 2026), built once per run and backend; the CLI runs on it."""
    with demo_copy(templates, "small", 2026) as (engine, _):  # the seed the other small-demo tests use
        monkeypatch.setenv("SERVICEPULSE_DATABASE_URL", engine.url.render_as_string(hide_password=False))
        get_settings.cache_clear()
        yield engine
    get_settings.cache_clear()


def test_one_follow_up_per_unhappy_customer_on_the_small_demo(demo):
    runner = CliRunner()
    result = runner.invoke(app, ["alerts", "run", "--now", NOW])
    assert result.exit_code == 0, result.output
    oldest = datetime.fromisoformat(NOW) - timedelta(days=14)
    with UnitOfWork(demo, readonly=True) as s:
        alerting = dict(s.execute(select(Response.id, Response.customer_id).where(
            Response.submitted_at >= oldest, Response.customer_id.is_not(None), Response.completed.is_(True),
            or_(Response.nps <= 6, Response.grade <= 5, Response.ces <= 3))).all())
        broken = s.scalar(select(func.count()).select_from(Promise)
                          .where(Promise.status == "broken", Promise.broken_at >= oldest))
        reasons = s.execute(select(FollowUpReason.followup_id, FollowUpReason.rule, FollowUpReason.response_id,
                                   FollowUpReason.at)).all()
        followups = {f.id: f.customer_id for f in s.scalars(select(FollowUp))}
        twice = s.execute(select(FollowUp.customer_id).where(FollowUp.status != "closed",
                                                             FollowUp.customer_id.is_not(None))
                          .group_by(FollowUp.customer_id).having(func.count() > 1)).all()
        anonymous = s.scalar(select(func.count()).select_from(FollowUp).join(Response, Response.id == FollowUp.response_id)
                             .where(Response.customer_id.is_(None)))
    assert len(alerting) > 20 and broken > 0, "the demo has too few alerts to test with"
    assert twice == [] and anonymous == 0  # no customer has two open follow-ups
    assert set(followups) == {fid for fid, *_ in reasons}  # every follow-up lists its reasons
    by_response = {rid: fid for fid, _, rid, _ in reasons if rid is not None}
    assert set(alerting) <= set(by_response)  # every alerting answer is a reason ...
    assert all(followups[by_response[rid]] == customer for rid, customer in alerting.items())  # ... of its customer
    assert sum(1 for _, rule, _, _ in reasons if rule == "broken_promise") == broken
    assert min(at for *_, at in reasons) >= oldest  # nothing older than the alert age limit
    # fewer follow-ups than alerting answers and broken promises: one per customer, not one per rule or answer
    assert len(followups) == len({customer for customer in followups.values()}) < len(alerting) + broken
    opened = re.search(r"opened (\d+) follow-up\(s\) from responses and (\d+) from cases", " ".join(result.output.split()))
    assert int(opened[1]) + int(opened[2]) == len(followups)

    again = runner.invoke(app, ["alerts", "run", "--now", NOW, "--since", SINCE])
    assert "opened 0 follow-up(s) from responses and 0 from cases; 0 open follow-up(s) got a later reason" \
        in " ".join(again.output.split())  # the console wraps long lines
    escalated = runner.invoke(app, ["followups", "escalate", "--now", "2026-11-20T09:00:00+01:00"])
    assert escalated.exit_code == 0 and f"escalated {len(followups)} overdue" in escalated.output
    bad = runner.invoke(app, ["followups", "escalate", "--now", "yesterday"])
    assert bad.exit_code != 0
    bad_since = runner.invoke(app, ["alerts", "run", "--since", "last week"])
    assert bad_since.exit_code != 0 and "--since" in str(bad_since.exception or bad_since.output)
