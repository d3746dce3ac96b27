"""Retention settings: how long each kind of personal data is kept (environment, prefix SERVICEPULSE_RETENTION_).

Days; 0 keeps the data for ever. The defaults suit a Dutch service organisation that reports a year against
the year before: open-answer texts and follow-up notes two years, responses and case events three, finished
invitations two, the audit log seven (the fiscal retention period, so erasures stay provable).
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from servicepulse.errors import ConfigurationError

# kind -> the setting's field; the kinds' order is the order of the admin page and the run
RETENTION_KINDS = ("comments", "responses", "case_events", "invitations", "contact_notes", "audit_log")


class RetentionSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SERVICEPULSE_RETENTION_", extra="ignore")

    comments_days: int = 730  # open-answer texts: the comment, text answers, analysed comments
    responses_days: int = 1095  # responses with their scores and answers (and their place in the aggregate)
    case_events_days: int = 1095  # events of cases (actors, free attributes)
    invitations_days: int = 730  # finished invitations and their tokens
    contact_notes_days: int = 730  # notes of follow-up contacts and gestures
    audit_log_days: int = 2555  # the audit log of admin actions

    def model_post_init(self, __context) -> None:
        for kind in RETENTION_KINDS:
            if self.days(kind) < 0:
                raise ConfigurationError(f"SERVICEPULSE_RETENTION_{kind.upper()}_DAYS must be 0 (keep) or a number "
                                         f"of days, not {self.days(kind)}")

    def days(self, kind: str) -> int:
        return int(getattr(self, f"{kind}_days"))

    def as_dict(self) -> dict[str, int]:
        return {kind: self.days(kind) for kind in RETENTION_KINDS}
