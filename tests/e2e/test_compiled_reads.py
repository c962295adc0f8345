"""The compiled reads (agreement lists as one SQL statement, PostgreSQL) answer exactly
as the resolvers do: the same data for every caller, formatted alike, and the same
errors, because whatever they cannot answer goes to the resolvers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from prometheus_client import REGISTRY
from psycopg import sql
from sqlalchemy import Connection

from api.graphql.compiled import plans
from api.graphql.compiled.plans import CompiledReads
from api.graphql.compiled.sql import float_column as _float
from api.graphql.compiled.sql import global_id_column as _global_id
from api.graphql.compiled.sql import instant_column as _instant
from api.graphql.ids import global_id
from tests.e2e.conftest import Api, serving
from tests.e2e.world import World

pytestmark = pytest.mark.postgres

MUTATE = """mutation($i: {input}!) {{ {name}(input: $i) {{ position
  userErrors {{ code message }} agreement {{ version changes {{ changeId kind }} }} }} }}"""

FULL = """query Sync($n: Int!, $after: String, $f: AgreementFilter) {
  agreements(first: $n, after: $after, filter: $f) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node {
      id agreementId employeeId approvedByManagerId status title version
      developmentHoursPerWeek nextReviewOn createdAt updatedAt
      careerGoal { targetRole skills targetDate }
      guardrails { maxDevelopmentHoursPerWeek protectedResponsibilities reviewEveryDays endsOn }
      employee { id personId displayName email managerId teamId contractedHoursPerWeek
                 active updatedAt }
      adjustments { id changeId kind description hoursPerWeek startsOn endsOn status }
      reallocations { id changeId task hoursPerWeek fromPersonId toPersonId effectiveOn
                      reason status }
      latestReview { id heldOn outcome notes nextReviewOn heldBy }
    } }
  }
}"""

HISTORY = """{ agreements(first: 20) { edges { node {
  reviews { id heldOn outcome notes nextReviewOn heldBy }
  artifacts { id title kind url skills recordedBy recordedOn agreementId }
  changes { changeId kind subjectId rootChangeId version revertsChangeId
            revertedByChangeId inEffect }
} } } }"""

SHAPES = """fragment Who on Person { id personId displayName }
fragment Deal on Agreement { agreementId title t2: title employee { ...Who email } }
query Shapes {
  __typename
  a: agreements(first: 3) {
    __typename
    pageInfo { __typename hasNextPage endCursor }
    edges { __typename cursor node { __typename ... on Node { id } ...Deal
      employee { teamId } } }
  }
  b: agreements(first: 2, filter: {status: ACTIVE}) {
    edges { node { title careerGoal { skills } guardrails { reviewEveryDays } } }
    edges { node { id } }
  }
  due: reviewsDue(before: "2100-01-01", first: 5) { edges { node { title nextReviewOn } } }
}"""

# Edge lists come back from PostgreSQL as rows and are spliced into the document
# (api.graphql.compiled.plans): several lists, in several roots, around other fields.
LISTS = """query Lists($after: String) {
  one: agreements(first: 3) {
    first: edges { cursor }
    pageInfo { endCursor }
    again: edges { node { title employee { displayName } adjustments { hoursPerWeek } } }
  }
  two: agreements(first: 2, after: $after) { __typename edges { cursor node { id } } }
  none: agreements(first: 0) { edges { cursor } pageInfo { hasNextPage } }
}"""

WITH_MANAGER = """{ agreements(first: 5) { edges { node { title
  employee { displayName manager { displayName personId } } } } } }"""


@pytest.fixture
def pair(postgres_url: str) -> Iterator[tuple[Api, Api]]:
    """The service twice on one database: compiled reads on, and off."""
    secret = "e2e-" + uuid4().hex + uuid4().hex
    with (
        serving(postgres_url, jwt_secret=secret) as compiled,
        serving(postgres_url, jwt_secret=secret, compiled_reads=False) as resolved,
    ):
        assert compiled.container.settings.projections.compiled_reads
        yield compiled, resolved


def _mutate(api: Api, token: str, name: str, input_type: str, **fields: Any) -> dict[str, Any]:
    query = MUTATE.format(name=name, input=input_type)
    payload: dict[str, Any] = api.data(token, query, i=fields)[name]
    assert payload["userErrors"] == [], payload
    return payload


def _history(w: World) -> None:
    """Agreements at several stages with every kind of child."""
    api, i = w.api, w.ids
    first = w.active(max_hours=6)
    aid = first["id"]
    added = _mutate(
        api,
        w.manager,
        "addAdjustment",
        "AddAdjustmentInput",
        agreementId=aid,
        adjustment={
            "kind": "COGNITIVE",
            "description": "Pair with a PM",
            "hoursPerWeek": 1.5,
            "startsOn": "2026-12-01",
            "endsOn": "2027-03-31",
        },
    )
    _mutate(
        api,
        w.manager,
        "reallocateTask",
        "ReallocateTaskInput",
        agreementId=aid,
        task="Regression triage",
        hoursPerWeek=2,
        toPersonId=i["mate"],
        reason="Frees time for discovery",
    )
    _mutate(
        api,
        w.manager,
        "recordReview",
        "RecordReviewInput",
        agreementId=aid,
        outcome="ON_TRACK",
        notes='Good start — ünïcode and "quotes"',
    )
    _mutate(
        api,
        w.employee,
        "recordArtifact",
        "RecordArtifactInput",
        agreementId=aid,
        title="Feature brief",
        kind="BRIEF",
        url="https://example.com/brief",
        skills=["roadmapping"],
    )
    _mutate(
        api,
        w.manager,
        "setGuardrails",
        "SetGuardrailsInput",
        agreementId=aid,
        reason="More room",
        guardrails={
            "maxDevelopmentHoursPerWeek": 7.25,
            "reviewEveryDays": 30,
            "protectedResponsibilities": [],
            "endsOn": "2027-06-30",
        },
    )
    change = next(c for c in added["agreement"]["changes"] if c["kind"] == "ADJUSTMENT_ADDED")
    _mutate(
        api,
        w.manager,
        "revertChange",
        "RevertChangeInput",
        agreementId=aid,
        changeId=change["changeId"],
        reason="Not this quarter",
    )
    w.active(max_hours=4)
    w.propose(token=w.mate)
    withdrawn = w.propose()
    _mutate(
        api,
        w.employee,
        "withdrawAgreement",
        "AgreementCommandInput",
        agreementId=withdrawn["id"],
        reason="Changed my mind",
    )
    w.sync()


def _served() -> float:
    value = REGISTRY.get_sample_value(
        "crafting_graphql_compiled_reads_total", {"outcome": "served"}
    )
    return value or 0.0


def _same(pair: tuple[Api, Api], token: str, query: str, **variables: Any) -> Any:
    """Both answers, compared as canonical JSON (key order, value types); returns one."""
    compiled, resolved = pair
    one = compiled.post(query, variables, token=token)
    other = resolved.post(query, variables, token=token)
    assert one.status_code == other.status_code, (one.text, other.text)
    canonical = [json.dumps(json.loads(r.text)) for r in (one, other)]
    assert canonical[0] == canonical[1]
    return json.loads(one.text)


def test_every_caller_gets_what_the_resolvers_give(pair: tuple[Api, Api]) -> None:
    compiled, _ = pair
    w = World(compiled)
    _history(w)
    callers = {
        "integration": w.integration,
        "hr": w.hr,
        "auditor": w.auditor,
        "manager": w.manager,
        "other manager": w.other_manager,
        "employee": w.employee,
        "stranger": w.stranger,
    }
    before = _served()
    seen = {}
    for name, token in callers.items():
        body = _same(pair, token, FULL, n=100)
        seen[name] = len(body["data"]["agreements"]["edges"])
        _same(pair, token, HISTORY)
        _same(pair, token, SHAPES)
        _same(pair, token, FULL, n=0)
    # Every query of every caller compiled but SHAPES, whose reviewsDue (sorted by due
    # date, with its own cursors) the resolvers answer.
    assert _served() - before == 3 * len(callers)
    assert seen["stranger"] == 0 and seen["employee"] == 3 and seen["manager"] == 4
    assert seen["integration"] == seen["hr"] == seen["auditor"] == 4


def test_pages_and_filters_match(pair: tuple[Api, Api]) -> None:
    compiled, _ = pair
    w = World(compiled)
    _history(w)
    cursor = None
    pages = 0
    while True:
        body = _same(pair, w.manager, FULL, n=1, after=cursor)
        info = body["data"]["agreements"]["pageInfo"]
        pages += 1
        if not info["hasNextPage"]:
            break
        cursor = info["endCursor"]
    assert pages == 4
    i = w.ids
    for f in (
        {"status": "ACTIVE"},
        {"employeeId": i["emp"]},
        {"managerId": i["mgr"], "status": "PROPOSED"},
        {"teamId": w.team},
        {"updatedSince": "2020-01-01T00:00:00Z"},
        {"updatedSince": "2100-01-01T00:00:00+02:00"},
    ):
        _same(pair, w.hr, FULL, n=10, f=f)
        _same(pair, w.manager, FULL, n=10, f=f)


def test_several_edge_lists_in_one_document(pair: tuple[Api, Api]) -> None:
    compiled, _ = pair
    w = World(compiled)
    _history(w)
    before = _served()
    first = _same(pair, w.hr, LISTS)["data"]
    cursor = first["one"]["pageInfo"]["endCursor"]
    second = _same(pair, w.hr, LISTS, after=cursor)["data"]
    assert _served() == before + 2
    assert [e["cursor"] for e in first["one"]["first"]][-1] == cursor
    assert len(first["one"]["again"]) == 3 and first["none"]["edges"] == []
    assert len(second["two"]["edges"]) == 1  # the 4th agreement: after the first three


def test_the_statement_is_prepared_on_its_first_execution(
    pair: tuple[Api, Api], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection new to the statement (the pool opens them under load) prepares it at
    once: psycopg would wait for its fifth execution, parsing it anew each time."""
    compiled, _ = pair
    w = World(compiled)
    _history(w)
    prepared: list[int] = []
    run = CompiledReads._run

    def watched(self: CompiledReads, conn: Connection, *args: Any) -> str:
        conn.exec_driver_sql("DEALLOCATE ALL")  # as a connection that never ran it
        text = run(self, conn, *args)
        prepared.append(
            conn.exec_driver_sql(
                "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'WITH p0 %%'"
            ).scalar_one()
        )
        return text

    monkeypatch.setattr(CompiledReads, "_run", watched)
    _same(pair, w.hr, FULL, n=10)
    assert prepared == [1]


