"""The insights as a whole HTTP request: `crafting serve` (2 workers) on a database holding
a real log of about a million events for 100,000 people, its read models built by the
service's own log followers, answering for HR (a) the dashboard query: every one-shot
table's rows, each monthly series' totals and one team's rows (`rows(groups:)`), and
(b) the Insights web page with that team chosen (`?team=`): target p95 < 1 s; printed
beside them, (c) the dashboard's first request after a person joined that team (the
kept answer computed again, infra.kept_insights), (d) the old query of every row and
(e) the dashboard while a person joins every second (requests answered while the kept
answer is refreshed behind them).

    python -m bench.insights_served [--people 100000] [--agreements N] [--requests 20]
        [--changes 5] [--old-requests 5] [--database-url postgresql://...] [--database DIR]

The log (bench.organisation: the real aggregates, encoded, sealed and tagged by the
service's own mapper, bulk-inserted by bench.seeding) is written once into
`--database` (default /tmp/crafting-insights-served-v<READ_MODEL_VERSION>-<people>-
<agreements>/, SQLite) and kept: a second run starts the service on it at once. On
PostgreSQL a fresh schema is seeded and dropped at the end.

Printed beside the served figures, measured in the same run: the same read of every
table without HTTP or GraphQL (`Reads.insights`, the port the query calls, in this
process), and the full computation from the log (`figures.compute` over
`facts.read_facts`, labels opened), whose tables the served answer must equal."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import secrets
import shutil
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from strawberry.types.base import StrawberryList, StrawberryOptional, has_object_definition
from strawberry.types.private import is_private
from strawberry.utils.str_converters import to_camel_case

from api.graphql.insights.types import Insights as InsightsType
from api.graphql.insights.types import InsightTable
from api.graphql.insights.types import insights as as_graphql
from api.graphql.insights.types import row as selected_row
from api.http.auth import mint_token
from api.ports import Ports
from api.web.sessions import mint_link
from bench.commands_e2e import cpu_seconds, serving
from bench.organisation import Organisation
from bench.rebuild_throughput import fresh_schema
from bench.seeding import seed_store
from bench.web_pages import caught_up
from domain.access import Role
from domain.person import Person
from domain.sealing import opened_in
from infra import migrations
from infra.bootstrap import Container, bootstrap
from infra.kept_insights import KeptInsights
from infra.settings import Settings
from infra.signing import events_key
from projections.insights.facts import read_facts, with_texts_opened
from projections.insights.figures import Insights, compute
from projections.queries import live_read_model
from projections.tables import READ_MODEL_VERSION

HR = "hr-bench"
MINIMUM = 5  # CRAFTING_INSIGHTS_MIN_GROUP's default


def selection(kind: Any) -> str:
    """Every field of a strawberry type, nested: the query asks for all of it."""
    while isinstance(kind, StrawberryOptional | StrawberryList):
        kind = kind.of_type
    if not has_object_definition(kind):
        return ""
    fields = []
    for field in kind.__strawberry_definition__.fields:
        if is_private(field.type):  # kept by the object, not in the schema
            continue
        inner = selection(field.type)
        fields.append(f"{to_camel_case(field.python_name)}{' { ' + inner + ' }' if inner else ''}")
    return " ".join(fields)


QUERY = f"query {{ insights {{ {selection(InsightsType)} }} }}"
ROW = "group suppressed count others value"
TABLE = f"counts measure rows {{ {ROW} }} total {{ {ROW} }} suppressedRows"
MONTHS = (
    f"month table {{ counts measure total {{ {ROW} }} suppressedRows "
    f"rows(groups: $teams) {{ {ROW} }} }}"
)
SERIES = ("participationByMonth", "developmentTimeByMonth", "reviewsByMonth", "outcomesByMonth")
ONE_SHOT = [
    "participation",
    "developmentTime",
    "hoursGiven",
    "hoursReceived",
    "outcomesByTeam",
    "outcomesByTargetRole",
    "reviews",
    "skillsTargeted",
    "skillsEvidenced",
]
# A dashboard: every one-shot table's rows, each monthly series' totals and one team's
# rows (as the web page shows them); `consistentWith` lets (c) wait for a change.
DASHBOARD = (
    "query($teams: [String!], $p: Int) { insights(consistentWith: $p) { minimumGroupSize asOf "
    + " ".join(f"{t} {{ {TABLE} }}" for t in ONE_SHOT)
    + " "
    + " ".join(f"{s} {{ {MONTHS} }}" for s in SERIES)
    + " fairnessRefusalsRecorded } }"
)
ADD_PERSON = """mutation($input: UpsertPeopleInput!) { upsertPeople(input: $input) {
  position userErrors { message } } }"""


def as_served(found: Insights) -> dict[str, Any]:
    """The GraphQL answer these tables give (field names, enums and dates as JSON has
    them), without `asOf`: each request has its own instant."""

    def plain(value: Any) -> Any:
        if isinstance(value, InsightTable):  # `rows` answered from the released rows
            whole = {"rows": [plain(selected_row(r)) for r in value.released]}
            return whole | fields(value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return fields(value)
        if isinstance(value, list):
            return [plain(v) for v in value]
        if isinstance(value, Enum):
            return value.name
        if isinstance(value, datetime | date):
            return value.isoformat()
        return value

    def fields(value: Any) -> dict[str, Any]:
        shown = [f.name for f in dataclasses.fields(value) if f.name not in ("released", "rows")]
        return {to_camel_case(name): plain(getattr(value, name)) for name in shown}

    answer = plain(as_graphql(found))
    answer.pop("asOf")
    return json.loads(json.dumps(answer))


def full_computation(container: Container, now: datetime) -> Insights:
    """Every table from the log, as the reference has it (the integration test's way):
    the facts read, their target roles and skills opened, then computed."""
    keys = container.keys
    with container.engines.reader.connect() as conn, keys.reading_on(conn):
        facts = with_texts_opened(
            read_facts(conn, live_read_model(conn)), lambda texts: opened_in(texts, keys)
        )
    return compute(facts, MINIMUM, now)


# --- the log ---------------------------------------------------------------------------


def seed(url: str, args: argparse.Namespace) -> int:
    """The organisation's year, sealed and tagged as the service writes it; then the
    erased people's keys destroyed, as `ErasePerson` destroys them."""
    container = bootstrap(Settings(database_url=url))
    try:
        migrations.upgrade(container.engines.writer)
        began, shown = time.perf_counter(), [0.0]
        # Everyone's key at once (one insert per person would take minutes on SQLite).
        container.keys.store.make_keys([f"p{i:06d}" for i in range(args.people)])

        def progress(done: int) -> None:
            if time.perf_counter() - shown[0] > 30:
                shown[0] = time.perf_counter()
                print(f"  {done:,} events ({shown[0] - began:.0f} s)", flush=True)

        written = seed_store(
            container,
            sys.maxsize,  # the organisation's year is finite
            chunk=5000,
            people=args.people,
            seed=args.seed,
            sealed=True,
            tag=events_key(container.settings),
            make=partial(Organisation, agreements=args.agreements),
            on_progress=progress,
        )
        person_of = {Person.id_for(f"p{i:06d}"): f"p{i:06d}" for i in range(args.people)}
        erased = [
            person_of[n.originator_id]
            for n in container.app.recorder.select_notifications(
                1, sys.maxsize, topics=[f"{Person.__module__}:Person.PersonErased"]
            )
        ]
        for pid in erased:
            container.keys.destroy(pid)
        print(
            f"seeded {written:,} events, {len(erased)} people erased, in "
            f"{time.perf_counter() - began:.0f} s"
        )
        return written
    finally:
        container.close()


@contextmanager
def database(args: argparse.Namespace) -> Iterator[str]:
    """The database URL, its log written (once, on SQLite)."""
    if args.database_url:
        with fresh_schema(args.database_url, keep=False) as url:
            seed(url, args)
            yield url
        return
    folder = args.database or Path(
        f"/tmp/crafting-insights-served-v{READ_MODEL_VERSION}-{args.people}-{args.agreements}"
    )
    url = f"sqlite:///{folder / 'crafting.db'}"
    # The data keys are wrapped by this run's master key (bench/__init__.py makes one per
    # run): kept with the database, so a later run's service opens the same texts.
    master = folder / "master-key"
    if not (folder / "seeded").exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        master.write_text(os.environ["CRAFTING_MASTER_KEY"])
        master.chmod(0o600)
        print(f"writing the log into {folder} (once)")
        (folder / "seeded").write_text(str(seed(url, args)))
    os.environ["CRAFTING_MASTER_KEY"] = master.read_text()
    yield url


# --- timing ------------------------------------------------------------------------------


def head(url: str) -> int:
    """The log's last position: the read models are built when the projector is there."""
    container = bootstrap(Settings(database_url=url))
    try:
        return container.app.recorder.max_notification_id() or 0
    finally:
        container.close()


def timed(call: Callable[[], Any], runs: int) -> list[float]:
    took = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        took.append(time.perf_counter() - start)
    return took


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def line(name: str, took: list[float]) -> str:
    return (
        f"  {name}: p50 {statistics.median(took):.3f} s  p95 {p95(took):.3f} s  "
        f"max {max(took):.3f} s  (n={len(took)})"
    )


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--agreements", type=int, default=None, help="default 1.2 per person")
    parser.add_argument("--requests", type=int, default=20, help="timed, of each kind")
    parser.add_argument("--warm-up", type=int, default=3)
    parser.add_argument("--changes", type=int, default=5, help="(c): changes, each timed")
    parser.add_argument(
        "--change-every", type=float, default=1.0, help="(e): seconds between changes"
    )
    parser.add_argument("--old-requests", type=int, default=5, help="(d): the every-row query")
    parser.add_argument("--baseline-runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=30)
    parser.add_argument("--database", type=Path, default=None, help="SQLite folder (kept)")
    parser.add_argument("--database-url", default=None, help="PostgreSQL (a fresh schema)")
    parser.add_argument(
        "--server-code",
        default=None,
        help="the service's code from this tree (PYTHONPATH; run the bench from another "
        "directory): e.g. main from `git archive`, to compare on the same database",
    )
    args = parser.parse_args(argv)
    args.agreements = args.agreements or args.people * 6 // 5
    began_load = load()
    secret = secrets.token_urlsafe(32)
    with database(args) as url:
        settings = {"CRAFTING_INSIGHTS_MIN_GROUP": str(MINIMUM)}
        if args.server_code:
            settings["PYTHONPATH"] = args.server_code
        with serving(url, secret, args.workers, settings) as server:
            started = time.perf_counter()
            caught_up(url, head(url), timeout=6 * 3600)
            built = time.perf_counter() - started
            token = mint_token(secret, HR, [Role.HR], timedelta(hours=2))
            sync = mint_token(secret, "sync-bench", [Role.INTEGRATION], timedelta(hours=2))
            api = httpx.Client(base_url=server.base, timeout=120)
            page = httpx.Client(base_url=server.base, timeout=120)
            signed_in = page.post(f"/login/{mint_link(secret, HR, [Role.HR])}")
            assert signed_in.status_code == 303, signed_in.text[:300]

            def graphql(query: str = QUERY) -> dict[str, Any] | None:
                """The answer; None when the service refuses it as too large (the
                every-row answer at 100,000 people is more than its response limit)."""
                answer = api.post(
                    "/graphql",
                    json={"query": query},
                    headers={"authorization": f"Bearer {token}"},
                )
                assert answer.status_code == 200, answer.text[:300]
                body: dict[str, Any] = answer.json()
                codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
                if codes == ["RESPONSE_TOO_LARGE"]:
                    return None
                assert not body.get("errors"), answer.text[:500]
                return body

            def dashboard(consistent_with: int | None = None) -> dict[str, Any]:
                variables = {"teams": [team], "p": consistent_with}
                answer = api.post(
                    "/graphql",
                    json={"query": DASHBOARD, "variables": variables},
                    headers={"authorization": f"Bearer {token}"},
                )
                assert answer.status_code == 200, answer.text[:300]
                body: dict[str, Any] = answer.json()
                assert not body.get("errors"), answer.text[:500]
                sizes.append(len(answer.content))
                return body

            def web() -> None:
                answer = page.get("/insights", params={"team": team})
                assert answer.status_code == 200, answer.text[:300]
                assert f"The monthly tables show {team}" in answer.text, answer.text[:300]
                page_sizes.append(len(answer.content))

            def change(n: int, client: httpx.Client = api) -> int:
                """A person joins the chosen team (participation's `others` and the
                directory's history change); the log position it was recorded at."""
                pid = f"bench-joiner-{os.getpid()}-{n}"
                person: dict[str, Any] = {"id": pid, "displayName": f"Joiner {n}"}
                person |= {"email": f"{pid}@example.com", "teamId": team}
                person |= {"contractedHoursPerWeek": 40}
                answer = client.post(
                    "/graphql",
                    json={"query": ADD_PERSON, "variables": {"input": {"people": [person]}}},
                    headers={"authorization": f"Bearer {sync}"},
                ).json()
                assert answer["data"]["upsertPeople"]["userErrors"] == [], answer
                return int(answer["data"]["upsertPeople"]["position"])

            sizes: list[int] = []
            page_sizes: list[int] = []
            # The team a dashboard looks at: a team released today (the first such).
            teams = graphql("{ insights { participation { rows { group count } } } }")
            assert teams is not None
            first = teams["data"]["insights"]
            team = next(r["group"] for r in first["participation"]["rows"] if r["count"])
            for _ in range(args.warm_up):
                dashboard()
                web()
            # An answer computed within the key cache time of its position appearing is
            # kept only that long (infra.kept_insights): warm past it, as a quiet service is.
            time.sleep(6)
            for _ in range(2):
                dashboard()
                web()
            pids = server.tree()
            cpu_before = sum(cpu_seconds(p) for p in pids)
            served: list[float] = []
            pages: list[float] = []
            for _ in range(args.requests):  # alternated: both meet the same moments
                served += timed(dashboard, 1)
                pages += timed(web, 1)
            cpu = (sum(cpu_seconds(p) for p in pids) - cpu_before) / (2 * args.requests)
            # (c) the first request after a change: recorded, then the dashboard asked
            # consistent with it (it waits for the projector, then computes again).
            after_change: list[float] = []
            waited: list[float] = []
            for n in range(args.changes):
                position = change(n)
                start = time.perf_counter()
                caught_up(url, position, timeout=600)
                waited.append(time.perf_counter() - start)
                after_change += timed(partial(dashboard, position), 1)
            # (e) dashboards while the tables keep moving: a person joins the team every
            # `--change-every` seconds, the requests do not ask consistentWith (a refresh
            # runs behind them, infra.kept_insights).
            stop = threading.Event()
            written = [0]  # the last change's position

            def changing() -> None:
                n = args.changes
                with httpx.Client(base_url=server.base, timeout=120) as own:
                    while not stop.wait(args.change_every):
                        written[0] = max(written[0], change(n, own))
                        n += 1

            writer = threading.Thread(target=changing)
            writer.start()
            try:
                moving = timed(dashboard, args.requests)
            finally:
                stop.set()
                writer.join()
            # Consistent with the last change (an answer may stand in for a few seconds):
            # the answer compared below, and kept for (d)'s.
            chosen = dashboard(written[0] or None)["data"]["insights"]
            # (d) the old query, every row of every table and month, for information.
            old = timed(graphql, args.old_requests)
            every_row = graphql()
            answer = None if every_row is None else every_row["data"]["insights"]
            settings_here = Settings(
                database_url=url, jwt_secret=secret, insights_min_group=MINIMUM
            )
            container = bootstrap(settings_here)
            try:
                reads = Ports.of(container).reads

                def computed() -> Insights:
                    # Not kept between calls: each call reads and releases every table.
                    uncached = dataclasses.replace(reads, kept_insights=KeptInsights(0.0))
                    return uncached.insights(HR, "all", datetime.now(UTC))

                port = timed(computed, args.requests)
                now = datetime.now(UTC)
                reference = full_computation(container, now)
                full = timed(lambda: full_computation(container, now), args.baseline_runs)
                events = container.app.recorder.max_notification_id() or 0
            finally:
                container.close()
    expected = as_served(reference)
    equal = True
    if answer is not None:
        answer.pop("asOf")
        equal = answer == expected
    # The dashboard's rows are the full answer's: its tables whole, one team's months.
    for series in SERIES:
        for month, whole in zip(chosen[series], expected[series], strict=True):
            whole_rows = whole["table"]["rows"]
            whole["table"]["rows"] = [r for r in whole_rows if r["group"] == team]
            equal = equal and month == whole
    equal = equal and all(chosen[t] == expected[t] for t in ONE_SHOT)
    backend = "PostgreSQL" if args.database_url else "SQLite"
    if args.server_code:
        print(f"\nthe service's code: {args.server_code}")
    print(
        f"\ninsights served over HTTP: {args.people:,} people, {args.agreements:,} agreements, "
        f"{events:,} events, {backend}, crafting serve --workers {args.workers} "
        f"({datetime.now(UTC):%Y-%m-%d %H:%M} UTC; load {began_load} before, {load()} after)"
    )
    print(f"  read models caught up {built:.1f} s after the service answered")
    print(f"  the chosen team: {team}")
    print(
        line("(a) GraphQL dashboard (all tables, months' totals + one team), whole request", served)
        + f"  {statistics.median(sizes) / 1e6:.2f} MB"
    )
    print(
        line("(b) web page /insights?team=, whole request", pages)
        + f"  {statistics.median(page_sizes) / 1e6:.2f} MB"
    )
    print(f"  server CPU per request (a and b): {cpu * 1000:.0f} ms")
    print(line("(c) dashboard, first request after a person joined the team", after_change))
    print(line("    (before it: waiting for the projector to apply the change)", waited))
    print(
        line(
            f"(e) dashboard while a person joins every {args.change_every:g} s (no consistentWith)",
            moving,
        )
    )
    refused = " (refused: RESPONSE_TOO_LARGE)" if answer is None else ""
    print(line(f"(d) the old query: every row of every table and month{refused}", old))
    print(line("baseline: Reads.insights computed in this process (not kept)", port))
    print(line("baseline: full computation from the log (read_facts + compute)", full))
    verdict = "met" if max(p95(served), p95(pages), p95(moving)) < 1 else "NOT met"
    print(f"  target p95 < 1 s for (a), (b) and (e): {verdict}")
    print(
        "  served answers (d's every row unless refused; a's tables, the team's months) "
        "equal the "
        f"full computation's: {'yes' if equal else 'NO'}"
    )
    if not equal:
        Path("/tmp/insights-served-answer.json").write_text(json.dumps(answer or chosen, indent=1))
        Path("/tmp/insights-served-reference.json").write_text(
            json.dumps(as_served(reference), indent=1)
        )
        print("  (both written to /tmp/insights-served-{answer,reference}.json)")
    return 0 if equal else 1


if __name__ == "__main__":
    raise SystemExit(main())
