"""`servicepulse alerts run` (evaluate every alert rule) and `servicepulse followups escalate`."""

from __future__ import annotations

from datetime import datetime, timezone

import typer

from servicepulse.cli.app import app
from servicepulse.cli.context import console, engine
from servicepulse.errors import ValidationFailed

alerts_app = typer.Typer(help="Alert rules that open follow-ups (the closed loop).", no_args_is_help=True)
followups_app = typer.Typer(help="Follow-ups: escalation of overdue ones.", no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")
app.add_typer(followups_app, name="followups")


def _moment(value: str, option: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(f"--{option} {value!r} is not a date-time like 2026-03-02T10:00:00+01:00",
                               [(option, "not a date-time")]) from None
    if parsed.tzinfo is None:
        raise ValidationFailed(f"--{option} needs a time zone offset, e.g. +01:00", [(option, "no time zone")])
    return parsed.astimezone(timezone.utc)


def _now(value: str | None) -> datetime:
    return _moment(value, "now") if value else datetime.now(timezone.utc)


@alerts_app.command("run")
def run(now: str = typer.Option(None, "--now", help="Evaluate as of this moment (ISO 8601 with offset)."),
        since: str = typer.Option(None, "--since", help="Only responses submitted, case facts changed and promises "
                                                        "broken at or after this moment (ISO 8601 with offset); "
                                                        "default: everything.")) -> None:
    """Run every alert rule over the responses and cases; opens at most one follow-up per cause.

    New responses are evaluated by the worker as they arrive; run this after changing the rules, or
    with --since to catch up on a period without scanning all history.
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from servicepulse.db.session import UnitOfWork
    from servicepulse.followups import alerts

    at = _now(now)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                  transient=True) as progress:
        progress.add_task("evaluating alert rules", total=None)
        with UnitOfWork(engine()) as session:
            counts = alerts.run_all(session, at, since=_moment(since, "since") if since else None)
    console.print(f"opened {counts['responses']} follow-up(s) from responses and {counts['cases']} from cases")


@followups_app.command("escalate")
def escalate(now: str = typer.Option(None, "--now", help="Escalate as of this moment (ISO 8601 with offset).")) -> None:
    """Escalate follow-ups past their due time to the team lead (and the notification channels)."""
    from servicepulse.db.session import UnitOfWork
    from servicepulse.followups import service

    with UnitOfWork(engine()) as session:
        ids = service.escalate_overdue(session, _now(now))
    console.print(f"escalated {len(ids)} overdue follow-up(s)")
