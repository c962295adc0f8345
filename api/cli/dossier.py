"""Promotion dossiers: issue one (`dossier`) and check one offline (`verify-dossier`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from uuid import uuid4

import typer

from api.cli.audit import _own_public_key, _uuid, cli_container
from api.cli.signin import ROLES_HELP, checked_sub
from domain.access import Actor
from domain.application import Request
from domain.dossier.check import check_file, report
from domain.errors import DomainError, Forbidden
from domain.integrity import valid_public_key
from domain.values import PERSON_ID_RULE, Role, is_person_id
from infra.dossier.issue import Dossier, PersonDossier, issuer_of
from infra.private_files import open_private, open_private_binary


def dossier(
    agreement_id: Annotated[
        str | None,
        typer.Argument(help="The agreement's id: as GraphQL gives it, or its UUID."),
    ] = None,
    *,
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="The PDF to write (mode 0600: it holds personal data)."
        ),
    ],
    as_person: Annotated[
        str,
        typer.Option(
            "--as",
            help="Whom it is issued to (recorded in the audit log): the employee, their "
            "manager, or someone in HR.",
        ),
    ] = "crafting-cli",
    role: Annotated[
        list[Role] | None,
        typer.Option(metavar="<role>", help=f"{ROLES_HELP}; repeat for several (default HR)."),
    ] = None,
    html: Annotated[
        Path | None, typer.Option(help="Also write the dossier's HTML page here.")
    ] = None,
    person: Annotated[
        str | None,
        typer.Option(
            "--person",
            help="Instead of one agreement: every agreement of this person (directory id) "
            "that the dossier's receiver may see, in one PDF.",
        ),
    ] = None,
) -> None:
    """Issue a promotion dossier of an agreement (or of all of a person's) as a PDF that
    anyone can check offline (`crafting verify-dossier`); each agreement's issue is
    recorded in the audit log."""
    if (agreement_id is None) == (person is None):
        typer.echo("Give an agreement id or --person PERSON_ID (one of them).", err=True)
        raise typer.Exit(2)
    if person is not None and not is_person_id(person):
        typer.echo(f"--person must be a person id: {PERSON_ID_RULE}.", err=True)
        raise typer.Exit(2)
    actor = Actor(checked_sub(as_person), frozenset(role or [Role.HR]))
    request = Request(actor, f"cli-{uuid4()}")
    with cli_container() as c:
        c.prepare()
        try:
            if person is not None:
                issued: Dossier | PersonDossier = issuer_of(c).issue_person(request, person)
            else:
                issued = issuer_of(c).issue(request, _uuid(str(agreement_id)))
        except DomainError as error:
            typer.echo(error.message, err=True)
            raise typer.Exit(1) from None
        except Forbidden as error:
            typer.echo(str(error), err=True)
            raise typer.Exit(1) from None
    with open_private_binary(output) as out:
        out.write(issued.pdf)
    if html is not None:
        with open_private(html) as page:
            page.write(issued.html)
    if isinstance(issued, PersonDossier):
        typer.echo(
            f"Wrote the dossier of {issued.person_id}'s {len(issued.parts)} agreements "
            f"({', '.join(str(f['agreementId']) for f in issued.parts)}) to {output}. "
            f"Check it with: crafting verify-dossier {output} --public-key <key from "
            "`crafting keys`>"
        )
        return
    aid = issued.agreement_id
    v = issued.facts["verification"]
    typer.echo(
        f"Wrote the dossier of agreement {aid} (version {v['lastVersion']}, checkpoint at "
        f"position {v['checkpoint']['position']}) to {output}. Check it with: crafting "
        f"verify-dossier {output} --public-key <key from `crafting keys`>"
    )


def verify_dossier(
    file: Annotated[Path, typer.Argument(help="The dossier's PDF.")],
    public_key: Annotated[str | None, typer.Option(help="Base64 key (default: ours).")] = None,
) -> None:
    """Check a dossier offline: its embedded export verifies, and every fact it prints is
    exactly what that export says (names what differs)."""
    if public_key is None:
        with cli_container() as c:
            public_key = _own_public_key(c)
    if not valid_public_key(public_key):
        typer.echo("--public-key is not a base64 Ed25519 public key (`crafting keys`).", err=True)
        raise typer.Exit(2)
    if not file.is_file():
        typer.echo(f"No such file: {file}", err=True)
        raise typer.Exit(2)
    outcome = check_file(str(file), public_key)
    typer.echo(report(outcome), err=not outcome.ok)
    if not outcome.ok:
        raise typer.Exit(1)
