"""Auditor commands: checkpoint, verify, export, history, keys."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from api.graphql.errors import BadInputError
from api.graphql.ids import agreement_uuid
from domain.access import Actor
from domain.agreement import Agreement
from domain.errors import DomainError
from domain.integrity import Break, Verifier, read_anchors
from domain.values import Role
from infra import alarms, audit
from infra.bootstrap import Container, bootstrap
from infra.followers.read_models import current_position
from infra.private_files import open_private
from infra.secrets import new_master_key
from infra.signing import (
    MissingSigningKeyError,
    new_private_key,
    public_key_b64,
    signing_key,
    tag_key,
)
from projections.name_index import NameIndex, index_key

AUDITOR = Actor("crafting-cli", frozenset({Role.AUDITOR}))


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr, fed with (done, total)."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


@contextmanager
def cli_container() -> Iterator[Container]:
    container = bootstrap()
    try:
        container.migrate()
        yield container
    finally:
        container.close()


def checkpoint(
    publish: Annotated[
        Path | None,
        typer.Option(
            help="Also append the latest checkpoint to this file, kept outside the database "
            "(e.g. on write-once storage): `verify --anchors` then notices a removed tail."
        ),
    ] = None,
) -> None:
    """Sign a checkpoint over the log now."""
    with cli_container() as c:
        try:
            key = signing_key(c.settings)
        except MissingSigningKeyError as error:
            typer.echo(str(error), err=True)
            raise typer.Exit(2) from None
        signed = audit.sign_checkpoint(c.store, key)
        latest = c.store.checkpoints()[-1:] if publish is not None else []
    if signed is None:
        typer.echo("Nothing new since the last checkpoint.")
    else:
        typer.echo(
            f"Checkpoint at position {signed.position}: {signed.size} events, root {signed.root}"
        )
    if publish is not None and latest:
        with publish.open("a", encoding="utf-8") as out:
            out.write(audit.checkpoint_line(latest[0]))
        typer.echo(f"Published the checkpoint at position {latest[0].position} to {publish}.")


def verify(
    public_key: Annotated[str | None, typer.Option(help="Base64 key (default: ours).")] = None,
    anchors: Annotated[
        Path | None,
        typer.Option(help="Checkpoints published with `checkpoint --publish`: each must remain."),
    ] = None,
    read_models: Annotated[
        bool,
        typer.Option(
            "--read-models",
            help="Also rebuild the read models into scratch tables and compare them with the "
            "live ones (differences by agreement and column; the scratch tables are dropped).",
        ),
    ] = False,
) -> None:
    """Walk the whole store: hash chains, checkpoint roots and signatures; then every
    snapshot (its tag, and its state re-derived from the events) and every data key
    (missing only for people erased, the rest unwrap)."""
    differences: list[audit.Difference] = []
    with cli_container() as c:
        key = public_key or _own_public_key(c)
        with progress_bar("Verifying") as advance:
            published = read_anchors(anchors.read_text("utf-8").splitlines()) if anchors else []
            result = audit.verify_store(c.store, key, advance, published, _events_key(c))
        snapshots, bad = audit.verify_snapshots(c.app, c.engines.reader)
        keys_checked, key_problems = audit.verify_keys(c.store, c.keys.store)
        record_alarms(c, key_problems, result.first_break)
        if read_models:
            compared = _compare_read_models(c)
            differences = compared.differences
    for problem in bad:
        typer.echo(
            f"SNAPSHOT NOT TRUSTED ({problem.kind}): agreement {problem.agreement_id} at "
            f"version {problem.version} (the service ignores it and replays the events)",
            err=True,
        )
    for key_problem in key_problems:
        typer.echo(key_problem.describe(), err=True)
    for difference in differences[:SHOWN]:
        typer.echo(difference.describe(), err=True)
    if len(differences) > SHOWN:
        typer.echo(f"… and {len(differences) - SHOWN} more read-model differences.", err=True)
    _report(result)
    if bad or key_problems or differences:
        raise typer.Exit(1)
    if snapshots:
        typer.echo(f"OK: {counted(snapshots, 'snapshot')} match the events.")
    else:
        typer.echo("OK: no snapshots to check yet (they are taken as agreements grow).")
    typer.echo(f"OK: {keys_checked} data keys: every missing one was erased, the rest unwrap.")
    if read_models:
        typer.echo(
            f"OK: the read models match the events up to position {compared.position} "
            f"({compared.rows} rows compared)."
        )


SHOWN = 50  # differences printed; all are counted


def _compare_read_models(c: Container) -> audit.ReadModelReport:
    """Rebuild into scratch tables and compare; each agreement that differs becomes an
    alarm (by agreement id: no personal data)."""
    c.prepare()  # the live tables exist and are of this release
    typer.echo("Rebuilding the read models into scratch tables to compare…", err=True)
    compared = audit.verify_read_models(
        c.engines.writer,
        c.app.recorder,
        c.app.tagging_mapper.keeping_sealed(),  # as the projector reads events
        current_position,
        # The insights' kept hashes are compared too: the projector's key and opener.
        names=NameIndex(index_key(c.keys.store.master_key), c.keys.open),
    )
    about = sorted({d.agreement_id or f"{d.table} {d.key}" for d in compared.differences})
    if about:
        with c.engines.writer.begin() as conn:
            for subject in about[:SHOWN]:
                alarms.raise_alarm(
                    conn,
                    "read_model.differs",
                    subject if " " in subject else f"agreement {subject}",
                    f"The read models of {subject} differ from what the events give (found "
                    "by `crafting verify --read-models`): run `crafting rebuild`.",
                )
    return compared


def export(
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="The .jsonl file to write (mode 0600: it holds personal data)."
        ),
    ],
    agreement: Annotated[str | None, typer.Option(help="Only this agreement.")] = None,
    since: Annotated[
        datetime | None,
        typer.Option(help="Recorded at or after: 2026-11-24 or 2026-11-24T10:00:00Z (UTC)."),
    ] = None,
    until: Annotated[
        datetime | None, typer.Option(help="Recorded before: same form as --since.")
    ] = None,
) -> None:
    """Export events and checkpoints as JSON Lines (streamed, constant memory)."""
    stream = _uuid(agreement) if agreement else None
    with (
        cli_container() as c,
        open_private(output) as out,  # opened personal data: the owner's only
        progress_bar("Exporting") as advance,
    ):
        written = audit.export(
            c.store,
            out,
            stream=stream,
            since=_utc(since),
            until=_utc(until),
            progress=advance,
            keys=c.keys,
        )
    typer.echo(
        f"Wrote {written} events to {output}. Verify it with: python "
        f"domain/integrity.py {output} --public-key <key from `crafting keys`>"
    )


def history(
    agreement_id: Annotated[
        str, typer.Argument(help="The agreement's id: as GraphQL gives it, or its UUID.")
    ],
    at: Annotated[
        datetime | None,
        typer.Option(help="State at this instant: 2026-11-24T10:00:00Z (UTC without a zone)."),
    ] = None,
    version: Annotated[int | None, typer.Option(help="State at this version.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Print an agreement's timeline and its state at a version or instant."""
    aid = _uuid(agreement_id)
    with cli_container() as c:
        try:
            events = c.app.history(aid)
            state = c.app.agreement_at(AUDITOR, aid, version, _utc(at) or None)
        except DomainError as error:
            typer.echo(error.message, err=True)
            raise typer.Exit(1) from None
    timeline = [
        {
            "version": e.originator_version,
            "recordedAt": e.timestamp.isoformat(),
            "type": type(e).__name__,
            "actorId": e.actor_id,
            "actorRole": e.actor_role,
            "reason": e.reason,
        }
        for e in events
    ]
    if as_json:
        typer.echo(json.dumps({"timeline": timeline, "state": _state(state)}, indent=2))
        return
    table = Table(title=f"Agreement {aid}")
    table.add_column("version", no_wrap=True)
    # The instant whole, to the second (20 characters), even at 80 columns; ids and
    # event names whole too (a cut id names nobody): only the reason wraps.
    table.add_column("recorded at (UTC)", no_wrap=True, min_width=20)
    for column, key in (("event", "type"), ("actor", "actorId"), ("role", "actorRole")):
        widest = max([len(column), *(len(str(t[key])) for t in timeline)])
        table.add_column(column, no_wrap=True, min_width=widest)
    table.add_column("reason", overflow="fold")
    for t in timeline:
        marker = "▶ " if t["version"] == state.version else ""
        table.add_row(
            f"{marker}{t['version']}",
            _instant(t["recordedAt"]),
            str(t["type"]),
            str(t["actorId"]),
            str(t["actorRole"]),
            str(t["reason"] or ""),
        )
    console = Console()
    console.print(table)
    console.print_json(json.dumps(_state(state)))


