"""Settings from the environment (prefix SERVICEPULSE_). Nothing connects at import time."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


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

    # Dashboard sessions end after this long without a request, and this long after logging in at the latest.
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12

    min_n: int = 30  # below this many answers a figure is "too few answers"

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'servicepulse.db').as_posix()}"

    def resolved_secret_key(self) -> str:
        """A stable secret: from the environment, else generated once into the data dir."""
        if self.secret_key:
            return self.secret_key
        import secrets

        path = self.data_dir / "secret.key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
