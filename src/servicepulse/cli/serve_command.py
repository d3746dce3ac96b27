"""`servicepulse serve`: the web dashboard and the /api/v1 API in one process (uvicorn)."""

from __future__ import annotations

import ipaddress
import socket

import typer
from sqlalchemy.engine import Engine

from servicepulse.app import create_app
from servicepulse.cli.app import app
from servicepulse.cli.context import console, engine
from servicepulse.errors import ConfigurationError
from servicepulse.http.access_log import server_log_config
from servicepulse.jobs.worker import start_worker_thread
from servicepulse.settings import Settings, get_settings

HOST_HELP = "Address to listen on. 127.0.0.1 (the default) is reachable from this computer only; 0.0.0.0 from the network."
PORT_HELP = "Port to listen on."


def check_port_free(host: str, port: int) -> None:
    """Fail with one clear line instead of uvicorn's log when the port is taken or the host is wrong."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise ConfigurationError(f"cannot listen on host {host!r}: it is not a known address of this computer") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise ConfigurationError(f"cannot listen on {host}:{port} ({exc.strerror}): "
                                     "is another server running there? Choose another port with --port") from None


def display_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def trusted_proxies(settings: Settings) -> list[str]:
    """SERVICEPULSE_TRUSTED_PROXIES as a list, each entry checked: an address, a network, or "*" (any)."""
    entries = [entry.strip() for entry in settings.trusted_proxies.split(",") if entry.strip()]
    for entry in entries:
        if entry == "*":
            continue
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ConfigurationError(f"SERVICEPULSE_TRUSTED_PROXIES: {entry!r} is not an IP address or network "
                                     "(for example 10.0.0.5 or 10.0.0.0/24)") from None
    return entries


def server_config(web_app, settings: Settings, host: str, port: int):
    """The uvicorn configuration `serve` runs with (a function, so that tests check it without serving)."""
    import uvicorn  # only the server needs it; other commands start without it

    proxies = trusted_proxies(settings)
    return uvicorn.Config(
        web_app, host=host, port=port, log_level="info", server_header=False,
        # uvicorn by default believes X-Forwarded-For from 127.0.0.1, which lets any local client choose the
        # address our per-address limits count; only configured proxies are believed.
        proxy_headers=bool(proxies), forwarded_allow_ips=proxies or None,
        # uvicorn's log and ours, with survey tokens taken out of every line (servicepulse.http.access_log).
        log_config=server_log_config(),
    )


def run_server(eng: Engine, host: str, port: int, banner: list[str] | None = None, worker: bool = True) -> None:
    """Build the app (which checks the schema), print where it runs, and serve until Ctrl+C."""
    import uvicorn

    check_port_free(host, port)
    settings = get_settings()
    web_app = create_app(eng, settings)
    server = uvicorn.Server(server_config(web_app, settings, host, port))  # also sets up logging
    console.print(f"servicepulse is running at [bold]{display_url(host, port)}[/] (stop with Ctrl+C)")
    for line in banner or []:
        console.print(line)
    # Background work (survey invitations, reminders, webhooks, rules) runs in this process
    # unless a separate `servicepulse worker` does it.
    job_worker = None
    if worker:
        job_worker = start_worker_thread(eng)
    try:
        server.run()
    except KeyboardInterrupt:
        pass  # Ctrl+C: uvicorn has already shut down; it re-raises the signal afterwards
    finally:
        if job_worker is not None:
            job_worker.stop()
    if not server.started:
        raise ConfigurationError(f"the server did not start on {host}:{port}: see the log above")


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help=HOST_HELP),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help=PORT_HELP),
    worker: bool = typer.Option(True, "--worker/--no-worker",
                                help="Run the background job worker in this process (turn off when `servicepulse worker` runs separately)."),
) -> None:
    """Start the web dashboard and the API.

    The database must be migrated first (`servicepulse db upgrade`). The
    address is printed; open it in a browser and log in with a user made by
    `servicepulse user create`.
    """
    run_server(engine(), host, port, worker=worker)
