"""The `crafting` command line (SPEC section 5)."""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated

import typer
import uvicorn
from pydantic import ValidationError
from uvicorn.config import STARTUP_FAILURE

from api.cli import audit as cli_audit
from api.cli import dossier as cli_dossier
from api.cli import operations as cli_operations
from api.cli import privacy as cli_privacy
from api.cli import schema as cli_schema
from api.cli import workers as cli_workers
from api.cli.demo import load_demo
from api.cli.signin import ROLES_HELP, checked_sub, demo_links, login_link
from api.http.auth import mint_token
from domain.values import Role
from infra import deployment, public_address
from infra.bootstrap import bootstrap
from infra.database import DatabaseUnavailableError, masked_url, replica_name
from infra.runtime import SUPERVISOR_PID_VARIABLE
from infra.secrets import MissingSecretError, jwt_secret
from infra.settings import Settings


def _environment_help() -> str:
    database = os.environ.get("CRAFTING_DATABASE_URL") or "sqlite:///./crafting.db"
    return (
        f"Database: {masked_url(database)} (CRAFTING_DATABASE_URL). Other settings come "
        "from the environment too: CRAFTING_JWT_SECRET, CRAFTING_SIGNING_KEY, "
        "CRAFTING_MASTER_KEY (required on PostgreSQL), CRAFTING_PUBLIC_URL (the base of "
        "sign-in links), CRAFTING_DEV, CRAFTING_DB_POOL_SIZE, CRAFTING_LOG_LEVEL, … "
        "(README: Configuration)."
    )


ENVIRONMENT = _environment_help()
# Plain click help: flags as flags (`--json`, not `--json <bool>`).
cli = typer.Typer(
    help="Job-crafting agreements: an event-sourced service.",
    epilog=ENVIRONMENT,
    no_args_is_help=True,
    rich_markup_mode=None,
)


def public_url_of(host: str, port: int) -> str:
    """The web app's address as `serve`'s bind gives it (a wildcard bind: this host's
    name)."""
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - naming the wildcard, not binding it
        host = socket.gethostname()
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


