"""Settings from the environment (prefix SERVICEPULSE_). Nothing connects at import time."""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from contextlib import suppress
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from servicepulse.errors import ConfigurationError

SMTP_SECURITY = ("starttls", "smtps", "none")
SMS_PROVIDERS = ("", "twilio", "messagebird")
# An origin the widget may be framed by: scheme, host (a leading "*." for every subdomain), optional port.
WIDGET_ORIGIN = re.compile(r"https?://(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?")


def default_data_dir() -> Path:
    return Path.cwd() / "servicepulse-data"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SERVICEPULSE_", extra="ignore")

    # Embedded SQLite by default; production points this at PostgreSQL
    # (postgresql+psycopg://user:pass@host/db).
    database_url: str = ""
    data_dir: Path = default_data_dir()
    secret_key: str = ""
    base_url: str = "http://127.0.0.1:8000"
    organisation_name: str = "Glasvezel Noord"

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_sender: str = "klantenservice@glasvezelnoord.example"
    # How mail leaves (servicepulse.notify.mail): "starttls" (the default: STARTTLS required and the
    # certificate verified, never a fall-back to plain text), "smtps" (TLS from the first byte, usually
    # port 465) or "none" (plain text: only for a relay on this machine or a test server). smtp_ca_file:
    # a PEM file of CAs to trust instead of the system's. The password is a SecretStr, so no repr, log
    # line or error message shows it.
    smtp_security: str = "starttls"
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_ca_file: str = ""

    @field_validator("smtp_security")
    @classmethod
    def _known_smtp_security(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in SMTP_SECURITY:
            # Not a ValueError: pydantic would wrap it; this one is shown as one line by the CLI.
            raise ConfigurationError(f"SERVICEPULSE_SMTP_SECURITY must be one of {', '.join(SMTP_SECURITY)}, "
                                     f"not {value!r}")
        return value

    # Text messages (servicepulse.notify.messaging, docs/messaging.md). sms_provider: "" (no SMS), "twilio" or
    # "messagebird"; sms_sender: the number, alphanumeric sender ID (at most 11 characters) or Twilio
    # Messaging Service SID. WhatsApp is on when whatsapp_phone_number_id is set. invitation_channels: the
    # order in which channels are tried when the customer has no preference (only configured ones count).
    # Every token, key and secret is a SecretStr: no repr, log line or error message shows it.
    sms_provider: str = ""
    sms_sender: str = ""
    twilio_account_sid: str = ""
    twilio_auth_token: SecretStr = SecretStr("")
    twilio_api_url: str = "https://api.twilio.com"
    messagebird_access_key: SecretStr = SecretStr("")
    messagebird_signing_key: SecretStr = SecretStr("")
    messagebird_api_url: str = "https://rest.messagebird.com"
    whatsapp_phone_number_id: str = ""
    whatsapp_access_token: SecretStr = SecretStr("")
    whatsapp_app_secret: SecretStr = SecretStr("")
    whatsapp_verify_token: SecretStr = SecretStr("")
    whatsapp_api_url: str = "https://graph.facebook.com/v21.0"
    whatsapp_template_invitation: str = "survey_invitation"
    whatsapp_template_reminder: str = "survey_reminder"
    invitation_channels: str = "email,sms,whatsapp"
    phone_default_country: str = "31"  # the country code of national numbers (0612345678)

    @field_validator("sms_provider")
    @classmethod
    def _known_sms_provider(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in SMS_PROVIDERS:
            raise ConfigurationError(f"SERVICEPULSE_SMS_PROVIDER must be one of twilio, messagebird or empty, "
                                     f"not {value!r}")
        return value

    # Dashboard sessions end after this long without a request, and this long after logging in at the latest.
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12

    # The HTTP edge. Proxies (comma-separated addresses or networks, e.g. "10.0.0.5, 10.1.0.0/16") whose
    # X-Forwarded-For/-Proto `servicepulse serve` believes; empty: none, the connecting address counts (for
    # the per-address login and anonymous-link limits). Request bodies above max_request_bytes get a 413;
    # 16 MB holds the largest event batch the API takes (10,000 events with every field at its maximum).
    trusted_proxies: str = ""
    max_request_bytes: int = 16_000_000

    min_n: int = 30  # below this many answers a figure is "too few answers"

    # The organisation's wall clock (an IANA name): times are stored in UTC and shown in this zone on every
    # page, mail, export and report.
    time_zone: str = "Europe/Amsterdam"

    @field_validator("time_zone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        value = value.strip()
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigurationError(f"SERVICEPULSE_TIME_ZONE must be a time zone name such as Europe/Amsterdam, "
                                     f"not {value!r}") from None
        return value

    # Digests and chat (helper "digests"): the organisation's language (nl or en) for what goes to a team's
    # Slack or Teams channel; each person's digest mail is in their own language.
    language: str = "nl"

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in ("nl", "en"):
            raise ConfigurationError(f"SERVICEPULSE_LANGUAGE must be nl or en, not {value!r}")
        return value

    # Web widget (helper "widget", docs/widget.md): the web sites that may show the survey widget (/w/...) in a
    # frame, comma-separated origins such as "https://www.example.nl, https://*.example.nl"; empty (the default):
    # only pages of servicepulse's own origin. They become the widget's CSP frame-ancestors. benchmarks_file:
    # an installation's own benchmark table (docs/benchmarks.md), shown besides the shipped one.
    widget_origins: str = ""
    benchmarks_file: str = ""

    @field_validator("widget_origins")
    @classmethod
    def _widget_origins(cls, value: str) -> str:
        origins = [part.strip().rstrip("/") for part in value.replace(" ", ",").split(",") if part.strip()]
        for origin in origins:
            if not WIDGET_ORIGIN.fullmatch(origin):
                raise ConfigurationError(f"SERVICEPULSE_WIDGET_ORIGINS takes origins such as https://www.example.nl "
                                         f"(scheme, host, optional port; no path), not {origin!r}")
        return ",".join(origins)

    # Cost to serve and avoidable contact (helper "invest", servicepulse/investment/costs.py and demand.py).
    # An event with a handling time in its attributes ("handling_minutes") costs that many minutes at
    # cost_per_minute (euros, fully loaded); any other customer-facing event costs contact_costs by
    # "channel/direction" (JSON in SERVICEPULSE_CONTACT_COSTS; unlisted pairs cost nothing). A repeat contact
    # lies within failure_demand_days of the previous one; a silence lasts silence_hours without contact.
    cost_per_minute: float = 0.80
    contact_costs: dict[str, float] = {
        "phone/inbound": 6.50, "phone/outbound": 5.00, "chat/inbound": 4.50, "chat/outbound": 4.00,
        "email/inbound": 3.50, "email/outbound": 2.50, "app/inbound": 0.60, "app/outbound": 0.20,
        "web/inbound": 0.50, "web/outbound": 0.20, "sms/outbound": 0.10, "field/outbound": 85.00,
        "letter/outbound": 2.00,
    }
    failure_demand_days: int = 7
    silence_hours: float = 36.0

    # The analytics store (servicepulse/analytics_store, docs/scale.md): "" keeps every query in the main
    # database; chdb:///abs/folder (or chdb://folder under data_dir) runs ClickHouse in this process;
    # clickhouse://user:password@host:8123/database a ClickHouse server or cluster. The main database
    # stays the system of record; the store gets a copy of the facts through the outbox.
    analytics_url: str = ""

    @field_validator("analytics_url")
    @classmethod
    def _known_analytics_url(cls, value: str) -> str:
        value = value.strip()
        if value and value.split("://", 1)[0].lower() not in ("chdb", "clickhouse", "clickhouses") or (
                value and "://" not in value):
            raise ConfigurationError("SERVICEPULSE_ANALYTICS_URL must be empty, chdb:///folder or "
                                     "clickhouse://user:password@host:8123/database, not "
                                     f"{value.split('://')[0]!r}://...")
        return value

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'servicepulse.db').as_posix()}"

    def resolved_secret_key(self) -> str:
        """A stable secret: from the environment, else generated once into the data dir.

        The file is its owner's only from its first moment: the key goes into a temporary file that
        mkstemp creates with mode 0600 in the same folder, is synced, and is then hard-linked into
        place, which never replaces an existing file; when another process (a worker started with the
        server) got there first, its key is the one used."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret.key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd, temporary = tempfile.mkstemp(prefix=".secret.key.", dir=self.data_dir)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(key)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(temporary, path)
            except FileExistsError:
                return path.read_text().strip()
            except OSError:  # a file system without hard links: an atomic rename, which is still 0600
                os.replace(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
        with suppress(OSError):  # make the new name survive a crash, where a folder can be synced
            folder = os.open(self.data_dir, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
        return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
