"""`servicepulse serve`: the web dashboard and the /api/v1 API in one process (uvicorn)."""

from __future__ import annotations

import logging
import socket

import typer
from sqlalchemy.engine import Engine

from servicepulse.app import create_app
from servicepulse.cli.app import app
from servicepulse.cli.context import console, engine
from servicepulse.errors import ConfigurationError
from servicepulse.jobs.worker import start_worker_thread
from servicepulse.settings import get_settings

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


def run_server(eng: Engine, host: str, port: int, banner: list[str] | None = None, worker: bool = True) -> None:
    """Build the app (which checks the schema), print where it runs, and serve until Ctrl+C."""
    import uvicorn  # only the server needs it; other commands start without it

    check_port_free(host, port)
    # Our own warnings and errors (e.g. a failed page, logged with its traceback) next to uvicorn's log.
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    web_app = create_app(eng, get_settings())
    console.print(f"servicepulse is running at [bold]{display_url(host, port)}[/] (stop with Ctrl+C)")
    for line in banner or []:
        console.print(line)
    # Background work (survey invitations, reminders, webhooks, rules) runs in this process
    # unless a separate `servicepulse worker` does it.
    job_worker = None
    if worker:
        job_worker = start_worker_thread(eng)
    try:
        uvicorn.run(web_app, host=host, port=port, log_level="info", server_header=False)
    finally:
        if job_worker is not None:
            job_worker.stop()


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
