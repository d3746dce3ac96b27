"""`servicepulse connectors check`: on/off per connector without showing a secret, mappings checked."""

from __future__ import annotations

from typer.testing import CliRunner

from servicepulse.cli import app

from .conftest import FRESHDESK_SECRET, SALESFORCE_ORG, TOPDESK_SECRET, ZENDESK_SECRET


def test_check_names_each_connector_and_never_its_secret(connector_env, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("SERVICEPULSE_CONNECTOR_FRESHDESK_SECRET")
    result = CliRunner().invoke(app, ["connectors", "check"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines == [
        "zendesk: on; mapping valid (shipped default); /api/v1/connectors/zendesk",
        "freshdesk: off (no secret set); mapping valid (shipped default); /api/v1/connectors/freshdesk",
        "topdesk: on; mapping valid (shipped default); /api/v1/connectors/topdesk",
        "salesforce: on; mapping valid (shipped default); /api/v1/connectors/salesforce",
    ]
    for secret in (ZENDESK_SECRET, FRESHDESK_SECRET, TOPDESK_SECRET, SALESFORCE_ORG):
        assert secret not in result.output


def test_a_broken_override_fails_the_check_naming_file_and_field(connector_env):
    (connector_env / "topdesk.yaml").write_text("events:\n  solved: {activity: Opgelost, line: middle}\n")
    result = CliRunner().invoke(app, ["connectors", "check", "topdesk"])
    assert result.exit_code == 1
    assert f"{connector_env / 'topdesk.yaml'} is not valid: events/solved/line" in result.output
    shown = CliRunner().invoke(app, ["connectors", "check", "zendesk", "--show"])
    assert shown.exit_code == 0 and "activity: Ticket resolved" in shown.stdout