def test_what_it_cannot_answer_the_resolvers_answer(pair: tuple[Api, Api]) -> None:
    compiled, _ = pair
    w = World(compiled)
    _history(w)
    before = _served()
    refused = [
        (w.hr, FULL, {"n": 101}),
        (w.hr, FULL, {"n": 5, "after": "bm90LWEtY3Vyc29y"}),
        (w.hr, FULL, {"n": 5, "f": {"status": "NOT_A_STATUS"}}),
        (w.hr, FULL, {}),
        (w.employee, '{ reviewsDue(before: "2100-01-01") { edges { cursor } } }', {}),
        (w.hr, "{ agreements(first: 2) { edges { node { nope } } } }", {}),
        (w.hr, "{ agreements(first: 2) @skip(if: false) { edges { cursor } } }", {}),
        (w.manager, WITH_MANAGER, {}),
    ]
    for token, query, variables in refused:
        _same(pair, token, query, **variables)
    assert _served() == before
    # HR sees every person, so the nested manager compiles for them.
    _same(pair, w.hr, WITH_MANAGER)
    assert _served() == before + 1
    body = _same(
        pair,
        w.hr,
        "query($p: Int) { agreements(first: 1, consistentWith: $p) { edges { cursor } } }",
        p=compiled.position(),
    )
    assert body["data"]["agreements"]["edges"]


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 11, 24, 2, 25, 31, tzinfo=UTC),
        datetime(2026, 11, 24, 2, 25, 31, 120000, tzinfo=UTC),
        datetime(1999, 1, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(hours=5))),
    ],
)
def test_instants_are_formatted_as_python_does(postgres_url: str, value: datetime) -> None:
    assert _in_sql(postgres_url, _instant("v"), value, "timestamptz") == utc_iso(value)


