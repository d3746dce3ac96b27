"""`servicepulse customer erase ID` (art. 17 GDPR), `customer export ID` (art. 15) and `retention run`."""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path

import typer

from servicepulse.cli.app import app
from servicepulse.cli.context import console, engine, moment_option
from servicepulse.db.session import UnitOfWork
from servicepulse.privacy import erase_customer, export_customer, record_export, run_retention

customer_app = typer.Typer(help="One customer's personal data: erase it, export it.", no_args_is_help=True)
retention_app = typer.Typer(help="Retention of personal data (SERVICEPULSE_RETENTION_*_DAYS).", no_args_is_help=True)
app.add_typer(customer_app, name="customer")
app.add_typer(retention_app, name="retention")


def _actor() -> str:
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return f"cli:{who}"


@customer_app.command("erase")
def erase(ident: str = typer.Argument(..., metavar="ID", help="The customer's external id (or internal id, "
                                                               "#123 when it could be read as an external id)."),
          yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation.")) -> None:
    """Remove every trace of one customer (responses, comments, invitations, cases, follow-ups, queued work).

    The audit log keeps who did it, when and how many rows of each kind went, not who the customer was.
    """
    if not yes:
        typer.confirm(f"Erase customer {ident} and everything held on them? This cannot be undone", abort=True)
    with UnitOfWork(engine()) as session:
        done = erase_customer(session, ident, _actor())
    console.print(f"erased customer {ident}: {done.total} row(s) removed ("
                  + ", ".join(f"{k} {v}" for k, v in done.rows.items()) + ")", highlight=False)


@customer_app.command("export")
def export(ident: str = typer.Argument(..., metavar="ID", help="The customer's external id (or internal id)."),
           output: Path = typer.Option(None, "--output", "-o", help="Write the JSON to this file (default: stdout).")
           ) -> None:
    """Everything held on one customer as JSON (a subject access request, art. 15 GDPR)."""
    with UnitOfWork(engine()) as session:
        data = export_customer(session, ident)
        record_export(session, _actor(), ident)
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if output is None:
        sys.stdout.write(text + "\n")
    else:
        output.write_text(text + "\n", encoding="utf-8")
        console.print(f"wrote {output}")


@retention_app.command("run")
def run(now: str = typer.Option(None, "--now", help="Run as of this moment (ISO 8601 with offset).")) -> None:
    """Remove what is past its retention now (the worker does this daily)."""
    with UnitOfWork(engine()) as session:
        removed = run_retention(session, moment_option(now), actor=_actor())
    console.print("retention: " + ", ".join(f"{k} {v}" for k, v in removed.items()), highlight=False)
