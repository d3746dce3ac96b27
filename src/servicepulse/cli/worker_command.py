"""`servicepulse worker` runs the background job worker; `servicepulse triggers ...` manages trigger rules."""

from __future__ import annotations

import logging
import signal
from pathlib import Path

import typer

from servicepulse.cli.app import app
from servicepulse.cli.context import console, engine
from servicepulse.db.session import UnitOfWork
from servicepulse.invitations import enable_anonymous_link, rules
from servicepulse.jobs.worker import Worker
from servicepulse.org import record_audit
from servicepulse.settings import get_settings

triggers_app = typer.Typer(help="Trigger rules: who is invited to which survey after which case event.",
                           no_args_is_help=True)
app.add_typer(triggers_app, name="triggers")


@app.command("worker")
def worker(poll_interval: float = typer.Option(1.0, "--poll-interval", help="Seconds between polls when idle."),
           batch: int = typer.Option(10, "--batch", help="Jobs claimed per poll.")) -> None:
    """Run the background job worker (invitations, reminders, rule evaluation) until stopped."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    w = Worker(engine(), poll_interval=poll_interval, batch=batch)

    def _stop(signum, _frame):
        console.print(f"worker {w.worker_id}: stopping (signal {signum})")
        w._stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    console.print(f"worker {w.worker_id}: polling every {poll_interval:g} s")
    w.run_forever()


@triggers_app.command("load")
def load(file: Path = typer.Argument(..., exists=True, dir_okay=False, help="YAML file with trigger rules.")) -> None:
    """Create or update the trigger rules described in a YAML file."""
    with UnitOfWork(engine()) as session:
        loaded = rules.load_rules_file(session, file)
        record_audit(session, "cli", "trigger_rule.load", {"rules": sorted(r.key for r in loaded)})
    for rule in loaded:
        console.print(f"rule [bold]{rule.key}[/]: survey {rule.survey_key}, after {rule.activity!r}")


@triggers_app.command("list")
def list_rules() -> None:
    """List the trigger rules."""
    with UnitOfWork(engine(), readonly=True) as session:
        for rule in rules.list_rules(session):
            state = "on" if rule.active else "off"
            console.print(f"{rule.key} [{state}]: after {rule.activity!r} in journey {rule.journey_key or '*'} "
                          f"-> survey {rule.survey_key}, delay {rule.delay_minutes} min, sample {rule.sample_percent:g} %")


links_app = typer.Typer(help="Anonymous survey links (/a/<survey key>), with a limit per client address.",
                        no_args_is_help=True)
app.add_typer(links_app, name="links")


@links_app.command("enable")
def enable_link(
    survey: str = typer.Argument(..., help="Survey key."),
    per_address: int = typer.Option(5, "--per-address", min=1, help="Responses one address may start per window."),
    window_minutes: int = typer.Option(60, "--window-minutes", min=1, help="Length of that window in minutes."),
) -> None:
    """Open a survey to anyone with its link."""
    with UnitOfWork(engine()) as session:
        enable_anonymous_link(session, survey, per_address, window_minutes)
    console.print(f"anonymous link open: {get_settings().base_url.rstrip('/')}/a/{survey} "
                  f"(at most {per_address} per address per {window_minutes} min)")


@links_app.command("disable")
def disable_link(survey: str = typer.Argument(..., help="Survey key.")) -> None:
    """Close a survey's anonymous link (answers already given stay)."""
    with UnitOfWork(engine()) as session:
        enable_anonymous_link(session, survey, enabled=False)
    console.print(f"anonymous link closed: /a/{survey}")
