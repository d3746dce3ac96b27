"""Verbatim settings: the retention policy and the customer-number patterns (environment, prefix SERVICEPULSE_VERBATIMS_)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from servicepulse.errors import ConfigurationError

RETENTION_POLICIES = ("redacted", "original")


class VerbatimSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SERVICEPULSE_VERBATIMS_", extra="ignore")

    # "redacted" (default): only the redacted text is stored for analysis and display;
    # "original": the original comment is kept next to it (only where the organisation may keep it).
    retention: str = "redacted"
    # Regular expressions for the organisation's customer numbers; None = the kernel's defaults.
    customer_patterns: list[str] | None = None

    def model_post_init(self, __context) -> None:
        if self.retention not in RETENTION_POLICIES:

            raise ConfigurationError(f"SERVICEPULSE_VERBATIMS_RETENTION must be one of {', '.join(RETENTION_POLICIES)}, "
                                     f"not {self.retention!r}")

    @property
    def keep_original(self) -> bool:
        return self.retention == "original"
