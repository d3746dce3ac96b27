"""`servicepulse alerts run` (evaluate every alert rule) and `servicepulse followups escalate`."""

from __future__ import annotations

import typer

from servicepulse.cli.app import app
from servicepulse.cli.context import console, engine, moment_option
from servicepulse.db.session import UnitOfWork
from servicepulse.followups import alerts, service

alerts_app = typer.Typer(help="Alert rules that open follow-ups (the closed loop).", no_args_is_help=True)
followups_app = typer.Typer(help="Follow-ups: escalation of overdue ones.", no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")
app.add_typer(followups_app, name="followups")


@alerts_app.command("run")
def run(now: str = typer.Option(None, "--now", help="Evaluate as of this moment (ISO 8601 with offset)."),
        since: str = typer.Option(None, "--since", help="Only responses submitted, case facts changed and promises "
                                                        "broken at or after this moment (ISO 8601 with offset); "
                                                        "default: everything.")) -> None:
    """Run every alert rule over the responses and cases: one follow-up per unhappy customer.

    A response's reasons open one follow-up; later reasons of the same customer join their open follow-up
    within the merge window; answers and events older than the alert age limit (followups settings, 14 days
    by default) open nothing. Each reason is recorded once, so running this again opens nothing new.
    New responses are evaluated by the worker as they arrive; run this after changing the rules, or
    with --since to catch up on a period without scanning all history.
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


    at = moment_option(now)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                  transient=True) as progress:
        progress.add_task("evaluating alert rules", total=None)
        with UnitOfWork(engine()) as session:
            counts = alerts.run_all(session, at, since=moment_option(since, "since") if since else None)
    console.print(f"opened {counts['responses']} follow-up(s) from responses and {counts['cases']} from cases; "
                  f"{counts['merged']} open follow-up(s) got a later reason")


@followups_app.command("escalate")
def escalate(now: str = typer.Option(None, "--now", help="Escalate as of this moment (ISO 8601 with offset).")) -> None:
    """Escalate follow-ups past their due time to the team lead (and the notification channels)."""

    with UnitOfWork(engine()) as session:
        ids = service.escalate_overdue(session, moment_option(now))
    console.print(f"escalated {len(ids)} overdue follow-up(s)")
