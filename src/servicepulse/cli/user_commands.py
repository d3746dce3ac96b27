import typer

from servicepulse.api.key_cache import TTL_SECONDS
from servicepulse.cli.app import apikey_app, user_app
from servicepulse.cli.context import console, engine
from servicepulse.db.session import UnitOfWork
from servicepulse.org import service


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
        console.print(f"created user {user.email} ({user.role})")


@apikey_app.command("create")
def create_key(
    name: str = typer.Argument(..., help="A name for the key, e.g. the system that uses it."),
    user: str = typer.Option(None, "--user", help="E-mail of the user the key acts for on the follow-up routes "
                                                  "(that user's role and teams decide what it may see and do)."),
) -> None:
    """Create an API key and print it once: it is stored only as a hash."""
    with UnitOfWork(engine()) as session:
        acting = service.user_by_email(session, user) if user else None
        new = service.create_api_key(session, name, created_by=acting)
    acts = f", acting for {acting.email}" if acting else ""
    console.print(f"API key [bold]{new.name}[/]{acts} (shown once, store it now):")
    print(new.key)


@apikey_app.command("revoke")
def revoke_key(name: str = typer.Argument(..., help="The name the key was created with.")) -> None:
    """Revoke an API key; running servers refuse it within a few seconds (they cache verified keys)."""

    with UnitOfWork(engine()) as session:
        service.revoke_api_key(session, name)
    console.print(f"API key {name} revoked; servers refuse it within {TTL_SECONDS:.0f} seconds")
