"""What CLI commands share: the console, the engine, and how errors are printed."""

from __future__ import annotations

from rich.console import Console
from sqlalchemy.engine import Engine

from servicepulse.db.engine import make_engine
from servicepulse.db.migrate import check_schema
from servicepulse.settings import get_settings

console = Console()
err_console = Console(stderr=True, soft_wrap=True)


def engine(check: bool = True) -> Engine:
    """The configured engine; by default refuses a database that is not at our schema."""
    eng = make_engine(get_settings().resolved_database_url())
    if check:
        check_schema(eng)
    return eng
