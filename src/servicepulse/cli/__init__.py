"""Command line: `servicepulse ...`. Errors meant for people print as one line, exit non-zero."""

from __future__ import annotations

import sys

from sqlalchemy.exc import OperationalError, DBAPIError

from servicepulse.cli.app import app
from servicepulse.errors import ServicepulseError

# Command modules register themselves on the app when imported.
from servicepulse.cli import db_commands, user_commands  # noqa: F401,E402
from servicepulse.cli import worker_command  # noqa: F401,E402
from servicepulse.cli import responses_command  # noqa: F401,E402
from servicepulse.cli import verbatims_command  # noqa: F401,E402
from servicepulse.cli import events_command  # noqa: F401,E402
from servicepulse.cli import report_command  # noqa: F401,E402
from servicepulse.cli import forecast_command  # noqa: F401,E402

from servicepulse.cli import demo_command, serve_command  # noqa: F401,E402
from servicepulse.cli import followups_command  # noqa: F401,E402


def main() -> None:
    from servicepulse.cli.context import err_console

    try:
        app(standalone_mode=True)
    except ServicepulseError as exc:
        err_console.print(f"[red]error:[/] {exc}", highlight=False)
        sys.exit(exc.exit_code)
    except (OperationalError, DBAPIError) as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        err_console.print(f"[red]error:[/] database error: {reason}", highlight=False)
        sys.exit(1)
