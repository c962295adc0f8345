"""`crafting login-link`: a single-use sign-in link for the web app (until OIDC), and
the links `crafting demo` prints for the people of the seed's story."""

from __future__ import annotations

from typing import Annotated

import typer

from api.web.sessions import mint_link
from domain.values import PERSON_ID_RULE, Role, is_person_id
from infra.public_address import public_url
from infra.secrets import MissingSecretError, jwt_secret
from infra.settings import Settings

# Who the demo's story is about (api.cli.demo): the tester, their manager, HR, and an
# auditor (roles live in tokens, so an auditor needs no directory entry).
DEMO_PEOPLE = (
    ("the tester", "sam-tester", [Role.EMPLOYEE]),
    ("their manager", "mgr-qa", [Role.MANAGER, Role.EMPLOYEE]),
    ("an auditor", "auditor-demo", [Role.AUDITOR]),
    ("HR", "hr-demo", [Role.HR]),
)


ROLES_HELP = f"A role: {', '.join(role.value for role in Role)}"


def checked_sub(sub: str) -> str:
    """`--sub` under the person-id rule, or exit 2 with the rule (nothing is minted)."""
    if not is_person_id(sub):
        typer.echo(f"crafting: --sub must be a person id: {PERSON_ID_RULE}.", err=True)
        raise typer.Exit(2)
    return sub


def link_for(settings: Settings, secret: str, sub: str, roles: list[Role]) -> str:
    return f"{public_url(settings).rstrip('/')}/login/{mint_link(secret, sub, roles)}"


def login_link(
    sub: Annotated[str, typer.Option(help="The person id to sign in as.")],
    role: Annotated[
        list[Role] | None,
        typer.Option(
            metavar="<role>", help=f"{ROLES_HELP}; repeat for several (default EMPLOYEE)."
        ),
    ] = None,
) -> None:
    """Print a sign-in link for the web app: it works once, for ten minutes."""
    sub = checked_sub(sub)
    settings = Settings()
    try:
        secret = jwt_secret(settings, create=False)
    except MissingSecretError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    typer.echo(link_for(settings, secret, sub, role or [Role.EMPLOYEE]))


def demo_links(settings: Settings, secret: str) -> list[str]:
    """One line per person of the demo's story: who, and their sign-in link."""
    return [
        f"Sign in as {label} ({sub}): {link_for(settings, secret, sub, roles)}"
        for label, sub, roles in DEMO_PEOPLE
    ]
