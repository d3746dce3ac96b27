"""Verbatim settings: the retention policy and the customer-number patterns (environment, prefix SERVICEPULSE_VERBATIMS_)."""

from __future__ import annotations

import os
from functools import lru_cache

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


def current_verbatim_settings() -> VerbatimSettings:
    """The settings as the environment gives them now, parsed once per distinct value: building them costs
    about 0.2 ms, too much for every response write, while a changed variable still takes effect."""
    return _parsed(os.environ.get("SERVICEPULSE_VERBATIMS_RETENTION"),
                   os.environ.get("SERVICEPULSE_VERBATIMS_CUSTOMER_PATTERNS"))


@lru_cache(maxsize=8)
def _parsed(retention: str | None, customer_patterns: str | None) -> VerbatimSettings:
    return VerbatimSettings()
