"""`crafting quarantine` and `crafting alarms`: what the log's followers set aside or
raised, listed and resolved by an operator."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated

import typer

from api.cli.audit import cli_container
from infra.alarms import open_alarms, resolve_alarm
from infra.bootstrap import Container
from infra.deployment import FOLLOWERS
from infra.followers import Follower, quarantine
from infra.followers.resolution import NotRetried, acknowledge, retry

quarantine_cli = typer.Typer(
    help="Events a follower of the log could not process and went past.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
alarms_cli = typer.Typer(
    help="Open alarms (also in /readyz and /metrics).", no_args_is_help=True, rich_markup_mode=None
)
FollowerName = Annotated[str, typer.Argument(help="The follower: projector, webhooks, …")]
Position = Annotated[int, typer.Argument(min=1, help="The event's log position.")]


def _at(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


@quarantine_cli.command("list")
def list_quarantined(
    everything: Annotated[bool, typer.Option("--all", help="Resolved ones too.")] = False,
) -> None:
    """List quarantined events (follower, position, event, error)."""
    with _container() as container, container.engines.reader.connect() as conn:
        found = quarantine.listed(conn, include_resolved=everything)
    if not found:
        typer.echo("No quarantined events.")
        return
    for q in found:
        state = f"{q.resolution} by {q.resolved_by}" if q.resolved_at else "OPEN"
        typer.echo(
            f"{q.follower}\tposition {q.position}\t{q.event_id}\t{q.topic.rsplit('.', 1)[-1]}"
            f"\t{_at(q.quarantined_at)}\t{state}\t{q.error}"
        )


@quarantine_cli.command("retry")
def retry_quarantined(follower: FollowerName, position: Position) -> None:
    """Apply a quarantined event now (after a fix); it stays quarantined if it fails."""
    with _container() as container:
        try:
            retry(_follower(container, follower), position, f"cli:{getpass.getuser()}")
        except NotRetried as error:
            typer.echo(f"Not retried: {error}", err=True)
            raise typer.Exit(1) from None
    typer.echo(f"Applied the event at position {position} for {follower}.")


@quarantine_cli.command("acknowledge")
def acknowledge_quarantined(
    follower: FollowerName,
    position: Position,
    note: Annotated[str, typer.Option(help="Why it needs no retry.")],
) -> None:
    """Resolve a quarantined event without applying it."""
    with _container() as container:
        done = acknowledge(
            _follower(container, follower), position, f"cli:{getpass.getuser()}", note
        )
    if not done:
        typer.echo(f"Nothing quarantined for {follower} at position {position}.", err=True)
        raise typer.Exit(1)
    typer.echo(f"Acknowledged the event at position {position} for {follower}.")


def _follower(container: Container, name: str) -> Follower:
    role = next((r for r in FOLLOWERS if r.name == name), None)
    if role is None or not role.enabled(container):
        names = ", ".join(r.name for r in FOLLOWERS if r.enabled(container))
        typer.echo(f"No follower {name!r} here (followers: {names}).", err=True)
        raise typer.Exit(2)
    return role.build(container)


@contextmanager
def _container() -> Iterator[Container]:
    with cli_container() as container:  # migrated: the followers' and alarms' tables exist
        yield container


@alarms_cli.command("list")
def list_alarms() -> None:
    """List open alarms (kind, subject, raised, detail)."""
    with _container() as container, container.engines.reader.connect() as conn:
        found = open_alarms(conn)
    if not found:
        typer.echo("No open alarms.")
        return
    for alarm in found:
        typer.echo(f"{alarm.kind}\t{alarm.subject}\t{_at(alarm.raised_at)}\t{alarm.detail}")


@alarms_cli.command("resolve")
def resolve(
    kind: Annotated[str, typer.Argument(help="The alarm's kind, as listed.")],
    subject: Annotated[str, typer.Argument(help="Its subject, as listed.")],
    note: Annotated[str, typer.Option(help="What was done about it.")],
) -> None:
    """Close an open alarm, saying what was done."""
    with _container() as container, container.engines.writer.begin() as conn:
        done = resolve_alarm(conn, kind, subject, f"cli:{getpass.getuser()}", note)
    if not done:
        typer.echo(f"No open alarm {kind} for {subject!r}.", err=True)
        raise typer.Exit(1)
    typer.echo(f"Resolved {kind} for {subject!r}.")
