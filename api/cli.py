"""The `crafting` command line (SPEC section 5)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
import uvicorn

from api.auth import mint_token
from domain.values import Role
from infra.secrets import MissingSecretError, jwt_secret
from infra.settings import Settings

cli = typer.Typer(help="Job-crafting agreements: an event-sourced service.", no_args_is_help=True)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Serve the HTTP API (on SQLite it also runs the projections)."""
    settings = Settings()
    jwt_secret(settings, create=True)  # fail fast, and create it once before workers fork
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level.lower(),
    )


@cli.command()
def token(
    sub: Annotated[str, typer.Option(help="The caller's person id or integration name.")],
    role: Annotated[list[Role], typer.Option(help="A role; repeat for several.")],
    hours: Annotated[float, typer.Option(min=0.01, max=24 * 365, help="Validity.")] = 12,
) -> None:
    """Mint a token with the configured secret."""
    try:
        secret = jwt_secret(Settings(), create=False)
    except MissingSecretError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    typer.echo(mint_token(secret, sub, role, timedelta(hours=hours)))


def main() -> None:
    """Entry point of the `crafting` script."""
    cli()