@cli.command(epilog=ENVIRONMENT)
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Serve the HTTP API (on SQLite it also runs the projections)."""
    # Links in e-mails and sign-in links point here unless CRAFTING_PUBLIC_URL says
    # otherwise (a proxy in front, another name); the workers inherit it.
    os.environ.setdefault("CRAFTING_PUBLIC_URL", public_url_of(host, port))
    settings = Settings()
    jwt_secret(settings, create=True)  # fail fast, and create it once before workers fork
    public_address.remember(settings)  # for `crafting login-link` in another terminal
    container = bootstrap(settings)
    try:  # tables and rebuilds once, here, rather than in every worker at the same time
        container.prepare(_progress_printer("Rebuilding read models"))
    finally:
        container.close()
    here = ", ".join(role.name for role in deployment.roles_for("serve", container))
    _announce("serve", settings, f"followers here: {here}" if here else "run `crafting projector`")
    if workers > 1:  # the workers stop when this process dies (infra.runtime)
        os.environ[SUPERVISOR_PID_VARIABLE] = str(os.getpid())
    config = uvicorn.Config(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level.lower(),
    )
    if workers > 1:  # a supervisor patient with starting workers (api/cli/workers.py)
        cli_workers.run(config)
    else:
        server = uvicorn.Server(config)
        server.run()
        if not server.started:  # as uvicorn.run: the app could not start
            raise SystemExit(STARTUP_FAILURE)


@cli.command(epilog=ENVIRONMENT)
def projector() -> None:
    """Run the read models' projector, the checkpoint follower and retention only (a
    separate worker; several may run, one leads each)."""
    _follow("projector", "projections run here")


@cli.command(epilog=ENVIRONMENT)
def webhooks() -> None:
    """Deliver webhooks and e-mail notifications only (a separate worker; several may
    run, one leads)."""
    _follow("webhooks", "webhooks and notifications are delivered here")


def _follow(command: str, what: str) -> None:
    """Run the followers of `command` (infra.deployment) until SIGTERM or SIGINT."""
    container = bootstrap()
    container.prepare(_progress_printer("Rebuilding read models"))
    _announce(command, container.settings, what)
    running = deployment.start(command, container)

    def stop(*_: object) -> None:
        for follower in running.followers:
            follower.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        running.wait()
    finally:
        running.stop()
        container.close()


@cli.command(epilog=ENVIRONMENT)
def rebuild() -> None:
    """Rebuild the read models from the events into fresh tables, then switch to them."""
    container = bootstrap()
    try:
        container.prepare()
        with cli_audit.progress_bar("Rebuilding read models") as advance:
            applied = container.rebuild(advance)
        typer.echo(f"Rebuilt the read models from {applied} events.")
    finally:
        container.close()


def _announce(command: str, settings: Settings, projections: str) -> None:
    mode = "development mode" if settings.dev else "production mode"
    # Only serve reads from replicas (the followers and commands use the primary).
    replicas = settings.database.replica_urls if command == "serve" else []
    reads = f", reads from replicas {', '.join(map(replica_name, replicas))}" if replicas else ""
    typer.echo(
        f"crafting {command}: {masked_url(settings.database.url)}, {mode}, {projections}{reads}",
        err=True,
    )


def _progress_printer(label: str) -> Callable[[int, int], None]:
    def show(done: int, total: int) -> None:
        typer.echo(f"{label}: {done}/{total}", err=True)

    return show


@cli.command(epilog=ENVIRONMENT)
def demo() -> None:
    """Load a realistic sample organisation and agreements."""
    container = bootstrap()
    try:
        container.prepare()
        load_demo(container.app, typer.echo)
        container.projector.catch_up()
    finally:
        container.close()
    # Created if missing, as `serve` would: the links must work once it starts.
    secret = jwt_secret(container.settings, create=True)
    typer.echo("Web app (after `crafting serve`), each link works once for ten minutes:")
    for line in demo_links(container.settings, secret):
        typer.echo(line)


@cli.command(epilog=ENVIRONMENT)
def token(
    sub: Annotated[str, typer.Option(help="The caller's person id or integration name.")],
    role: Annotated[
        list[Role], typer.Option(metavar="<role>", help=f"{ROLES_HELP}; repeat for several.")
    ],
    hours: Annotated[float, typer.Option(min=0.01, max=24 * 365, help="Validity.")] = 12,
) -> None:
    """Mint a token with the configured secret."""
    sub = checked_sub(sub)
    try:
        secret = jwt_secret(Settings(), create=False)
    except MissingSecretError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    typer.echo(mint_token(secret, sub, role, timedelta(hours=hours)))


cli.add_typer(cli_operations.quarantine_cli, name="quarantine")
cli.add_typer(cli_operations.alarms_cli, name="alarms")
for command in (
    cli_audit.checkpoint,
    cli_audit.verify,
    cli_audit.export,
    cli_audit.history,
    cli_audit.keys,
    cli_dossier.dossier,
    cli_dossier.verify_dossier,
    cli_privacy.erase,
    cli_privacy.retention,
    cli_schema.migrate,
    login_link,
):
    cli.command(epilog=ENVIRONMENT)(command)


def main() -> None:
    """Entry point of the `crafting` script."""
    try:
        cli(standalone_mode=True)
    except DatabaseUnavailableError as error:
        typer.echo(f"crafting: {error}", err=True)
        raise SystemExit(1) from None
    except MissingSecretError as error:  # e.g. no CRAFTING_MASTER_KEY on PostgreSQL
        typer.echo(f"crafting: {error}", err=True)
        raise SystemExit(2) from None
    except ValidationError as error:  # settings; the values are never shown
        names = Settings.flat_names()
        for problem in error.errors():
            # The variable's flat name (the last part of where the error is); an error
            # about a whole group names its variables itself.
            where = str(problem["loc"][-1]) if problem["loc"] else ""
            name = f"CRAFTING_{where.upper()}: " if where in names else ""
            typer.echo(f"crafting: configuration: {name}{problem['msg']}", err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
