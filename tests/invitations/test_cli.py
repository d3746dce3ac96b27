"""`servicepulse triggers ...` and `servicepulse links ...` against the test database."""

from __future__ import annotations

from sqlalchemy import select
from typer.testing import CliRunner

from servicepulse.cli import app
from servicepulse.db.session import UnitOfWork
from servicepulse.models.invitations import AnonymousLink, TriggerRule
from servicepulse.settings import get_settings

from .support import seed_world


def test_rules_file_and_anonymous_link_from_the_command_line(engine, tmp_path, monkeypatch):
    monkeypatch.setenv("SERVICEPULSE_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    with UnitOfWork(engine) as s:
        seed_world(s)
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - key: contact-closed\n    survey: after_contact\n    activity: Contact closed\n"
                     "    delay: 2h\n    sample_percent: 25\n")
    runner = CliRunner()
    loaded = runner.invoke(app, ["triggers", "load", str(rules)])
    assert loaded.exit_code == 0, loaded.output
    listed = runner.invoke(app, ["triggers", "list"])
    assert "contact-closed" in listed.output and "delay 120 min" in listed.output and "sample 25 %" in listed.output
    assert runner.invoke(app, ["links", "enable", "after_contact", "--per-address", "3"]).exit_code == 0
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(TriggerRule.sample_percent)) == 25
        link = s.scalar(select(AnonymousLink))
        assert (link.enabled, link.per_address_limit) == (True, 3)
    assert runner.invoke(app, ["links", "disable", "after_contact"]).exit_code == 0
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(AnonymousLink.enabled)) is False
    get_settings.cache_clear()
