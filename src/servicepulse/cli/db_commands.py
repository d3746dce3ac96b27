from servicepulse.cli.app import db_app
from servicepulse.cli.context import console, engine
from servicepulse.db import migrate


@db_app.command("upgrade")
def upgrade(revision: str = "head") -> None:
    """Create the database if needed and migrate it to the newest schema."""
    eng = engine(check=False)
    migrate.upgrade(eng, revision)
    console.print(f"database at schema revision [bold]{migrate.current_revision(eng)}[/] "
                  f"({eng.url.render_as_string(hide_password=True)})")


@db_app.command("current")
def current() -> None:
    """Show the database's schema revision and whether it is up to date."""
    eng = engine(check=False)
    rev = migrate.current_revision(eng)
    head = migrate.head_revision()
    state = "up to date" if rev == head else ("not initialised" if rev is None else f"behind: newest is {head}")
    console.print(f"schema revision: {rev or '-'} ({state})")
