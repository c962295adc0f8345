"""Sign-in by e-mail mails nobody when the address names several people: an address must
name one person (the directory lookup answers AMBIGUOUS), so no link is minted for it."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from api.http.claim_mapping import AMBIGUOUS, Ambiguous
from api.web.email_signin import EmailSignIn
from domain.values import Role


class Notices:
    def __init__(self) -> None:
        self.mailed: list[str] = []

    def mail_sign_in_link(self, person: str, link_for: Callable[[list[Role]], str]) -> None:
        self.mailed.append(person)


def _sign_in(found: str | Ambiguous | None) -> tuple[EmailSignIn, Notices]:
    notices = Notices()
    site: Any = SimpleNamespace(
        secret="s" * 32, public_url="http://crafting.test", ports=SimpleNamespace(notices=notices)
    )
    return EmailSignIn(site, lambda _address: found), notices  # type: ignore[arg-type]


@pytest.mark.parametrize(("found", "mailed"), [(AMBIGUOUS, []), (None, []), ("sam", ["sam"])])
def test_a_link_goes_only_to_the_one_person_an_address_names(
    found: str | Ambiguous | None, mailed: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    sign_in, notices = _sign_in(found)
    try:
        sign_in._send("shared@example.com")
    finally:
        sign_in.mailer.shutdown()
    assert notices.mailed == mailed
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
