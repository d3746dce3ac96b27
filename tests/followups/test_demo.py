"""On the small demo, `servicepulse alerts run` opens follow-ups: exactly one per alerting response and
rule (counted independently in SQL), one per broken promise, each for a team; a second run opens none."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from servicepulse.cli import app
from servicepulse.db.session import UnitOfWork
from servicepulse.followups.rules import risk_words
from servicepulse.models import CaseFacts, FollowUp, Promise, Response
from servicepulse.settings import get_settings
from tests.conftest import demo_copy

NOW = "2026-11-02T09:00:00+01:00"
SINCE = "2026-10-19T00:00:00+01:00"  # the demo's last two weeks


@pytest.fixture
def demo(templates, monkeypatch):
    """A fresh copy of the small demo (seed 5), built once per run and backend; the CLI runs on it."""
    with demo_copy(templates, "small", 2026) as (engine, _):  # the seed the other small-demo tests use
        monkeypatch.setenv("SERVICEPULSE_DATABASE_URL", engine.url.render_as_string(hide_password=False))
        get_settings.cache_clear()
        yield engine
    get_settings.cache_clear()


def test_alerts_on_the_small_demo(demo):
    runner = CliRunner()
    # first only the last two weeks (--since): exactly what arrived or broke in them
    recent = runner.invoke(app, ["alerts", "run", "--now", NOW, "--since", SINCE])
    assert recent.exit_code == 0, recent.output
    since = datetime.fromisoformat(SINCE)
    with UnitOfWork(demo, readonly=True) as s:
        detractors = s.scalar(select(func.count()).select_from(Response)
                              .where(Response.nps <= 6, Response.submitted_at >= since))
        broken = s.scalar(select(func.count()).select_from(Promise)
                          .where(Promise.status == "broken", Promise.broken_at >= since))
        by_cause = dict(s.execute(select(FollowUp.cause, func.count()).group_by(FollowUp.cause)).all())
        oldest = s.scalar(select(func.min(Response.submitted_at)).join(FollowUp, FollowUp.response_id == Response.id))
        opened_recent = s.scalar(select(func.count()).select_from(FollowUp))
    assert 0 < detractors == by_cause["detractor"] and 0 < broken == by_cause["broken_promise"]
    assert oldest >= since
    bad_since = runner.invoke(app, ["alerts", "run", "--since", "last week"])
    assert bad_since.exit_code != 0 and "--since" in str(bad_since.exception or bad_since.output)

    result = runner.invoke(app, ["alerts", "run", "--now", NOW])
    assert result.exit_code == 0, result.output
    with UnitOfWork(demo, readonly=True) as s:
        by_cause = dict(s.execute(select(FollowUp.cause, func.count()).group_by(FollowUp.cause)).all())
        expected = {
            "detractor": s.scalar(select(func.count()).select_from(Response).where(Response.nps <= 6)),
            "low_grade": s.scalar(select(func.count()).select_from(Response).where(Response.grade <= 5)),
            "high_effort_answer": s.scalar(select(func.count()).select_from(Response).where(Response.ces <= 3)),
            "broken_promise": s.scalar(select(func.count()).select_from(Promise).where(Promise.status == "broken")),
        }
        effort = s.scalar(select(func.count()).select_from(CaseFacts).where(CaseFacts.effort_index >= 70))
        comments = s.execute(select(Response.comment, Response.language).where(Response.comment.is_not(None))).all()
        expected["risk_word"] = sum(1 for text, lang in comments if risk_words(text, lang))
        without_team = s.scalar(select(func.count()).select_from(FollowUp).where(FollowUp.team_id.is_(None)))
    for cause, n in expected.items():
        assert n > 0, f"the demo has no {cause} alerts"
        assert by_cause.get(cause) == n, cause
    assert by_cause.get("high_effort_index", 0) == effort  # case facts as the cases domain stored them
    assert without_team == 0
    total = sum(expected.values()) + effort
    opened = re.search(r"opened (\d+) follow-up\(s\) from responses and (\d+) from cases", result.output)
    assert int(opened[1]) + int(opened[2]) == total - opened_recent  # the rest of history, nothing twice

    again = runner.invoke(app, ["alerts", "run", "--now", NOW])
    assert "opened 0 follow-up(s) from responses and 0 from cases" in again.output
    escalated = runner.invoke(app, ["followups", "escalate", "--now", "2026-11-20T09:00:00+01:00"])
    assert escalated.exit_code == 0 and f"escalated {sum(expected.values()) + effort} overdue" in escalated.output
    bad = runner.invoke(app, ["followups", "escalate", "--now", "yesterday"])
    assert bad.exit_code != 0