@pytest.mark.parametrize("value", [4.0, 0.25, 7.25, 0.1, 40.0, 123456.5, 1e16])
def test_floats_are_formatted_as_python_does(postgres_url: str, value: float) -> None:
    assert _in_sql(postgres_url, _float("v"), value, "float8") == json.dumps(value)


@pytest.mark.parametrize("key", ["emp-1", "x" * 128, "Zoë/ß+?"])
def test_global_ids_are_encoded_as_python_does(postgres_url: str, key: str) -> None:
    assert _in_sql(postgres_url, _global_id("Person", "v"), key, "text") == global_id("Person", key)


def utc_iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _in_sql(postgres_url: str, expression: Any, value: Any, type_: str) -> str:
    """The compiled reads' SQL for a column `v` holding `value`, as text."""
    base = postgres_url.split("?")[0]
    with psycopg.connect(base, options="-ctimezone=UTC") as conn:
        row = conn.execute(
            f"SELECT ({expression('t')})::text FROM (SELECT %s::{type_} AS v) t", [value]
        ).fetchone()
    assert row is not None
    return str(row[0])


def test_a_fault_in_a_compiled_read_is_answered_by_the_resolvers(
    pair: tuple[Api, Api], monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled, _ = pair
    w = World(compiled)
    _history(w)

    def broken(*_: Any) -> str:
        raise RuntimeError("a compiler bug")

    monkeypatch.setattr(CompiledReads, "_run", broken)
    failed = REGISTRY.get_sample_value(
        "crafting_graphql_compiled_reads_total", {"outcome": "failed"}
    )
    body = _same(pair, w.hr, FULL, n=10)
    assert len(body["data"]["agreements"]["edges"]) == 4
    after = REGISTRY.get_sample_value(
        "crafting_graphql_compiled_reads_total", {"outcome": "failed"}
    )
    assert (after or 0) == (failed or 0) + 1


def test_a_page_is_one_statement_outside_a_transaction(
    pair: tuple[Api, Api], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No BEGIN, COMMIT or generation lookup around the page's statement: each is a round
    trip of the client's and the server's CPU (bench hris_read). The statement reads the
    generation in its own snapshot."""
    compiled, _ = pair
    w = World(compiled)
    _history(w)
    _same(pair, w.hr, FULL, n=10)  # the generation is known from here on
    seen: list[tuple[bool, Any]] = []
    lookups: list[Connection] = []
    run, lookup = CompiledReads._run, plans.q.live_read_model
    compiled_connections: list[Connection] = []

    def watched(self: CompiledReads, conn: Connection, *args: Any) -> str:
        compiled_connections.append(conn)
        text = run(self, conn, *args)
        raw = conn.connection.driver_connection
        seen.append((raw.autocommit, raw.info.transaction_status))
        return text

    def counted(conn: Connection) -> Any:
        lookups.append(conn)  # the resolvers' server (the pair's other) looks up too
        return lookup(conn)

    monkeypatch.setattr(CompiledReads, "_run", watched)
    monkeypatch.setattr(plans.q, "live_read_model", counted)
    before = _served()
    _same(pair, w.hr, FULL, n=10)
    _same(pair, w.manager, FULL, n=100)
    assert _served() == before + 2
    assert seen == [(True, psycopg.pq.TransactionStatus.IDLE)] * 2
    assert not [c for c in lookups if any(c is d for d in compiled_connections)]


def test_a_switched_generation_is_read_again(
    pair: tuple[Api, Api], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild switches the read model's tables between two requests: the statement
    sees it (or finds the old tables gone) and runs again on the live ones."""
    compiled, _ = pair
    w = World(compiled)
    _history(w)
    first = _same(pair, w.hr, FULL, n=10)
    compiled.container.rebuild()
    before = _served()
    assert _same(pair, w.hr, FULL, n=10) == first
    run = CompiledReads._run

    def gone(self: CompiledReads, conn: Connection, *args: Any) -> str:
        self._generation = 10**6  # tables that no longer exist
        return run(self, conn, *args)

    monkeypatch.setattr(CompiledReads, "_run", gone)
    assert _same(pair, w.hr, FULL, n=10) == first
    assert _served() == before + 2


def _page_statement(
    pair: tuple[Api, Api], token: str, monkeypatch: pytest.MonkeyPatch, **variables: Any
) -> tuple[str, dict[str, Any]]:
    """The compiled statement and parameters a request for FULL ran."""
    ran: list[tuple[str, dict[str, Any]]] = []
    execute = psycopg.Connection.execute

    def watched(self: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
        if kwargs.get("prepare") and isinstance(query, str) and query.startswith("WITH p0 "):
            ran.append((query, dict(params)))
        return execute(self, query, params, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(psycopg.Connection, "execute", watched)
        _same(pair, token, FULL, **variables)
    assert len(ran) == 1
    return ran[0]


def test_the_rows_are_sent_once_all_are_built(
    pair: tuple[Api, Api], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page's rows come from a sort over all of them: PostgreSQL sends them
    together at the end, not as each edge is built (~30 sends of 8 KiB for a page of
    100, each a wake-up of the reading thread: bench hris_read)."""
    compiled, _ = pair
    w = World(compiled)
    _history(w)
    statement, params = _page_statement(pair, w.hr, monkeypatch, n=10)
    with _raw(compiled) as conn:
        row = conn.execute(f"EXPLAIN (FORMAT JSON) {statement}", params).fetchone()
    assert row is not None
    assert row[0][0]["Plan"]["Node Type"] == "Sort"


@pytest.mark.parametrize("cursor", [False, True])
def test_the_generic_plan_knows_the_page_size(
    pair: tuple[Api, Api], monkeypatch: pytest.MonkeyPatch, cursor: bool
) -> None:
    """Prepared, the statement is planned anew for each page until PostgreSQL finds its
    generic plan as cheap as the custom ones. A page size bound as a parameter made the
    generic plan's LIMIT a guess (a tenth of the table): at 10,000 agreements the first
    page of a sync was planned again every time (~1 ms of PostgreSQL's CPU, bench
    hris_read). Written in, the generic plan reads `first` + 1 rows."""
    compiled, _ = pair
    w = World(compiled)
    _history(w)
    after = None
    if cursor:
        after = _same(pair, w.hr, FULL, n=1)["data"]["agreements"]["pageInfo"]["endCursor"]
    statement, params = _page_statement(pair, w.hr, monkeypatch, n=2, after=after)
    names = list(params)
    numbered = re.sub(r"%\((\w+)\)s", lambda m: f"${names.index(m.group(1)) + 1}", statement)
    with _raw(compiled) as conn:
        conn.execute("SET plan_cache_mode = force_generic_plan")
        try:
            conn.execute(f"PREPARE page AS {numbered}")
            values = sql.SQL(", ").join(map(sql.Literal, params.values()))
            arguments = sql.SQL("({})").format(values) if names else sql.SQL("")
            explain = sql.SQL("EXPLAIN (FORMAT JSON) EXECUTE page{}").format(arguments)
            row = conn.execute(explain).fetchone()
        finally:
            conn.execute("RESET plan_cache_mode")
    assert row is not None
    (page,) = [n for n in _nodes(row[0][0]["Plan"]) if n.get("Subplan Name") == "CTE p0"]
    assert page["Node Type"] == "Limit" and page["Plan Rows"] == 3


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


@contextmanager
def _raw(api: Api) -> Iterator[psycopg.Connection[Any]]:
    """A psycopg connection of the service's read pool (its search path, autocommit)."""
    with api.container.engines.reader.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        autocommit = raw.autocommit
        raw.autocommit = True
        try:
            yield raw
        finally:
            raw.execute("DEALLOCATE ALL")
            raw.autocommit = autocommit


def test_a_consecutive_page_reads_each_child_kind_with_one_scan(
    pair: tuple[Api, Api], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page of every agreement after the cursor (no filter, a viewer who sees all)
    reads each kind of child (adjustments, reallocations, the latest review) with one
    range scan of its agreements' creation positions, not one index descent per
    agreement: the descents were 31% of PostgreSQL's work per page (bench hris_read).
    Pages that skip agreements keep the descents (a range would read the skipped
    agreements' children too), with the same answers."""
    compiled, _ = pair
    w = World(compiled)
    _history(w)
    w.active(max_hours=3)
    w.sync()
    children = ("_adjustments", "_reallocations", "_reviews")

    def child_scans(token: str) -> list[tuple[str, int]]:
        statement, params = _page_statement(pair, token, monkeypatch, n=10)
        with _raw(compiled) as conn:
            explain = f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}"
            row = conn.execute(explain, params).fetchone()
        assert row is not None
        return [
            (n["Relation Name"], n["Actual Loops"])
            for n in _nodes(row[0][0]["Plan"])
            if n.get("Relation Name", "").endswith(children)
        ]

    hr = child_scans(w.hr)
    assert sorted({name.rsplit("_", 1)[1] for name, _ in hr}) == [
        "adjustments",
        "reallocations",
        "reviews",
    ]
    assert all(loops == 1 for _, loops in hr), hr
    # The manager's page holds only their reports' agreements: one descent each.
    assert any(loops > 1 for _, loops in child_scans(w.manager))
