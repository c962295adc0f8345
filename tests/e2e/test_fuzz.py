"""Fuzzing every front door: whatever a client sends, no server error, no internal
message and no dropped connection comes back.

- GraphQL: every root field of the committed schema, with queries hypothesis-graphql
  writes (through schemathesis, in-process) and, against a real server, with random JSON
  as each field's variables; random bytes and random JSON as the request body.
- The web app: every route the app has (read from the app itself, so a new route is
  fuzzed too), signed in as HR with a valid CSRF token so forms are actually processed,
  with random query strings, form values, path segments and raw bodies.
- SCIM: every route scim2-server serves, with random query parameters, JSON and bytes.

The HTTP fuzzing runs against a real `crafting serve` process (uvicorn), on PostgreSQL
when the suite has one and on SQLite: a response uvicorn cannot send (a header it
refuses) is a dropped connection, and that fails the test like a 500 does.

Deterministic for CI: hypothesis is derandomized (the same examples on every run) and
each database starts empty. Runtime, measured on 2 cores: about 2 minutes for both
databases (the example counts below are what bounds it)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote
from uuid import uuid4

import httpx
import pytest
import schemathesis
from fastapi.testclient import TestClient
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    get_named_type,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scim2_server.routing import ROUTES as SCIM_ROUTES
from starlette.routing import Mount, Route

from api.app import create_app
from api.graphql.ids import agreement_uuid
from api.graphql.schema import build_schema
from api.http.auth import mint_token
from api.web.sessions import mint_link
from domain.values import Role
from infra.bootstrap import Container, bootstrap
from infra.secrets import jwt_secret
from infra.settings import Settings
from tests.conftest import postgres_schema_url
from tests.e2e.conftest import Api
from tests.e2e.test_web_access import ACTIONS
from tests.e2e.world import World
from tests.processes import eventually, free_port, get, running, service_env, start

schema = schemathesis.graphql.from_path(Path(__file__).parents[2] / "schema.graphql")

# How many examples each fuzzed target gets: what bounds the runtime (see the docstring).
EXAMPLES_PER_FIELD = 10
EXAMPLES_PER_ROUTE = 12
EXAMPLES_PER_BODY = 40
FUZZ = settings(
    max_examples=EXAMPLES_PER_ROUTE,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def hr_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    container = bootstrap(Settings(database_url=f"sqlite:///{path}"))
    app = create_app(container)
    token = mint_token(
        jwt_secret(container.settings, create=True), "fuzzer", [Role.HR], timedelta(hours=1)
    )
    with TestClient(app) as client:
        yield client, token
    container.close()


@schema.parametrize()
@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_input_makes_the_server_fail(case: Any, hr_client: tuple[TestClient, str]) -> None:
    client, token = hr_client
    response = client.post(
        "/graphql", json={"query": case.body}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code < 500, response.text
    body = response.json()
    messages = [e.get("message", "") for e in body.get("errors") or []]
    assert "Unexpected error." not in messages, (case.body, body)
    assert "Traceback" not in response.text


# --- a real server --------------------------------------------------------------------


@dataclass
class Live:
    """A running `crafting serve`, a small organisation in it, and who fuzzes it."""

    base: str
    api: Api
    world: World
    web: httpx.Client  # signed in as HR
    csrf: str
    hr: str  # bearer tokens
    integration: str
    agreement: str  # an active agreement's UUID
    routes: list[tuple[str, str]] = field(default_factory=list)

    def bearer(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


def _web_routes(container: Container) -> list[tuple[str, str]]:
    """(method, path) of every route of the web app, as the app itself has them."""
    app = create_app(container)
    mount = next(r for r in app.routes if isinstance(r, Mount) and r.path == "")
    found = set()
    for route in mount.routes:
        assert isinstance(route, Route), route
        for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
            found.add((method, route.path))
    return sorted(found)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp}/crafting.db"
    else:
        url = postgres_schema_url(request.getfixturevalue("postgres_database_url"))
    secret = "fuzz-" + uuid4().hex + uuid4().hex
    env = service_env(
        url,
        CRAFTING_JWT_SECRET=secret,
        CRAFTING_SERVE_PROJECTIONS="true",
        CRAFTING_RATE_LIMIT_PER_SECOND="0",
        CRAFTING_LOG_LEVEL="INFO",
    )
    port = free_port()
    serve = start(["serve", "--port", str(port)], env, tmp / "serve")
    base = f"http://127.0.0.1:{port}"
    with running(serve):
        assert eventually(lambda: get(f"{base}/readyz")[0] == 200, 90), serve.output()
        container = bootstrap(Settings(database_url=url, jwt_secret=secret))
        try:
            with httpx.Client(base_url=base, timeout=30) as client:
                api = Api(client, container, secret)  # type: ignore[arg-type]
                world = World(api)
                agreement = str(agreement_uuid(world.active()["id"]))
                world.sync()
                web = httpx.Client(base_url=base, timeout=30, follow_redirects=False)
                link = mint_link(secret, world.ids["hr"], [Role.HR], datetime.now(UTC))
                assert web.post(f"/login/{link}").status_code == 303
                page = web.get("/").text
                csrf = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
                assert csrf, page
                yield Live(
                    base,
                    api,
                    world,
                    web,
                    csrf.group(1),
                    world.hr,
                    world.integration,
                    agreement,
                    _web_routes(container),
                )
                web.close()
        finally:
            container.close()
        assert serve.alive, serve.output()
        log = serve.output()
        for failure in ("unhandled error", "unexpected error in a resolver", "web request failed"):
            assert failure not in log, log[-5000:]


def _answered(send: Any) -> httpx.Response:
    """The response; a dropped connection (no response at all) fails the test."""
    try:
        response: httpx.Response = send()
    except httpx.TransportError as error:  # the server closed without answering
        pytest.fail(f"dropped connection: {type(error).__name__}: {error}")
    return response


# Deliberate answers in the 5xx range: SCIM's /Me is not implemented (501), and a read
# that cannot wait for its own writes says so with Retry-After (503).
DELIBERATE = {501, 503}


def _no_failure(response: httpx.Response, sent: object) -> None:
    status = response.status_code
    assert status < 500 or status in DELIBERATE, (sent, status, response.text[:2000])
    assert "Traceback" not in response.text, sent
    if response.headers.get("content-type", "").startswith("application/json"):
        body = response.json() if response.content else None
        errors = body.get("errors") if isinstance(body, dict) else None
        messages = [e.get("message") for e in errors or [] if isinstance(e, dict)]
        assert "Unexpected error." not in messages, (sent, body)


# Text as clients send it: anything httpx can encode (no lone surrogates), numbers in
# odd forms, NULs, and a few values that once broke a parser.
TEXT = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.sampled_from(["", "0", "-1", "²", "٣", "1e400", "NaN", "\x00", "a\x00b", " 1", "9" * 30]),
    st.sampled_from(["2026-02-30", "2026-01-01T25:00", "null", "[]", "{}", "%00", "..", "/"]),
)
# Numbers as a person or a script might write them where a number is expected: past
# 64 bits, digits int() refuses or reads differently, signs, exponents, blanks.
ODD_NUMBERS = ["²", "9" * 25, str(2**63), "٣", "-1", " 7", "1e3", "0", "", str(2**31)]


def numbers(first: str) -> st.SearchStrategy[str]:
    """Odd numbers, `first` the one hypothesis tries in its first example (derandomized,
    it starts from the first value of each choice)."""
    return st.one_of(
        st.sampled_from([first, *(n for n in ODD_NUMBERS if n != first)]),
        st.integers(min_value=2**63, max_value=2**80).map(str),  # past BIGINT
        st.integers(min_value=0, max_value=50).map(str),
    )


NUMBERS = numbers("²")  # where pages and forms read a number: int() refuses it
VALUE = st.one_of(NUMBERS, TEXT)
# The prefix of each list's keyset cursors (base64url of "<prefix>|<position>").
KIND_OF = {
    "changes": "changes",
    "agreements": "agreements",
    "auditLog": "audit",
    "webhookSubscriptions": "webhookSubscriptions",
    "webhookDeliveries": "webhookDeliveries",
    "reviewsDue": "reviewsDue|2026-01-01",
}


def cursors(field: str | None = None) -> st.SearchStrategy[str]:
    """Cursors as the service writes them, with odd positions (mostly of `field`'s own
    list): every list's cursor parser gets numbers it must refuse cleanly."""
    own = [KIND_OF[field]] * 3 if field in KIND_OF else []
    return st.builds(
        lambda kind, number: base64.urlsafe_b64encode(f"{kind}|{number}".encode()).decode(),
        st.sampled_from([*own, *KIND_OF.values()]),
        numbers("9" * 25),  # past BIGINT: the SQL would overflow
    )


