"""Command line: `servicepulse ...`. Errors meant for people print as one line, exit non-zero."""

from __future__ import annotations

import sys

from sqlalchemy.exc import DBAPIError, OperationalError

# Command modules add their commands to the Typer app when imported.
from servicepulse.cli import (  # noqa: F401
    analytics_command,
    connectors_command,
    customer_command,
    db_commands,
    demo_command,
    digest_command,
    events_command,
    followups_command,
    forecast_command,
    report_command,
    responses_command,
    serve_command,
    user_commands,
    verbatims_command,
    worker_command,
)
from servicepulse.cli.app import app
from servicepulse.cli.context import err_console
from servicepulse.errors import ServicepulseError


def main() -> None:

    try:
        app(standalone_mode=True)
    except ServicepulseError as exc:
        err_console.print(f"[red]error:[/] {exc}", highlight=False)
        sys.exit(exc.exit_code)
    except (OperationalError, DBAPIError) as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        err_console.print(f"[red]error:[/] database error: {reason}", highlight=False)
        sys.exit(1)