def keys(
    new: Annotated[bool, typer.Option("--new", help="Print a fresh private key.")] = False,
    new_master: Annotated[
        bool, typer.Option("--new-master", help="Print a fresh master key (CRAFTING_MASTER_KEY).")
    ] = False,
) -> None:
    """Print the public key auditors verify checkpoints with (or make a new key)."""
    if new_master:
        typer.echo(new_master_key())
        return
    if new:
        typer.echo(new_private_key())
        return
    with cli_container() as c:
        typer.echo(_own_public_key(c))


def record_alarms(
    c: Container, problems: list[audit.KeyProblem], found: Break | None = None
) -> None:
    """Raise what verify found as alarms (kept in the database: every process shows
    them, and the integrity badge those about its agreement); keys named by key id,
    never by the person."""
    if not problems and found is None:
        return
    c.migrate()  # the alarms table exists
    with c.engines.writer.begin() as conn:
        if found is not None:
            where = "checkpoint" if found.stream is None else "position"
            alarms.raise_alarm(
                conn,
                "integrity.break",
                f"{where} {found.position}",
                found.describe() + " (found by `crafting verify`)",
            )
        for problem in problems:
            alarms.raise_alarm(
                conn,
                f"key.{problem.kind.removeprefix('KEY_').lower()}",
                f"data key {problem.key_id}",
                problem.kind + ": found by `crafting verify`; run it for the person concerned",
            )


