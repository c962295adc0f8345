"""Malformed input at every front door gets a clear refusal, never a 500 (both
databases): GraphQL bodies that are not a JSON object, cursors and numbers beyond 64
bits, digits `int` cannot read ("²" passes `str.isdigit`), and NUL in addresses."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest

from api.graphql.ids import agreement_uuid
from domain.values import Role
from tests.conftest import postgres_schema_url
from tests.e2e.conftest import Api, serving
from tests.e2e.web import CONFIRMED, hidden_fields, sign_in
from tests.e2e.world import World

HUGE = "99999999999999999999999"  # beyond 64 bits
SUPERSCRIPT = "²"  # str.isdigit() is True, int() refuses it
SCIM_HEADERS = {"Content-Type": "application/scim+json"}


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One service per database for the whole module: each case only reads or is refused."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('bad-input')}/crafting.db"
    else:
        url = postgres_schema_url(request.getfixturevalue("postgres_database_url"))
    with serving(url) as served:
        yield served


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "body",
    [
        b'"x"',
        b"null",
        b"42",
        b"\xff\xfe{}",
        b"[" * 100_000,
        b'{"query": "{ __typename }", "operationName": 5}',
    ],
    ids=["string", "null", "number", "invalid-utf8", "deep-nesting", "operation-name"],
)
def test_a_graphql_body_that_is_not_an_operation_is_a_400(api: Api, body: bytes) -> None:
    token = api.token(f"hr-{uuid4().hex[:6]}", Role.HR)
    response = api.client.post(
        "/graphql",
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text


LISTS = {
    "changes": ("changes", "changes(after: $a) { edges { cursor } }"),
    "agreements": ("agreements", "agreements(after: $a) { edges { cursor } }"),
    "auditLog": ("audit", "auditLog(after: $a) { edges { cursor } }"),
    "webhookSubscriptions": (
        "webhookSubscriptions",
        "webhookSubscriptions(after: $a) { edges { cursor } }",
    ),
    "reviewsDue": (
        "reviewsDue|2026-01-01",
        'reviewsDue(before: "2030-01-01", after: $a) { edges { cursor } }',
    ),
}


@pytest.mark.parametrize("position", [HUGE, str(2**63), SUPERSCRIPT, "-1", "1e3", " 7"])
@pytest.mark.parametrize("field", sorted(LISTS))
def test_a_cursor_beyond_64_bits_or_not_in_ascii_digits_is_bad_user_input(
    api: Api, field: str, position: str
) -> None:
    kind, selection = LISTS[field]
    token = api.token(f"hr-{uuid4().hex[:6]}", Role.HR)
    body = api.gql(token, f"query($a: String) {{ {selection} }}", a=_cursor(f"{kind}|{position}"))
    assert [e["extensions"].get("code") for e in body["errors"]] == ["BAD_USER_INPUT"], body


def test_the_largest_64_bit_cursor_is_an_empty_page(api: Api) -> None:
    token = api.token(f"hr-{uuid4().hex[:6]}", Role.HR)
    data = api.data(
        token,
        "query($a: String) { changes(after: $a) { edges { cursor } } }",
        a=_cursor(f"changes|{2**63 - 1}"),
    )
    assert data["changes"]["edges"] == []


class Web:
    """A manager signed in to the web app, with an active agreement of a report."""

    def __init__(self, api: Api) -> None:
        self.api, self.world = api, World(api)
        self.aid = str(agreement_uuid(self.world.active()["id"]))
        self.world.sync()
        self.client = sign_in(
            api.client, api.secret, self.world.ids["mgr"], Role.MANAGER, Role.EMPLOYEE
        )
        self.hr = sign_in(api.client, api.secret, self.world.ids["hr"], Role.HR)

    def form(self, action: str, values: dict[str, str]) -> Any:
        page = self.client.get(f"/agreements/{self.aid}").text
        target = f"/agreements/{self.aid}/{action}"
        return self.client.post(target, data=hidden_fields(page, target) | values)


PAGES = {
    "recorded": ("/agreements/{aid}?recorded=²", 200),
    "timeline-after": ("/agreements/{aid}/timeline?after=²", 400),
    "timeline-after-huge": ("/agreements/{aid}/timeline?after=999999999999999999", 400),
    "changes-version": ("/agreements/{aid}/changes?version=²", 400),
    "as-of-version": ("/agreements/{aid}/as-of?version=²", 400),
    "as-of-version-huge": ("/agreements/{aid}/as-of?version=99999999999", 400),
    "agreements-after": ("/agreements?after=²", 400),
    "agreements-after-huge": ("/agreements?after=" + HUGE, 400),
    "audit-after": ("/audit?after=²", 400),
    "row-index": ("/agreements/new/row?index=²", 404),
    "nul-in-query": ("/agreements?employee=a%00b", 400),
    "nul-in-audit-actor": ("/audit?actor=a%00b", 400),
    "nul-in-path": ("/people/a%00b/career", 400),
}


@pytest.fixture(scope="module")
def web(api: Api) -> Web:
    return Web(api)


@pytest.mark.parametrize("case", sorted(PAGES))
def test_a_web_page_refuses_a_malformed_number_or_nul_without_a_500(web: Web, case: str) -> None:
    path, status = PAGES[case]
    client = web.hr if "/audit" in path or "/agreements?" in path else web.client
    response = client.get(path.format(aid=web.aid))
    assert response.status_code == status, (case, response.status_code, response.text[:300])
    if case.startswith("nul-"):  # a person gets a page that says what is wrong
        assert response.headers["content-type"].startswith("text/html")
        assert "This address is not valid" in response.text


FORMS = {
    # Pausing is asked first (a confirmation page): these are the confirmed forms.
    "expected_version": ("pause", {"expected_version": "²", "reason": "Crunch"} | CONFIRMED),
    "expected_version-huge": (
        "pause",
        {"expected_version": HUGE, "reason": "Crunch"} | CONFIRMED,
    ),
    "reviewEveryDays": (
        "guardrails",
        {
            "guardrails.maxDevelopmentHoursPerWeek": "6",
            "guardrails.reviewEveryDays": "²",
            "guardrails.protectedResponsibilities": "Release sign-off",
        },
    ),
    "revert-to-version": ("revert-to", {"version": "²", "reason": "Start over"}),
    "csrf-token-not-ascii": ("pause", {"csrf_token": "é", "reason": "Crunch"}),
}


@pytest.mark.parametrize("case", sorted(FORMS))
def test_a_web_form_refuses_a_malformed_number_recording_nothing(
    api: Api, web: Web, case: str
) -> None:
    action, values = FORMS[case]
    before = api.position()
    response = web.form(action, values)
    assert 400 <= response.status_code < 500, (case, response.status_code, response.text[:300])
    assert api.position() == before


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/scim/v2/Users?startIndex=99999999999999999999", 200),
        ("/scim/v2/Users?startIndex=1&count=-5", 200),
        ("/scim/v2/Users/a%00b", 400),
        ("/scim/v2/Users?filter=userName%20eq%20%22a%00b%22", 400),
    ],
)
def test_scim_refuses_a_huge_index_or_a_nul_cleanly(api: Api, path: str, status: int) -> None:
    token = api.token(f"workday-{uuid4().hex[:6]}", Role.INTEGRATION)
    response = api.client.get(path, headers=SCIM_HEADERS | {"Authorization": f"Bearer {token}"})
    assert response.status_code == status, response.text
    if status == 200:
        assert response.json()["Resources"] == []


def test_scim_if_match_with_digits_int_cannot_read_is_a_precondition_failure(api: Api) -> None:
    world = World(api)
    token = api.token(f"workday-{world.s}", Role.INTEGRATION)
    headers = SCIM_HEADERS | {"Authorization": f"Bearer {token}", "If-Match": 'W/"²"'.encode()}
    response = api.client.delete(f"/scim/v2/Users/{world.ids['mate2']}", headers=headers)
    assert response.status_code == 412, response.text


@pytest.mark.parametrize("segment", ["%1F", "a%0Db", "%7F", "%C3%A9"])
def test_scim_answers_with_headers_an_http_server_can_send(api: Api, segment: str) -> None:
    """scim2-server's Location is the decoded path: a control character in it made
    uvicorn drop the connection instead of answering."""
    token = api.token(f"workday-{uuid4().hex[:6]}", Role.INTEGRATION)
    response = api.client.get(
        f"/scim/v2/Users/{segment}", headers=SCIM_HEADERS | {"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 404, response.text
    for name, value in response.headers.raw:
        assert re.search(rb"[\x00-\x08\x0a-\x1f\x7f]", value) is None, (name, value)
    assert response.headers["location"].endswith("/scim/v2/Users/" + segment)


def test_a_web_form_body_over_the_limit_is_a_413_not_a_500(web: Web) -> None:
    """Sent chunked (no Content-Length), so only counting while reading catches it."""
    page = web.client.get(f"/agreements/{web.aid}").text
    target = f"/agreements/{web.aid}/pause"
    fields = "&".join(f"{k}={v}" for k, v in hidden_fields(page, target).items())

    def chunks() -> Iterator[bytes]:
        yield (fields + "&reason=").encode()
        for _ in range(11):
            yield b"x" * 100_000

    response = web.client.post(
        target, content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 413, response.text[:300]
    assert "This form was too large" in response.text
