"""Connector settings (environment, prefix SERVICEPULSE_CONNECTOR_): the shared secrets each helpdesk signs or
authenticates its calls with, and where edited mappings live.

Secrets are `SecretStr`: no repr, log line or error message shows them. A connector whose secret (or, for
Salesforce, organisation id) is empty is switched off: its endpoint answers 404.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConnectorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SERVICEPULSE_CONNECTOR_", extra="ignore")

    # Zendesk: the webhook's signing secret (Admin Center > Webhooks > the webhook > Signing secret).
    zendesk_secret: SecretStr = SecretStr("")
    # Freshdesk and TOPdesk sign nothing: their calls carry this secret as HTTP Basic credentials
    # (user name or password) or as `Authorization: Bearer <secret>`.
    freshdesk_secret: SecretStr = SecretStr("")
    topdesk_secret: SecretStr = SecretStr("")
    # Salesforce outbound messages carry the sending organisation's id; only this one is accepted.
    salesforce_organization_id: str = ""
    # A Zendesk signature older (or further ahead) than this is refused, so a captured call cannot be replayed later.
    max_signature_age_seconds: int = 600
    # A folder with edited mappings (<vendor>.yaml); keys they leave out keep the shipped defaults.
    mapping_dir: Path | None = None

    def secret(self, vendor: str) -> str:
        value = getattr(self, f"{vendor}_secret", None)
        return value.get_secret_value() if value is not None else ""


def connector_settings() -> ConnectorSettings:
    """Read per call: a changed secret applies to the next delivery (the settings are a few variables)."""
    return ConnectorSettings()