def _events_key(c: Container) -> bytes | None:
    """The key events are tagged with, when this process holds the signing key."""
    try:
        return tag_key(signing_key(c.settings), "events")
    except MissingSigningKeyError:
        return None


def _own_public_key(c: Container) -> str:
    try:
        return public_key_b64(signing_key(c.settings))
    except MissingSigningKeyError:
        typer.echo(
            "No CRAFTING_SIGNING_KEY here: pass the public key to check against with "
            "--public-key (`crafting keys` prints it where the service runs).",
            err=True,
        )
        raise typer.Exit(2) from None


def counted(number: int, noun: str) -> str:
    """`1 checkpoint`, `2 checkpoints`: the number with its noun in the right number."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _report(result: Verifier) -> None:
    if result.first_break is None:
        typer.echo(
            f"OK: {counted(result.events, 'event')} in {counted(len(result.heads), 'stream')} "
            f"and {counted(result.checkpoints, 'checkpoint')} verified."
        )
        return
    typer.echo(result.first_break.describe(), err=True)
    raise typer.Exit(1)


def _state(a: Agreement) -> dict[str, Any]:
    from projections.payload import camel_json

    return {
        "version": a.version,
        "status": a.status.value,
        "title": a.title,
        "employeeId": a.employee_id,
        "careerGoal": camel_json(a.career_goal),
        "guardrails": camel_json(a.guardrails),
        "developmentHoursPerWeek": a.development_hours(),
        "adjustments": [camel_json(x) for x in a.adjustments.values()],
        "reallocations": [camel_json(x) for x in a.reallocations.values()],
        "reviews": [camel_json(x) for x in a.reviews],
        "artifacts": [camel_json(x) for x in a.artifacts],
    }


def _uuid(value: str) -> UUID:
    """An agreement id as GraphQL gives it (the global id) or as a bare UUID."""
    try:
        return agreement_uuid(value)
    except BadInputError:
        typer.echo(f"Not an agreement id (a GraphQL id or a UUID): {value}", err=True)
        raise typer.Exit(2) from None


def _instant(value: object) -> str:
    text = str(value)
    try:
        return datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return text


def _utc(value: datetime | None) -> datetime | None:
    from datetime import UTC

    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
