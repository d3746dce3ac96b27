"""The Typer application and its command groups. Commands live in sibling modules."""

import typer

from servicepulse.registry import install_job_handlers

app = typer.Typer(
    name="servicepulse",
    help="servicepulse: customer-experience management for service organisations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Create and migrate the database.", no_args_is_help=True)
user_app = typer.Typer(help="Manage users who log in to the dashboard.", no_args_is_help=True)
apikey_app = typer.Typer(help="Manage API keys for /api/v1.", no_args_is_help=True)
import_app = typer.Typer(help="Import data from files (events, responses).", no_args_is_help=True)
log_app = typer.Typer(help="Inspect case event logs.", no_args_is_help=True)
forecast_app = typer.Typer(help="Resolution-time forecasts for open cases.", no_args_is_help=True)
analytics_app = typer.Typer(help="The optional ClickHouse analytics store: rebuild, ship, status, DDL.",
                            no_args_is_help=True)



@app.callback()
def _install_job_handlers() -> None:
    # Any command may run or queue jobs (imports queue them; demo and alerts run them).
    install_job_handlers()


app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(apikey_app, name="apikey")
app.add_typer(import_app, name="import")
app.add_typer(log_app, name="log")
app.add_typer(forecast_app, name="forecast")
app.add_typer(analytics_app, name="analytics")
