"""HRIS read: `agreements(first: 100)` with employee, adjustments, reallocations and
latest review, at 20 concurrent connections — `crafting serve` against PostGraphile 4
over the same read tables, in the same run.

Seeds N agreements (default 10,000) through the real aggregates, projects them, then
loads each server with wrk for the same time, walking the same pages. See
bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import psycopg
from psycopg import sql
from rich.console import Console

from api.http.auth import mint_token
from bench.commands_e2e import (
    MemoryWatch,
    Server,
    cpu_seconds,
    free_port,
    serving,
    spawn_group,
    stop_group,
    tail,
)
from bench.rebuild_throughput import fresh_schema, progress_bar, vacuum
from bench.report import machine_lines, postgres_cpu_seconds
from bench.seeding import seed_store
from domain.values import Role
from infra.bootstrap import bootstrap
from infra.settings import Settings
from projections.queries import live_read_model

console = Console(stderr=True)

OURS = """query Sync($after: String) {
  agreements(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id agreementId employeeId approvedByManagerId status title version
      developmentHoursPerWeek nextReviewOn createdAt updatedAt
      careerGoal { targetRole skills targetDate }
      guardrails { maxDevelopmentHoursPerWeek protectedResponsibilities reviewEveryDays endsOn }
      employee { personId displayName email managerId teamId contractedHoursPerWeek active }
      adjustments { id changeId kind description hoursPerWeek startsOn endsOn status }
      reallocations { id changeId task hoursPerWeek fromPersonId toPersonId effectiveOn
                      reason status }
      latestReview { id heldOn outcome notes nextReviewOn heldBy }
    } }
  }
}"""

# The same fields from PostGraphile's reflection of the same tables (smart comments
# name the relations, see `postgraphile_comments`).
THEIRS = """query Sync($after: Cursor) {
  allAgreements(first: 100, after: $after, orderBy: CREATED_POSITION_ASC) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      nodeId agreementId employeeId approvedByManagerId status title version
      developmentHours nextReviewOn createdAt updatedAt
      targetRole skills targetDate guardrails
      employee { personId displayName email managerId teamId contractedHoursPerWeek active }
      adjustments(orderBy: [POSITION_ASC, SEQ_ASC]) { nodes {
        adjustmentId changeId kind description hoursPerWeek startsOn endsOn status } }
      reallocations(orderBy: POSITION_ASC) { nodes {
        reallocationId changeId task hoursPerWeek fromPersonId toPersonId effectiveOn
        reason status } }
      latestReview: reviews(first: 1, orderBy: POSITION_DESC) { nodes {
        reviewId heldOn outcome notes nextReviewOn heldBy } }
    } }
  }
}"""


@dataclass
class Load:
    label: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    peak_rss_mib: float | None = None
    server_cpu_ms: float | None = None  # CPU of the server's processes per request
    postgres_cpu_ms: float | None = None  # CPU of the local PostgreSQL per request
    # CPU per request of the PostgreSQL backends serving this server's connections
    # alone (the column above counts every postgres process, other sessions' too).
    backends_cpu_ms: float | None = None


# --- data -------------------------------------------------------------------------------


def seed(url: str, agreements: int, live: int) -> int:
    """Seed until `agreements` are proposed, project everything; the events written."""
    container = bootstrap(Settings(database_url=url, jwt_secret=secrets.token_urlsafe(48)))
    try:
        with progress_bar() as bar:
            task = bar.add_task(f"seeding {agreements:,} agreements", total=None)
            written = seed_store(
                container,
                10**9,
                live=live,
                agreements=agreements,
                on_progress=lambda done: bar.update(task, completed=done),
            )
        vacuum(container)
        runner = container.projector
        container.prepare()
        with progress_bar() as bar:
            task = bar.add_task("projecting", total=runner.lag() or None)
            container.rebuild(
                lambda position, head: bar.update(task, completed=position, total=head)
            )
        with container.engines.reader.begin() as conn:
            rm = live_read_model(conn)
            conn.exec_driver_sql("ANALYZE")
            count = conn.exec_driver_sql(f"SELECT count(*) FROM {rm.agreements.name}").scalar()
        console.print(f"seeded {written:,} events, {count:,} agreements")
        return written
    finally:
        container.close()


def postgraphile_comments(url: str) -> None:
    """Smart comments, so PostGraphile names the tables and relations as we do (it reads
    relations from foreign keys; the read tables have none, as a projection's tables
    are written in any order)."""
    base, schema = url.split("?schema=")
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        generation = conn.execute(
            "SELECT generation FROM crafting_projection_state WHERE name = 'read_model'"
        ).fetchone()
        assert generation is not None
        p = f"rm{generation[0]}_"
        comments = {
            "agreements": f"@name agreements\n@foreignKey (employee_id) references {p}people "
            "(person_id)|@fieldName employee|@foreignFieldName agreements",
            "people": "@name people",
            "adjustments": f"@name adjustments\n@foreignKey (agreement_id) references "
            f"{p}agreements (agreement_id)|@fieldName agreement|@foreignFieldName adjustments",
            "reallocations": f"@name reallocations\n@foreignKey (agreement_id) references "
            f"{p}agreements (agreement_id)|@fieldName agreement|@foreignFieldName reallocations",
            "reviews": f"@name reviews\n@foreignKey (agreement_id) references "
            f"{p}agreements (agreement_id)|@fieldName agreement|@foreignFieldName reviews",
        }
        for other in ("changes", "artifacts", "audit_log"):
            comments[other] = "@omit"
        for (table,) in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema]
        ).fetchall():
            comment = comments.get(table.removeprefix(p)) if table.startswith(p) else "@omit"
            statement = sql.SQL("COMMENT ON TABLE {} IS {}")
            conn.execute(statement.format(sql.Identifier(table), sql.Literal(comment or "@omit")))


# --- servers ----------------------------------------------------------------------------


@contextmanager
def postgraphile(url: str, workers: int) -> Iterator[Server]:
    """`npx postgraphile@4` on the schema, with `workers` cluster workers."""
    base, schema = url.split("?schema=")
    port = free_port()
    log = Path(f"/tmp/hris_read_postgraphile_{port}.log")
    command = ["npx", "--yes", "postgraphile@4", "-c", base, "--schema", schema]
    command += ["--host", "127.0.0.1", "--port", str(port), "--disable-query-log"]
    command += ["--disable-graphiql", "--disable-default-mutations", "--no-ignore-rbac"]
    command += ["--cluster-workers", str(workers)]
    process = spawn_group(command, log)
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"postgraphile exited; see {log}:\n{tail(log)}")
            try:
                answer = httpx.post(
                    server.base + "/graphql", json={"query": "{ __typename }"}, timeout=2
                )
                if answer.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"postgraphile not up after 120 s; see {log}")
            time.sleep(0.5)
        time.sleep(2)  # every cluster worker listening
        yield server
    finally:
        stop_group(process)


def post(base: str, token: str | None, query: str, variables: dict[str, Any]) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = httpx.post(
        base + "/graphql",
        json={"query": query, "variables": variables},
        headers=headers,
        timeout=60,
    )
    answer.raise_for_status()
    body = answer.json()
    if body.get("errors"):
        raise RuntimeError(f"{base}: {body['errors']}")
    return body["data"]


def page_cursors(base: str, token: str | None, query: str, root: str, pages: int) -> list[Any]:
    """The `after` of the first `pages` pages (None for the first), walking the list."""
    cursors: list[Any] = [None]
    while len(cursors) < pages:
        info = post(base, token, query, {"after": cursors[-1]})[root]["pageInfo"]
        if not info["hasNextPage"]:
            break
        cursors.append(info["endCursor"])
    return cursors


def same_pages(ours: Any, theirs: Any) -> None:
    """Both servers return the same agreements, in the same order, with as many
    children: the two queries are equivalent."""

    def shape(edges: list[Any], kids: dict[str, Any]) -> list[tuple[Any, ...]]:
        return [
            (
                e["node"]["agreementId"],
                e["node"]["employee"]["personId"] if e["node"]["employee"] else None,
                *(kids[k](e["node"]) for k in ("adjustments", "reallocations", "latestReview")),
            )
            for e in edges
        ]

    mine = shape(
        ours["agreements"]["edges"],
        {
            "adjustments": lambda n: len(n["adjustments"]),
            "reallocations": lambda n: len(n["reallocations"]),
            "latestReview": lambda n: n["latestReview"]["id"] if n["latestReview"] else None,
        },
    )
    other = shape(
        theirs["allAgreements"]["edges"],
        {
            "adjustments": lambda n: len(n["adjustments"]["nodes"]),
            "reallocations": lambda n: len(n["reallocations"]["nodes"]),
            "latestReview": lambda n: (
                n["latestReview"]["nodes"][0]["reviewId"] if n["latestReview"]["nodes"] else None
            ),
        },
    )
    if mine != other:
        raise RuntimeError("the two servers disagree on the first page")
    if len(mine) != 100:
        raise RuntimeError(f"expected 100 agreements on the first page, got {len(mine)}")


# --- load -------------------------------------------------------------------------------

LUA = """
local bodies = {BODIES}
local headers = {HEADERS}
local i = math.random(#bodies)
request = function()
  i = i % #bodies + 1
  return wrk.format("POST", "/graphql", headers, bodies[i])
end
"""


def wrk(
    base: str,
    token: str | None,
    query: str,
    cursors: list[Any],
    connections: int,
    seconds: float,
    label: str,
) -> Load:
    """wrk with `connections` connections over the pages in turn; parses its report."""
    bodies = [json.dumps({"query": query, "variables": {"after": c}}) for c in cursors]
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    lua = LUA.replace("{BODIES}", "{" + ", ".join(_lua(b) for b in bodies) + "}")
    lua = lua.replace(
        "{HEADERS}", "{" + ", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in headers.items()) + "}"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua)
    try:
        command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds:g}s"]
        command += ["--timeout", "30s", "--latency", "-s", script.name, base]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    return _parse_wrk(out, label)


def _lua(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def _parse_wrk(out: str, label: str) -> Load:
    latency = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.MULTILINE))
    parts = {k: re.fullmatch(r"([\d.]+)(\w+)", v) for k, v in latency.items()}
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket = re.search(r"Socket errors: .*", out)
    if not (rate and total and parts.get("50") and parts.get("99")):
        raise RuntimeError(f"cannot read wrk's report:\n{out}")
    p50, p99 = parts["50"], parts["99"]
    assert p50 is not None
    assert p99 is not None
    if socket:
        console.print(f"[yellow]{label}: {socket.group(0)}[/]")
    return Load(
        label,
        float(rate.group(1)),
        _ms(*p50.groups()),
        _ms(*p99.groups()),
        int(total.group(1)),
        int(errors.group(1)) if errors else 0,
    )


def measured(
    server: Server, auth: str | None, query: str, root: str, label: str, args: argparse.Namespace
) -> Load:
    """Warm up, then the measured load, with the server's peak RSS and the CPU seconds
    per request of its processes and of the local PostgreSQL (what dominates)."""
    cursors = page_cursors(server.base, auth, query, root, args.pages)
    wrk(server.base, auth, query, cursors, args.connections, args.warmup, "warm-up")
    with MemoryWatch(server) as memory:
        pids = server.tree()
        database = args.database_url.split("?")[0]
        backends = {pid: cpu_seconds(pid) for pid in server_backends(pids, database)}
        ours, theirs = sum(map(cpu_seconds, pids)), postgres_cpu_seconds()
        load = wrk(server.base, auth, query, cursors, args.connections, args.seconds, label)
        ours = sum(map(cpu_seconds, pids)) - ours
        theirs = postgres_cpu_seconds() - theirs
        for pid in server_backends(pids, database) - backends.keys():
            backends[pid] = 0.0  # opened during the load: all its CPU counts
        own = sum(cpu_seconds(pid) - before for pid, before in backends.items())
    load.peak_rss_mib = memory.peak_kib / 1024
    load.server_cpu_ms = ours / max(load.requests, 1) * 1000
    load.postgres_cpu_ms = theirs / max(load.requests, 1) * 1000
    load.backends_cpu_ms = own / max(load.requests, 1) * 1000
    return load


def server_backends(pids: list[int], database: str) -> set[int]:
    """The PostgreSQL backends (pids) at the other end of the TCP connections that
    the processes `pids` hold open (their sockets' local ports, in pg_stat_activity)."""
    inodes: set[str] = set()
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    ports: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[9] in inodes:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    if not ports:
        return set()
    with psycopg.connect(database, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE client_port = ANY(%s)", [sorted(ports)]
        ).fetchall()
    return {int(row[0]) for row in rows}


# --- the run ----------------------------------------------------------------------------


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add = parser.add_argument
    add("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    add("--agreements", type=int, default=10_000)
    add("--live", type=int, default=2000, help="agreements in progress at once while seeding")
    add("--connections", type=int, default=20)
    add("--workers", type=int, default=2, help="worker processes of each server")
    add("--seconds", type=float, default=20.0)
    add("--warmup", type=float, default=3.0)
    add("--pages", type=int, default=20, help="pages the load walks in turn")
    add(
        "--skip-resolvers",
        action="store_true",
        help="do not also measure our server with CRAFTING_COMPILED_READS=0",
    )
    add("--keep", action="store_true", help="keep the schema")
    add(
        "--schema",
        help="measure on this schema kept by an earlier run (--keep) instead of seeding a "
        "fresh one; it is kept (both trees of an alternating comparison read the same tables)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    for tool in ("wrk", "npx"):
        if shutil.which(tool) is None:
            console.print(f"[red]{tool} is not installed (see bench/README.md)[/]")
            return 2
    secret = uuid4().hex + uuid4().hex
    token = mint_token(secret, f"hris-{uuid4().hex[:6]}", [Role.INTEGRATION], timedelta(hours=2))
    loads: list[Load] = []
    with _schema(args) as url:
        events = _events(url) if args.schema else seed(url, args.agreements, args.live)
        postgraphile_comments(url)

        with postgraphile(url, args.workers) as theirs:
            first_theirs = post(theirs.base, None, THEIRS, {"after": None})
            loads.append(measured(theirs, None, THEIRS, "allAgreements", "PostGraphile", args))
        serve = {"CRAFTING_SERVE_PROJECTIONS": "0"}
        with serving(url, secret, args.workers, serve) as ours:
            same_pages(post(ours.base, token, OURS, {"after": None}), first_theirs)
            label = "crafting (compiled)"
            loads.append(measured(ours, token, OURS, "agreements", label, args))
        if not args.skip_resolvers:
            serve |= {"CRAFTING_COMPILED_READS": "0"}
            with serving(url, secret, args.workers, serve) as ours:
                label = "crafting (resolvers)"
                loads.append(measured(ours, token, OURS, "agreements", label, args))
        summary(args, events, loads, url.split("?")[0])
    return 1 if any(x.errors for x in loads) else 0


@contextmanager
def _schema(args: argparse.Namespace) -> Iterator[str]:
    """A fresh schema, or the kept one named by --schema (never dropped)."""
    if args.schema:
        yield f"{args.database_url.split('?')[0]}?schema={args.schema}"
        return
    with fresh_schema(args.database_url, args.keep) as url:
        yield url


def _events(url: str) -> int:
    """The events a kept schema holds (its seeding's count, for the report)."""
    base, schema = url.split("?schema=")
    with psycopg.connect(base) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        found = conn.execute("SELECT max(notification_id) FROM crafting_events").fetchone()
    return int(found[0] or 0) if found else 0


def summary(args: argparse.Namespace, events: int, loads: list[Load], database: str) -> None:
    baseline = loads[0]
    print("\n## HRIS read: agreements(first: 100) with employee, adjustments, reallocations,")
    print("## latest review — crafting serve vs PostGraphile 4, same tables, same run\n")
    print(*machine_lines(database), sep="\n")
    print(
        f"- {args.agreements:,} agreements ({events:,} events); {args.connections} connections "
        f"(wrk -t2), {args.seconds:g} s after {args.warmup:g} s warm-up, {args.workers} worker "
        f"processes each, {args.pages} pages in turn"
    )
    print(f"- command: python -m bench.hris_read {' '.join(sys.argv[1:])}\n")
    print(
        "| server | requests/s | p50 ms | p99 ms | vs PostGraphile | peak RSS MiB "
        "| CPU ms/request: server, PostgreSQL (all), its backends | errors |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for x in loads:
        ratio = x.requests_per_second / baseline.requests_per_second
        rss = f"{x.peak_rss_mib:.0f}" if x.peak_rss_mib is not None else "-"
        cpu = f"{x.server_cpu_ms or 0:.1f}, {x.postgres_cpu_ms or 0:.1f}"
        cpu += f", {x.backends_cpu_ms or 0:.2f}"
        print(
            f"| {x.label} | {x.requests_per_second:,.1f} | {x.p50_ms:.1f} | {x.p99_ms:.1f} "
            f"| {ratio:.2f}x | {rss} | {cpu} | {x.errors} |"
        )
    print("\nTarget: at least 1.0x PostGraphile (goal 3x).")


if __name__ == "__main__":
    sys.exit(main())
