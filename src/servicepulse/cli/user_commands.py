"""`servicepulse user ...` and `servicepulse apikey ...`: users, their sessions and API keys."""

import typer
from rich.table import Column, Table

from servicepulse.api.key_cache import TTL_SECONDS
from servicepulse.cli.app import apikey_app, user_app
from servicepulse.cli.context import console, engine
from servicepulse.db.session import UnitOfWork
from servicepulse.org import SCOPES, effective_scopes, record_audit, service
from servicepulse.org.access import DEFAULT_SCOPES

CLI = "cli"  # the audit log's actor for commands (whoever holds the database runs them)


@user_app.command("create")
def create(
    email: str = typer.Argument(..., help="Login e-mail address."),
    name: str = typer.Option(..., "--name", help="Display name."),
    role: str = typer.Option("agent", "--role", help="admin, analyst, teamlead or agent."),
    team: list[str] = typer.Option([], "--team", help="Team key to join (repeatable)."),
    lead: list[str] = typer.Option([], "--lead", help="Team key this user leads (repeatable)."),
    language: str = typer.Option("nl", "--language", help="Interface language: nl or en."),
    password: str = typer.Option(..., "--password", prompt=True, hide_input=True, confirmation_prompt=True,
                                 help="Password (asked for when not given)."),
) -> None:
    """Create a dashboard user."""
    with UnitOfWork(engine()) as session:
        user = service.create_user(session, email, name, password, role, teams=team, lead_of=lead, language=language)
        record_audit(session, CLI, "user.create", {"user_id": user.id, "role": user.role})
        console.print(f"created user {user.email} ({user.role})")


@apikey_app.command("create")
def create_key(
    name: str = typer.Argument(..., help="A name for the key, e.g. the system that uses it."),
    user: str = typer.Option(..., "--user", help="E-mail of the user the key acts for: that user's role and teams "
                                                 "bound what the key may see and do."),
    scope: list[str] = typer.Option([], "--scope", help="A scope the key needs (repeatable): "
                                                        + ", ".join(SCOPES) + ". Default: "
                                                        + " ".join(DEFAULT_SCOPES) + "."),
) -> None:
    """Create an API key and print it once: it is stored only as a hash."""
    with UnitOfWork(engine()) as session:
        acting = service.user_by_email(session, user)
        new = service.create_api_key(session, name, created_by=acting, scopes=scope or None)
        made = service.find_api_key(session, name)
        scopes = service.key_scopes(made)
        record_audit(session, CLI, "apikey.create", {"key_id": made.id, "user_id": acting.id,
                                                     "scopes": sorted(scopes)})
    console.print(f"API key [bold]{new.name}[/], acting for {acting.email}, scopes {' '.join(sorted(scopes))} "
                  f"(shown once, store it now):", highlight=False)
    print(new.key)


@apikey_app.command("list")
def list_keys() -> None:
    """List API keys: name, prefix, the user it acts for, scopes, last use, revoked."""
    with UnitOfWork(engine(), readonly=True) as session:
        users = {u.id: u for u in service.list_users(session)}
        table = Table(Column("name", no_wrap=True), "prefix", Column("acts for", no_wrap=True), "scopes", "last used",
                      "revoked", box=None)
        for key in service.list_api_keys(session):
            user = users.get(key.created_by_id) if key.created_by_id else None
            granted = service.key_scopes(key)
            usable = effective_scopes(granted, user.role if user else None)
            shown = " ".join(s if s in usable else f"{s}(not allowed)" for s in sorted(granted))
            table.add_row(key.name, key.prefix, f"{user.email} ({user.role})" if user else "-", shown,
                          _stamp(key.last_used_at), _stamp(key.revoked_at))
    console.print(table)


def _stamp(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "-"


# --- users -----------------------------------------------------------------------------------------

@user_app.command("list")
def list_users() -> None:
    """List users: e-mail, name, role, teams, active, failed logins."""
    with UnitOfWork(engine(), readonly=True) as session:
        table = Table(Column("email", no_wrap=True), "name", "role", "teams", "active", "failed logins", box=None)
        for u in service.list_users(session):
            teams = ", ".join(sorted(m.team.key + (" (lead)" if m.is_lead else "") for m in u.memberships))
            table.add_row(u.email, u.name, u.role, teams or "-", "yes" if u.active else "no", str(u.failed_logins or 0))
    console.print(table)


@user_app.command("deactivate")
def deactivate(email: str = typer.Argument(..., help="The user's e-mail address.")) -> None:
    """Deactivate a user: their sessions end at once, their API keys stop within seconds."""
    with UnitOfWork(engine()) as session:
        user = service.set_active(session, service.find_user(session, email), False)
        record_audit(session, CLI, "user.deactivate", {"user_id": user.id})
    console.print(f"deactivated {user.email}; their sessions have ended")


@user_app.command("activate")
def activate(email: str = typer.Argument(..., help="The user's e-mail address.")) -> None:
    """Reactivate a deactivated user."""
    with UnitOfWork(engine()) as session:
        user = service.set_active(session, service.find_user(session, email), True)
        record_audit(session, CLI, "user.activate", {"user_id": user.id})
    console.print(f"activated {user.email}")


@user_app.command("reset-password")
def reset_password(
    email: str = typer.Argument(..., help="The user's e-mail address."),
    password: str = typer.Option(None, "--password", help="The new password; without it one is generated "
                                                          "and printed once."),
) -> None:
    """Set a new password: ends every session of the user and unlocks the account."""
    generated = password is None
    password = service.generated_password() if generated else password
    with UnitOfWork(engine()) as session:
        user = service.set_password(session, service.find_user(session, email), password)
        record_audit(session, CLI, "user.password_reset", {"user_id": user.id})
    console.print(f"new password for {user.email}; their sessions have ended"
                  + (" (shown once):" if generated else ""))
    if generated:
        print(password)


@user_app.command("unlock")
def unlock(email: str = typer.Argument(..., help="The user's e-mail address.")) -> None:
    """Forget the account's failed logins, so the login throttle no longer slows it down."""
    with UnitOfWork(engine()) as session:
        user = service.unlock(session, service.find_user(session, email))
        record_audit(session, CLI, "user.unlock", {"user_id": user.id})
    console.print(f"unlocked {user.email}")


@apikey_app.command("revoke")
def revoke_key(name: str = typer.Argument(..., help="The name the key was created with.")) -> None:
    """Revoke an API key; running servers refuse it within a few seconds (they cache verified keys)."""

    with UnitOfWork(engine()) as session:
        revoked = service.revoke_api_key(session, name)
        record_audit(session, CLI, "apikey.revoke", {"key_id": revoked.id})
    console.print(f"API key {name} revoked; servers refuse it within {TTL_SECONDS:.0f} seconds")
