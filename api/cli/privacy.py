"""`crafting erase` and `crafting retention`: erasure from the command line, recorded
like HR's own through the application (the same command, rules and key destruction)."""

from __future__ import annotations

import getpass
from typing import Annotated
from uuid import UUID, uuid4

import typer

from api.cli.audit import cli_container
from domain.access import Actor
from domain.application import Request
from domain.application import commands as c
from domain.errors import DomainError
from domain.sealing import KeysUnavailable
from domain.values import Role, is_person_id
from infra.retention import destroy_keys_of_erased, erase_past_retention
from projections import queries as q


def erase(
    person_id: Annotated[str, typer.Argument(help="The person's HRIS id.")],
    reason: Annotated[
        str,
        typer.Option(
            help="Why (e.g. the request's reference). It stays readable in the audit log "
            "after the erasure: write no personal data in it."
        ),
    ],
) -> None:
    """Erase a person: their data key is destroyed with the event that records it, and
    what was theirs reads "[erased]" everywhere; the history still verifies."""
    user = f"cli:{getpass.getuser()}"
    # The operator's login name as the actor, when it is an id we record ("cli" if not).
    actor = Actor(user if is_person_id(user) else "cli", frozenset({Role.HR}))
    with cli_container() as container:
        try:
            container.app.execute(
                Request(actor, f"cli-{uuid4()}"), c.ErasePerson(person_id=person_id, reason=reason)
            )
        except DomainError as error:
            typer.echo(f"Not erased ({error.code}): {error.message}", err=True)
            raise typer.Exit(1) from None
        except KeysUnavailable as error:
            typer.echo(f"Not erased: {error}", err=True)
            raise typer.Exit(1) from None
        with container.engines.reader.connect() as conn:
            ids = q.agreement_ids_of(conn, q.live_read_model(conn), person_id)
        in_clear = container.app.events_in_clear(person_id, [UUID(i) for i in ids])
    typer.echo(f"Erased {person_id}: their data key is destroyed.")
    if in_clear:
        typer.echo(
            f"{in_clear} of their events were recorded before personal data was sealed: "
            "they read as erased everywhere, but their text remains in the event store."
        )


def retention() -> None:
    """Erase everyone inactive for longer than CRAFTING_RETENTION_DAYS_AFTER_LEAVING
    (for cron; the projector and serve on SQLite also run it hourly)."""
    with cli_container() as container:
        if container.settings.keys.keystore_url is not None:
            checked = destroy_keys_of_erased(container)
            typer.echo(f"Checked that the keys of {checked} erased people are destroyed.")
        if container.settings.retention.days_after_leaving is None:
            typer.echo("CRAFTING_RETENTION_DAYS_AFTER_LEAVING is not set: nobody to erase.")
            return
        run = erase_past_retention(container)
    typer.echo(f"Erased {len(run.erased)} people past the retention window.")
    for person_id, why in run.refused.items():
        typer.echo(f"Not erased {person_id}: {why}", err=True)