CURSORS = cursors()
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
    | CURSORS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)
QUERY_NAMES = [
    "after", "version", "recorded", "index", "at", "q", "status", "employee", "team",
    "actor", "type", "from", "to", "toPersonId", "hoursPerWeek", "signed_out", "code",
    "state", "error",
]  # fmt: skip
FORM_NAMES = sorted(
    {name for action in ACTIONS.values() for name in action.values}
    | {"expected_version", "idempotency_key", "version", "reason", "outcome", "kind"}
)


# --- GraphQL ----------------------------------------------------------------------


_SCHEMA = build_schema()._schema


def _root_fields() -> list[tuple[str, str]]:
    """Every root field as (operation type, field name)."""
    graphql_schema = build_schema()._schema
    found = []
    for kind, root in (
        ("query", graphql_schema.query_type),
        ("mutation", graphql_schema.mutation_type),
    ):
        assert root is not None
        found += [(kind, name) for name in sorted(root.fields)]
    return found


def _plausible(arg_type: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of a GraphQL input type, mostly well-typed (so a request gets past input
    coercion to the resolver) with odd contents; random JSON now and then."""
    inner = arg_type.of_type if isinstance(arg_type, GraphQLNonNull) else arg_type
    if isinstance(inner, GraphQLList):
        return st.lists(_plausible(inner.of_type, depth + 1), max_size=3)
    named = get_named_type(inner)
    if isinstance(named, GraphQLInputObjectType) and depth < 3:
        fields = {k: _plausible(f.type, depth + 1) for k, f in named.fields.items()}
        return st.fixed_dictionaries({}, optional=fields)
    if isinstance(named, GraphQLEnumType):
        return st.sampled_from(sorted(named.values)) | TEXT
    by_name: dict[str, st.SearchStrategy[Any]] = {
        # Small: `consistentWith` beyond the log's head would wait its full timeout.
        "Int": st.integers(min_value=-1, max_value=5),
        "Float": st.floats(min_value=-1, max_value=100, allow_nan=False),
        "Boolean": st.booleans(),
        "String": VALUE,
        "ID": TEXT,
        "Date": st.dates().map(lambda d: d.isoformat()),
        "DateTime": st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
    }
    return by_name.get(named.name, JSON)


def _variable(field: str, name: str, arg_type: Any) -> st.SearchStrategy[Any]:
    plausible = cursors(field) if name == "after" else _plausible(arg_type)
    maybe_none = st.nothing() if isinstance(arg_type, GraphQLNonNull) else st.none()
    return st.one_of(*[plausible] * 8, maybe_none, JSON)  # mostly past input coercion


def _operation(kind: str, name: str) -> tuple[str, list[str]]:
    """`kind { name(each argument: $variable) { __typename } }` and its variable names."""
    graphql_schema = build_schema()._schema
    root = graphql_schema.query_type if kind == "query" else graphql_schema.mutation_type
    assert root is not None
    definition = root.fields[name]
    names = list(definition.args)
    declared = ", ".join(f"${a}: {definition.args[a].type}" for a in names)
    passed = ", ".join(f"{a}: ${a}" for a in names)
    selection = (
        "" if isinstance(get_named_type(definition.type), GraphQLScalarType) else "{ __typename }"
    )
    head = f"{kind}({declared})" if names else kind
    call = f"{name}({passed})" if names else name
    return f"{head} {{ {call} {selection} }}", names


@pytest.mark.parametrize(("kind", "name"), _root_fields())
@settings(FUZZ, max_examples=EXAMPLES_PER_FIELD)
@given(data=st.data())
def test_random_variables_for_every_graphql_field(
    live: Live, kind: str, name: str, data: st.DataObject
) -> None:
    query, names = _operation(kind, name)
    root = _SCHEMA.query_type if kind == "query" else _SCHEMA.mutation_type
    assert root is not None
    arguments = root.fields[name].args
    variables = {n: data.draw(_variable(name, n, arguments[n].type), label=n) for n in names}
    token = data.draw(st.sampled_from([live.hr, live.integration]), label="token")
    sent = {"query": query, "variables": variables}
    response = _answered(
        lambda: live.api.client.post("/graphql", json=sent, headers=live.bearer(token))
    )
    _no_failure(response, sent)


@settings(FUZZ, max_examples=EXAMPLES_PER_BODY)
@given(
    body=st.one_of(st.binary(max_size=300), JSON.map(lambda v: json.dumps(v).encode())),
    content_type=st.sampled_from(
        [
            "application/json",
            "application/graphql-response+json",
            "text/plain",
            "",
            "multipart/form-data",
        ]
    ),
    method=st.sampled_from(["POST", "GET"]),
    params=st.dictionaries(
        st.sampled_from(["query", "variables", "operationName", "extensions"]), TEXT, max_size=3
    ),
)
def test_random_bodies_and_parameters_to_graphql(
    live: Live, body: bytes, content_type: str, method: str, params: dict[str, str]
) -> None:
    headers = live.bearer(live.hr) | ({"Content-Type": content_type} if content_type else {})
    response = _answered(
        lambda: live.api.client.request(
            method,
            "/graphql",
            content=body if method == "POST" else None,
            params=params,
            headers=headers,
        )
    )
    _no_failure(response, (method, body, params))


# --- the web app ------------------------------------------------------------------


def _fill(live: Live, path: str, segment: str | None) -> str:
    w = live.world
    real = {
        "{agreement_id}": live.agreement,
        "{person_id}": w.ids["emp"],
        "{token}": "not-a-link",
        "{name}": "app.css",
    }
    for placeholder, value in real.items():
        path = path.replace(placeholder, value if segment is None else quote(segment, safe=""))
    return path


def test_random_input_to_every_web_route(live: Live) -> None:
    """Each route of the live app in turn (the list is read from the app, so it is
    complete), each with its own derandomized examples."""
    assert len(live.routes) >= 20, live.routes
    for method, path in live.routes:
        _odd_numbers_everywhere(live, method, path)
        _fuzzer(live, method, path)()


def _odd_numbers_everywhere(live: Live, method: str, path: str) -> None:
    """Before the random examples, a sweep chance would miss: each odd number in every
    query parameter and form field a page reads at once."""
    url = _fill(live, path, None)
    for odd in ODD_NUMBERS:
        params = dict.fromkeys(QUERY_NAMES, odd)
        form = dict.fromkeys(FORM_NAMES, odd) | {"csrf_token": live.csrf}
        response = _answered(partial(_send, live.web, method, url, params, form))
        _no_failure(response, (method, url, odd))


def _send(
    client: httpx.Client, method: str, url: str, params: dict[str, str], form: dict[str, str]
) -> httpx.Response:
    if method == "GET":
        return client.get(url, params=params)
    return client.post(url, params=params, data=form)


def _fuzzer(live: Live, method: str, path: str) -> Any:
    """A hypothesis test of one route (its own examples, its route in its failures)."""

    @FUZZ
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        _fuzz_web_route(live, method, path, data)

    return fuzz


NOT_A_SEGMENT = {".", ".."}


def _segment() -> st.SearchStrategy[str]:
    return TEXT.filter(
        lambda s: "/" not in s and "?" not in s and "#" not in s and s not in NOT_A_SEGMENT
    )


def _fuzz_web_route(live: Live, method: str, path: str, data: st.DataObject) -> None:
    # A random path segment now and then, else the real agreement or person.
    segment = data.draw(st.none() | st.none() | _segment(), label="segment")
    url = _fill(live, path, segment or None)
    # Each parameter a page reads, half the time; now and then one no page reads.
    params = data.draw(
        st.fixed_dictionaries({}, optional=dict.fromkeys(QUERY_NAMES, VALUE)), label="query"
    )
    params |= data.draw(st.dictionaries(TEXT, TEXT, max_size=1), label="more query")
    if method == "GET":
        response = _answered(lambda: live.web.get(url, params=params))
        _no_failure(response, (url, params))
        return
    form = data.draw(
        st.fixed_dictionaries({}, optional=dict.fromkeys(FORM_NAMES, VALUE)), label="form"
    )
    form |= data.draw(st.dictionaries(TEXT, TEXT, max_size=1), label="more form")
    # A valid CSRF token mostly, so the form is processed rather than refused at the door.
    form["csrf_token"] = data.draw(
        st.sampled_from([live.csrf, live.csrf, live.csrf, ""]) | TEXT, label="csrf"
    )
    raw = data.draw(st.none() | st.none() | st.binary(max_size=200), label="raw body")
    if raw is None:
        response = _answered(lambda: live.web.post(url, params=params, data=form))
    else:
        kind = data.draw(
            st.sampled_from(
                ["application/x-www-form-urlencoded", "multipart/form-data", "application/json"]
            ),
            label="type",
        )
        headers = {"Content-Type": kind}
        response = _answered(
            lambda: live.web.post(url, params=params, content=raw, headers=headers)
        )
    _no_failure(response, (method, url, params, form, raw))


# --- SCIM ---------------------------------------------------------------------------

SCIM_PARAMETERS = ["filter", "attributes", "excludedAttributes", "startIndex", "count", "sortBy", "sortOrder", "cursor"]  # fmt: skip
FILTERS = st.one_of(
    TEXT,
    st.builds(
        lambda attr, op, value: f"{attr} {op} {json.dumps(value)}",
        st.sampled_from(
            [
                "userName",
                "id",
                "externalId",
                "active",
                "emails.value",
                "name.familyName",
                "meta.lastModified",
                "x",
            ]
        ),
        st.sampled_from(["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr"]),
        JSON,
    ),
)


@pytest.mark.parametrize(
    ("method", "pattern"), sorted({(r.method, r.pattern) for r in SCIM_ROUTES})
)
@settings(FUZZ)
@given(data=st.data())
def test_random_input_to_every_scim_route(
    live: Live, method: str, pattern: str, data: st.DataObject
) -> None:
    endpoint = data.draw(
        st.sampled_from(["Users", "Users", "Groups"]) | _segment(),
        label="endpoint",
    )
    resource = data.draw(
        st.sampled_from([live.world.ids["mate2"], "nobody"]) | _segment(),
        label="id",
    )
    path = "/scim/v2" + pattern.replace("{endpoint}", quote(endpoint or "Users", safe="")).replace(
        "{resource_id}", quote(resource or "x", safe="")
    )
    params = data.draw(
        st.dictionaries(st.sampled_from(SCIM_PARAMETERS) | TEXT, FILTERS, max_size=4), label="query"
    )
    headers = live.bearer(live.integration) | {"Content-Type": "application/scim+json"}
    if data.draw(st.booleans(), label="if-match"):
        headers["If-Match"] = data.draw(
            TEXT.filter(lambda s: s.isascii() and s.isprintable()).map(lambda s: f'W/"{s}"'),
            label="etag",
        )
    body: bytes | None = None
    if method in ("POST", "PUT", "PATCH"):
        body = data.draw(
            st.one_of(
                st.binary(max_size=200),
                JSON.map(lambda v: json.dumps(v).encode()),
                st.fixed_dictionaries(
                    {"schemas": st.just(["urn:ietf:params:scim:schemas:core:2.0:User"])},
                    optional={
                        "userName": TEXT,
                        "active": JSON,
                        "name": JSON,
                        "emails": JSON,
                        "externalId": JSON,
                        "Operations": JSON,
                    },
                ).map(lambda v: json.dumps(v).encode()),
            ),
            label="body",
        )
    response = _answered(
        lambda: live.api.client.request(method, path, params=params, content=body, headers=headers)
    )
    _no_failure(response, (method, path, params, body))
