"""`servicepulse digest send`: send the due digest mails now (what the worker's hourly job does), e.g. to
try a digest out; each digest still goes out once per subscription, recipient and period."""

from __future__ import annotations

import typer
from sqlalchemy import select

from servicepulse.cli.app import app
from servicepulse.cli.context import console, engine, moment_option
from servicepulse.db.session import UnitOfWork
from servicepulse.digests import due_sends
from servicepulse.digests.sending import send_digest
from servicepulse.errors import NotFound, ServicepulseError
from servicepulse.jobs.registry import PermanentFailure, RetryLater
from servicepulse.models import User
from servicepulse.settings import get_settings

digest_app = typer.Typer(help="Digest mails: weekly or monthly figures for subscribers.", no_args_is_help=True)
app.add_typer(digest_app, name="digest")


class DigestsNotSent(ServicepulseError):
    """Some digests could not be sent (the mail server refused or was unreachable)."""


@digest_app.command("send")
def send(now: bool = typer.Option(False, "--now", help="Do not wait for the send hour (06:00 the day after a "
                                  "period): send the newest complete period's digests now."),
         user: str = typer.Option("", "--user", help="Only the digests of this user (e-mail address)."),
         again: bool = typer.Option(False, "--again", help="Send even digests already sent (to try a mail out; "
                                    "not recorded)."),
         at: str = typer.Option("", "--at", help="Act as if it were this moment (ISO 8601 with an offset).")) -> None:
    """Send the digests that are due (with --now: those of the newest complete period), each once."""
    moment = moment_option(at or None, "at")
    settings = get_settings()
    eng = engine()
    with UnitOfWork(eng, readonly=True) as session:
        user_id = None
        if user:
            user_id = session.scalar(select(User.id).where(User.email == user.strip().lower()))
            if user_id is None:
                raise NotFound(f"there is no user {user!r}")
        payloads = due_sends(session, moment, settings.zone(), immediately=now, user_id=user_id,
                             include_sent=again)
    sent, skipped, failed = 0, 0, []
    for payload in payloads:
        try:
            with UnitOfWork(eng) as session:
                outcome = send_digest(eng, session, payload, moment, record=not again, settings=settings)
        except (RetryLater, PermanentFailure) as exc:
            failed.append(str(exc))
            continue
        if outcome == "sent":
            sent += 1
        else:
            skipped += 1
    console.print(f"digests sent: {sent}, skipped: {skipped}, failed: {len(failed)}")
    if failed:
        raise DigestsNotSent(failed[0])
